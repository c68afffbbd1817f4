import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

let ballast: TestBallast;
beforeAll(async () => {
  ballast = await startTestBallast();
});
afterAll(async () => {
  await ballast.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function decide(input: Json, extra: Json = {}): Promise<{ status: number; body: Json }> {
  const response = await ballast.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input, ...extra } });
  return { status: response.statusCode, body: response.json() };
}

async function get(url: string): Promise<{ status: number; body: Json }> {
  const response = await ballast.server.app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.json() };
}

const reasonCodes = (body: Json) => (body.reasons as Json[]).map((r) => `${r.kind}:${r.code}`);

describe('the decision path end to end', () => {
  it('decides auto above the threshold and explains it', async () => {
    const { status, body } = await decide({ text: 'good customer', amount: 500, certainty: 0.93 });
    expect(status).toBe(200);
    expect(body.id).toMatch(/^dec_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(body.outcome).toBe('auto');
    expect(body.version).toBe('v1');
    expect(body.output).toEqual({ label: 'approve', score: 0.9 });
    expect(body.confidence).toBe(0.93);
    expect(body.explanation.thresholds).toEqual({ auto: 0.8, reject: 0.2 });
    expect(body.explanation.attributions.map((a: Json) => a.token)).toEqual(['good', 'customer']);
    expect(body.explanation.contractVersion).toBe(3);
    for (const stage of ['validate', 'pre_rules', 'route', 'invoke', 'post_rules', 'decide', 'explain', 'record']) {
      expect(body.timings[stage], stage).toBeGreaterThanOrEqual(0);
    }
  });

  it('sends an unsure answer to review and a very unsure one is rejected, saying why', async () => {
    const review = await decide({ text: 'hmm', amount: 500, certainty: 0.5 });
    expect(review.body.outcome).toBe('review');
    expect(reasonCodes(review.body).some((c) => c.startsWith('threshold:'))).toBe(true);
    expect(JSON.stringify(review.body.reasons)).toContain('0.8');
    const rejected = await decide({ text: 'hmm', amount: 500, certainty: 0.1 });
    expect(rejected.body.outcome).toBe('rejected');
  });

  it('a pre rule that rejects skips the model', async () => {
    const { body } = await decide({ text: 'x', amount: 500, country: 'XX' });
    expect(body.outcome).toBe('rejected');
    expect(body.version).toBeNull();
    expect(body.timings.invoke).toBeUndefined();
    expect(body.explanation.rules.map((r: Json) => r.name)).toEqual(['sanctioned']);
    expect(reasonCodes(body)).toContain('rule:sanctioned');
  });

  it('a high-stakes pre rule forces review even when the model is sure', async () => {
    const { body } = await decide({ text: 'fine', amount: 300_000, certainty: 0.99 });
    expect(body.outcome).toBe('review');
    expect(reasonCodes(body)).toContain('rule:large-amount');
  });

  it('a post rule overrides the output and keeps what the model said', async () => {
    const { body } = await decide({ text: 'bad bad', amount: 500, certainty: 0.95 }, { context: { vip: true } });
    expect(body.output.label).toBe('approve');
    expect(body.explanation.modelOutput.label).toBe('deny');
    expect(body.explanation.rules.map((r: Json) => `${r.name}:${r.action}`)).toContain('vip:override');
  });

  it('a flag rule and quality flags are recorded without changing the outcome', async () => {
    const { body } = await decide({ text: 'ok', amount: 1000, country: 'JP', certainty: 0.95 });
    expect(body.outcome).toBe('auto');
    expect(body.explanation.rules.map((r: Json) => r.name)).toContain('round-amount');
    expect(body.explanation.quality.map((q: Json) => `${q.field}:${q.code}`)).toContain('country:unseen_category');
    const low = await decide({ text: 'ok', amount: 50, certainty: 0.95 });
    expect(low.body.explanation.quality.map((q: Json) => q.code)).toContain('out_of_range');
  });

  it('a model that throws, hangs or breaks the output contract degrades to review, never a 5xx', async () => {
    for (const [text, code] of [['throw', 'MODEL_ERROR'], ['hang', 'UPSTREAM_TIMEOUT'], ['invalid', 'CONTRACT_INVALID_OUTPUT']] as const) {
      const started = Date.now();
      const { status, body } = await decide({ text, amount: 500 });
      expect(status, text).toBe(200);
      expect(body.outcome, text).toBe('review');
      expect(body.output, text).toBeNull();
      expect(body.explanation.modelError.code, text).toBe(code);
      expect(Date.now() - started, text).toBeLessThan(3000);
    }
  });

  it('GET returns the recorded decision with its explanation, redacted input and feedback', async () => {
    const { body: made } = await decide({ text: 'good', amount: 500, email: 'alice@example.com', certainty: 0.9 }, { subjectKey: 'customer-42' });
    const { status, body } = await get(`/v1/decisions/${made.id}?view=raw`);
    expect(status).toBe(200);
    expect(body.outcome).toBe('auto');
    expect(body.explanation.reasons).toEqual(made.reasons);
    expect(body.input.text).toBe('good');
    expect(body.input.email).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(body.subjectHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(body.feedback).toEqual([]);
    expect((await get('/v1/decisions/dec_nope')).status).toBe(404);
  });

  it('never writes a pii value or a subject key to the database file', async () => {
    await decide({ text: 'plain', amount: 500, email: 'secret.person@example.org' }, { subjectKey: 'subject-key-xyz' });
    await ballast.runtime.store.flush();
    const bytes = readdirSync(ballast.dir)
      .filter((f) => f.startsWith('ballast.db'))
      .map((f) => readFileSync(path.join(ballast.dir, f)).toString('latin1'))
      .join('');
    expect(bytes).toContain('plain');
    expect(bytes).not.toContain('secret.person@example.org');
    expect(bytes).not.toContain('subject-key-xyz');
  });

  it('keeps feedback append-only, with corrections pointing at what they correct', async () => {
    const { body: made } = await decide({ text: 'good', amount: 500 });
    const post = (payload: Json) => ballast.server.app.inject({ method: 'POST', url: `/v1/decisions/${made.id}/feedback`, payload });
    const first = await post({ kind: 'label', value: { label: 'deny' }, source: 'ops' });
    expect(first.statusCode).toBe(201);
    const second = await post({ kind: 'label', value: { label: 'approve' }, supersedes: first.json().id, note: 'typo' });
    expect(second.statusCode).toBe(201);
    const outcome = await post({ kind: 'outcome', value: { repaid: true } });
    expect(outcome.statusCode).toBe(201);
    const bad = await post({ kind: 'vibe', value: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].pointer).toBe('/kind');
    const wrongTarget = await post({ value: { label: 'deny' }, supersedes: 'fb_unknown' });
    expect(wrongTarget.statusCode).toBe(400);
    const missing = await ballast.server.app.inject({ method: 'POST', url: '/v1/decisions/dec_missing/feedback', payload: { value: 1 } });
    expect(missing.statusCode).toBe(404);
    const { body } = await get(`/v1/decisions/${made.id}`);
    expect(body.feedback.map((f: Json) => [f.kind, f.value, f.supersedes])).toEqual([
      ['label', { label: 'deny' }, null],
      ['label', { label: 'approve' }, first.json().id],
      ['outcome', { repaid: true }, null],
    ]);
  });

  it('lists and describes services, and serves its OpenAPI document', async () => {
    const list = await get('/v1/services');
    expect(list.body.services.map((s: Json) => [s.name, s.live])).toEqual([['loans', 'v1']]);
    const one = await get('/v1/services/loans');
    expect(one.body.policy.rules.map((r: Json) => r.name)).toEqual(['sanctioned', 'large-amount', 'vip', 'round-amount']);
    expect((await get('/v1/services/nope')).status).toBe(404);
    const doc = await get('/v1/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.components.schemas['loans.input'].required).toEqual(['text', 'amount']);
    for (const [p, methods] of Object.entries(doc.body.paths as Record<string, Json>)) {
      for (const method of Object.keys(methods)) {
        // A service's own typed path (/v1/services/loans/decisions) is served by the templated route.
        const url = p.replace(/^\/v1\/services\/[a-z][a-z0-9-]*\/decisions$/, '/v1/services/{service}/decisions').replace(/\{(\w+)\}/g, ':$1');
        expect(ballast.server.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${url}`).toBe(true);
      }
    }
  });

  it('reports health and readiness', async () => {
    expect((await get('/healthz')).body.status).toBe('ok');
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.store).toBe('ok');
  });
});

describe('an override that breaks the output contract', () => {
  it('is caught by the contract, recorded as an output problem, and sent to review', async () => {
    const yaml = testConfigYaml({ extraRules: `        - { name: broken-override, stage: post, when: 'input.text == "override me"', action: override, set: { label: '"maybe"' } }` });
    const other = await startTestBallast(yaml);
    try {
      const response = await other.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'override me', amount: 500, certainty: 0.99 } } });
      const body = response.json();
      expect(response.statusCode).toBe(200);
      expect(body.outcome).toBe('review');
      expect(body.output).toBeNull();
      expect(body.explanation.outputIssues.map((i: Json) => `${i.pointer} ${i.code}`)).toEqual(['/label enum']);
      expect(body.explanation.modelOutput).toEqual({ label: 'approve', score: 0.9 });
    } finally {
      await other.close();
    }
  });
});
