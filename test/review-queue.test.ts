// The review queue end to end over the server: a decision that goes to review opens an item in the
// same transaction and answers with its id; reviewers (their own keys) take items under leases and
// decide them; a settling decision is feedback of kind override, an audit event and a signed webhook
// to the caller; high stakes need two reviewers and disagreement goes to a senior; an SLA breach
// escalates once with one alert; nothing is lost across a restart.
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/index.js';
import { startTestBallast, startTestBallastIn, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const secret = `whsec_${Buffer.from('review-queue-test-signing-key!!').toString('base64')}`;
process.env.REVIEW_HOOK_SECRET = secret;

interface Received {
  readonly valid: boolean;
  readonly body: Record<string, unknown>;
}

let hook: { url: string; received: Received[]; server: Server };

beforeAll(async () => {
  const received: Received[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ valid: verifyWebhook(req.headers as Record<string, string>, text, secret).valid, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  hook = { url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/reviews`, received, server };
});

afterAll(async () => {
  await new Promise<void>((resolve) => hook.server.close(() => resolve()));
});

function config(review = ''): string {
  return testConfigYaml()
    .replace("action: review, reason: 'Large amounts need a human' }", "action: review, reason: 'Large amounts need a human', stakes: high }")
    .replace('    live: v1\n', `    live: v1\n    review:\n      webhook: { url: ${JSON.stringify(hook.url)}, secret: REVIEW_HOOK_SECRET }\n${review}`);
}

describe('the review queue over the server', () => {
  let t: TestBallast;
  const tokens: Record<string, string> = {};

  async function start(yaml = config()) {
    t = await startTestBallast(yaml, { auth: 'keys' });
    for (const [principal, role] of [
      ['app', 'decider'],
      ['ana', 'reviewer'],
      ['bo', 'reviewer'],
      ['cy', 'senior-reviewer'],
      ['audrey', 'auditor'],
    ] as const) {
      tokens[principal] = (await t.server.keys.create({ principal, role, kind: principal === 'app' ? 'workload' : 'person' }, { actor: { principal: 'local:test', keyId: null, role: 'admin' } })).token;
    }
  }
  afterEach(async () => {
    await t?.close();
    hook.received.length = 0;
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
    t.server.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const decide = (input: Record<string, unknown>) => call('app', 'POST', '/v1/services/loans/decisions', { input });
  const deliver = async () => {
    await t.runtime.monitoring.dispatcher.deliverDue();
  };

  it('opens an item with the decision, and the caller hears the override by webhook and by polling', async () => {
    await start();
    const answer = await decide({ text: 'unsure case', amount: 500, certainty: 0.5 });
    expect(answer.statusCode).toBe(200);
    const decision = answer.json();
    expect(decision.outcome).toBe('review');
    expect(decision.review).toMatchObject({ id: expect.stringMatching(/^rvw_/), priority: 0, requiredReviews: 1 });
    const dueIn = Date.parse(decision.review.dueAt) - Date.parse(decision.createdAt);
    expect(dueIn).toBe(24 * 3_600_000);
    // In the store with the decision, open.
    const stored = await t.runtime.store.reviews.get(decision.review.id);
    expect(stored).toMatchObject({ decisionId: decision.id, state: 'open', kind: 'decision', reasons: decision.reasons });

    // The caller sees status, not the input.
    const status = await call('app', 'GET', `/v1/reviews/${decision.review.id}`);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ state: 'open', outcome: null });
    expect(status.json().decision).toBeUndefined();
    // The caller may not work the queue.
    expect((await call('app', 'POST', '/v1/reviews/next')).statusCode).toBe(403);

    const claimed = await call('ana', 'POST', '/v1/reviews/next');
    expect(claimed.statusCode).toBe(200);
    expect(claimed.json()).toMatchObject({ id: decision.review.id, state: 'claimed', lease: { holder: 'ana' }, decision: { input: { text: 'unsure case', amount: 500 }, output: { label: 'approve' }, suggestionHidden: false } });
    // Nothing else to take.
    expect((await call('bo', 'POST', '/v1/reviews/next')).statusCode).toBe(204);
    // Taking it showed ana the input: audited.
    expect(await t.runtime.store.audit.list({ limit: 10, action: 'review.claimed' })).toMatchObject([{ actor: { principal: 'ana' }, resource: { kind: 'review', id: decision.review.id } }]);

    // A bad verdict is refused with pointers, and writes nothing.
    const bad = await call('ana', 'POST', `/v1/reviews/${decision.review.id}/decision`, { decision: 'override', rationale: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues.map((i: { pointer: string }) => i.pointer).sort()).toEqual(['/label', '/rationale']);
    // Someone without the lease cannot decide.
    expect((await call('bo', 'POST', `/v1/reviews/${decision.review.id}/decision`, { decision: 'accept' })).json()).toMatchObject({ status: 409, code: 'REVIEW_LEASE_LOST' });

    const decided = await call('ana', 'POST', `/v1/reviews/${decision.review.id}/decision`, { decision: 'override', label: { label: 'deny', score: 0.2 }, rationale: 'income not verified' });
    expect(decided.statusCode).toBe(200);
    expect(decided.json()).toMatchObject({ state: 'decided', outcome: { verdict: 'override', output: { label: 'deny', score: 0.2 }, reviewers: ['ana'], rationale: 'income not verified' } });

    // The override is feedback on the decision, never an edit of it.
    const feedback = await t.runtime.store.feedback.listForDecision(decision.id);
    expect(feedback).toMatchObject([{ kind: 'override', value: { label: 'deny', score: 0.2 }, source: 'ana', note: 'income not verified', supersedes: null }]);
    expect(decided.json().outcome.feedbackId).toBe(feedback[0]!.id);
    expect((await t.runtime.store.decisions.get(decision.id))?.output).toEqual({ label: 'approve', score: 0.9 });
    // Audited with the reviewer as actor.
    const events = await t.runtime.store.audit.list({ limit: 100, action: 'review.decided' });
    expect(events).toMatchObject([{ actor: { principal: 'ana', role: 'reviewer' }, resource: { kind: 'review', id: decision.review.id }, service: 'loans' }]);

    // The caller polls the outcome...
    expect((await call('app', 'GET', `/v1/reviews/${decision.review.id}`)).json()).toMatchObject({ state: 'decided', outcome: { verdict: 'override', output: { label: 'deny' } } });
    // ...and hears it by a signed webhook, once.
    await deliver();
    await deliver();
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({ valid: true, body: { type: 'review.decided', id: decision.review.id, decisionId: decision.id, verdict: 'override', output: { label: 'deny' }, modelOutput: { label: 'approve' }, feedbackId: feedback[0]!.id } });
  });

  it('needs two reviewers on a high-stakes item; their disagreement goes to a senior, who settles it', async () => {
    await start();
    await decide({ text: 'fine', amount: 100, certainty: 0.5 });
    const big = (await decide({ text: 'fine', amount: 300_000 })).json();
    expect(big.outcome).toBe('review');
    expect(big.review).toMatchObject({ priority: 10, requiredReviews: 2 });
    // High stakes first, although it came second.
    const first = (await call('ana', 'POST', '/v1/reviews/next')).json();
    expect(first.id).toBe(big.review.id);
    expect((await call('ana', 'POST', `/v1/reviews/${big.review.id}/decision`, { decision: 'accept' })).json()).toMatchObject({ state: 'open', outcome: null });
    // ana decided it already: her next item is the other one.
    expect((await call('ana', 'POST', '/v1/reviews/next')).json().id).not.toBe(big.review.id);
    expect((await call('bo', 'POST', '/v1/reviews/next')).json().id).toBe(big.review.id);
    const split = await call('bo', 'POST', `/v1/reviews/${big.review.id}/decision`, { decision: 'override', label: { label: 'deny', score: 0.3 }, rationale: 'too much for this income' });
    expect(split.json()).toMatchObject({ state: 'escalated', escalationRole: 'senior-reviewer', outcome: null });
    // No feedback, no webhook yet: nothing is final.
    expect(await t.runtime.store.feedback.listForDecision(big.id)).toEqual([]);
    expect(await t.runtime.store.audit.list({ limit: 10, action: 'review.escalated' })).toHaveLength(1);
    // Reviewers cannot take it; the senior can.
    expect((await call('bo', 'POST', '/v1/reviews/next')).statusCode).toBe(204);
    const senior = await call('cy', 'POST', '/v1/reviews/next');
    expect(senior.json()).toMatchObject({ id: big.review.id, decisions: [{ reviewer: 'ana' }, { reviewer: 'bo' }] });
    const settled = await call('cy', 'POST', `/v1/reviews/${big.review.id}/decision`, { decision: 'accept', rationale: 'income documents are in order' });
    expect(settled.json()).toMatchObject({ state: 'decided', outcome: { verdict: 'accept', output: { label: 'approve', score: 0.9 }, reviewers: ['ana', 'bo', 'cy'] } });
    expect(await t.runtime.store.feedback.listForDecision(big.id)).toMatchObject([{ kind: 'override', value: { label: 'approve', score: 0.9 }, source: 'cy' }]);

    const stats = (await call('audrey', 'GET', '/v1/reviews/stats?service=loans')).json();
    expect(stats).toMatchObject({ settled: 1, accepted: 1, overridden: 0, overrideRate: 0, queue: { claimed: 1, decided: 1, open: 0, escalated: 0 } });
    expect(stats.reviewers).toMatchObject([
      { reviewer: 'ana', decisions: 1, accepts: 1, agreementWithModel: 1 },
      { reviewer: 'bo', decisions: 1, overrides: 1, agreementWithModel: 0 },
      { reviewer: 'cy', decisions: 1, accepts: 1, agreementWithModel: 1 },
    ]);
  });

  it('hides the suggestion until the reviewer has decided, when the service asks for it', async () => {
    await start(config('      hideSuggestion: true\n'));
    const d = (await decide({ text: 'unsure', amount: 700, certainty: 0.4 })).json();
    const claimed = (await call('ana', 'POST', '/v1/reviews/next')).json();
    expect(claimed.decision).toMatchObject({ input: { text: 'unsure', amount: 700 }, suggestionHidden: true });
    expect(claimed.decision.output).toBeUndefined();
    expect(claimed.decision.confidence).toBeUndefined();
    const after = (await call('ana', 'POST', `/v1/reviews/${d.review.id}/decision`, { decision: 'accept' })).json();
    expect(after.decision).toMatchObject({ suggestionHidden: false, output: { label: 'approve' }, confidence: 0.4 });
  });

  it('escalates a breached SLA exactly once, with one alert and one webhook, however many sweeps run', async () => {
    await start(config('      sla: 1s\n'));
    const d = (await decide({ text: 'late', amount: 800, certainty: 0.5 })).json();
    expect(await t.server.reviews.sweep()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Sweeps asked for while one runs join it (another replica's would find the breach taken: the store's test).
    expect(await Promise.all([t.server.reviews.sweep(), t.server.reviews.sweep(), t.server.reviews.sweep()])).toEqual([1, 1, 1]);
    expect(await t.server.reviews.sweep()).toBe(0);
    expect(await t.runtime.store.reviews.get(d.review.id)).toMatchObject({ state: 'escalated', escalationRole: 'senior-reviewer', slaBreachedAt: expect.any(String) });
    const alerts = (await call('audrey', 'GET', '/v1/alerts?service=loans')).json();
    expect(alerts.alerts ?? alerts.items ?? alerts).toMatchObject([{ rule: 'review-sla', monitor: 'review_sla', segment: d.review.id, state: 'firing' }]);
    expect(await t.runtime.store.audit.list({ limit: 10, action: 'review.sla_breached' })).toHaveLength(1);
    await deliver();
    expect(hook.received.map((r) => [r.valid, r.body.type, r.body.id])).toEqual([[true, 'review.sla_breached', d.review.id]]);
    // The senior settles it, and the alert resolves.
    await call('cy', 'POST', '/v1/reviews/next');
    await call('cy', 'POST', `/v1/reviews/${d.review.id}/decision`, { decision: 'accept' });
    expect(await t.runtime.store.alerts.listActive('loans')).toEqual([]);
    expect((await call('audrey', 'GET', '/v1/reviews/stats?service=loans')).json().queue.slaBreaches).toBe(1);
  });

  // The monitors read the label at /label (the output's enum is not a contract category here).
  const labelled = () => config('    monitoring:\n      outputLabel: /label\n');

  it('takes an appeal to a reviewer other than the one who decided, records the re-decision and tells the subject', async () => {
    await start(labelled());
    const d = (await decide({ text: 'unsure', amount: 900, certainty: 0.5 })).json();
    await call('ana', 'POST', '/v1/reviews/next');
    await call('ana', 'POST', `/v1/reviews/${d.review.id}/decision`, { decision: 'override', label: { label: 'deny', score: 0.1 }, rationale: 'no proof of income' });
    // A bad appeal is refused with a pointer; a good one opens an item.
    expect((await call('app', 'POST', `/v1/decisions/${d.id}/appeals`, { statement: ' ' })).json()).toMatchObject({ status: 400, issues: [{ pointer: '/statement' }] });
    const filed = await call('app', 'POST', `/v1/decisions/${d.id}/appeals`, { statement: 'I sent my payslips last week', reference: 'case-118' });
    expect(filed.statusCode).toBe(201);
    const appeal = filed.json();
    expect(appeal).toMatchObject({ kind: 'appeal', decisionId: d.id, state: 'open', priority: 5, detail: { statement: 'I sent my payslips last week', filedBy: 'subject', reference: 'case-118', appealOf: d.review.id } });
    // It contests ana's answer, not the model's.
    expect(appeal.detail.appealed).toMatchObject({ output: { label: 'deny', score: 0.1 }, by: 'override' });
    expect(Date.parse(appeal.dueAt) - Date.parse(appeal.createdAt)).toBe(7 * 86_400_000);
    expect((await call('app', 'POST', `/v1/decisions/${d.id}/appeals`, { statement: 'again' })).json()).toMatchObject({ status: 409, code: 'APPEAL_PENDING' });
    expect(await t.runtime.store.audit.list({ limit: 10, action: 'appeal.filed' })).toMatchObject([{ actor: { principal: 'app' }, resource: { id: appeal.id }, after: { excludedReviewers: ['ana'] } }]);
    // ana decided this decision before: the appeal is not hers to judge.
    expect((await call('ana', 'POST', '/v1/reviews/next')).statusCode).toBe(204);
    expect((await call('bo', 'POST', '/v1/reviews/next')).json()).toMatchObject({ id: appeal.id, decision: { input: { amount: 900 } } });
    const overturned = await call('bo', 'POST', `/v1/reviews/${appeal.id}/decision`, { decision: 'override', label: { label: 'approve', score: 0.8 }, rationale: 'payslips verified' });
    expect(overturned.json()).toMatchObject({ state: 'decided', outcome: { verdict: 'override', output: { label: 'approve' } } });
    const feedback = await t.runtime.store.feedback.listForDecision(d.id);
    // Filing was a complaint (outcome feedback, written with the item), the re-decision supersedes ana's answer.
    expect(feedback.map((f) => [f.kind, f.source])).toEqual([['override', 'ana'], ['outcome', 'app'], ['appeal', 'bo']]);
    expect(feedback[1]!.value).toEqual({ complaint: true, appeal: appeal.id });
    expect(feedback[2]!.supersedes).toBe(feedback[0]!.id);
    expect(overturned.json().outcome).toMatchObject({ overturned: true, appealed: { output: { label: 'deny' } } });
    expect((await call('app', 'GET', `/v1/decisions/${d.id}/appeals`)).json().appeals).toMatchObject([{ id: appeal.id, state: 'decided', outcome: { verdict: 'override' } }]);
    await deliver();
    expect(hook.received.map((r) => [r.valid, r.body.type, r.body.id])).toEqual([
      [true, 'review.decided', d.review.id],
      [true, 'appeal.decided', appeal.id],
    ]);
    expect(hook.received[1]!.body).toMatchObject({ output: { label: 'approve' }, appealed: { output: { label: 'deny' }, by: 'override' }, overturned: true });
    // The monitors count it: one decision, overridden and complained about; one appeal decided, overturned.
    const results = await t.runtime.monitoring.hub.evaluate('loans', 'all');
    const monitor = (name: string) => results.filter((r) => r.segment === undefined).flatMap((r) => r.evaluations).find((e) => e.monitor === name)!;
    expect(monitor('override_rate').values).toMatchObject({ numerator: 1, denominator: 1 });
    expect(monitor('complaint_rate').values).toMatchObject({ numerator: 1, denominator: 1 });
    expect(monitor('appeal_overturn_rate')).toMatchObject({ observed: 'unknown', samples: 1, values: { numerator: 1, denominator: 1 } });
    const stats = (await call('audrey', 'GET', '/v1/reviews/stats?service=loans')).json();
    expect(stats.appeals).toEqual({ settled: 1, overturned: 1, overturnRate: 1 });
    expect(stats).toMatchObject({ settled: 1, overridden: 1 });
  });

  it('hides the answer an appeal contests under hideSuggestion until the reviewer decided', async () => {
    await start(config('      hideSuggestion: true\n'));
    const d = (await decide({ text: 'fine', amount: 100 })).json();
    const appeal = (await call('app', 'POST', `/v1/decisions/${d.id}/appeals`, { statement: 'please look again' })).json();
    const taken = (await call('bo', 'POST', '/v1/reviews/next')).json();
    expect(taken.id).toBe(appeal.id);
    expect(taken.decision.suggestionHidden).toBe(true);
    expect(taken.detail.appealed).toEqual({ by: 'model', feedbackId: null, outputHidden: true });
    const decided = (await call('bo', 'POST', `/v1/reviews/${appeal.id}/decision`, { decision: 'accept' })).json();
    expect(decided.outcome).toMatchObject({ verdict: 'accept', output: { label: 'approve' }, overturned: false });
  });

  it("upholds the answer appealed on an accept: a reviewer's override stands, the model's answer does not come back", async () => {
    await start(labelled());
    const d = (await decide({ text: 'unsure', amount: 900, certainty: 0.5 })).json();
    await call('ana', 'POST', '/v1/reviews/next');
    await call('ana', 'POST', `/v1/reviews/${d.review.id}/decision`, { decision: 'override', label: { label: 'deny', score: 0.1 }, rationale: 'no proof of income' });
    const appeal = (await call('app', 'POST', `/v1/decisions/${d.id}/appeals`, { statement: 'please look again' })).json();
    await call('bo', 'POST', '/v1/reviews/next');
    const upheld = (await call('bo', 'POST', `/v1/reviews/${appeal.id}/decision`, { decision: 'accept', rationale: 'the income proof is still missing' })).json();
    expect(upheld.outcome).toMatchObject({ verdict: 'accept', output: { label: 'deny', score: 0.1 }, overturned: false });
    const feedback = await t.runtime.store.feedback.listForDecision(d.id);
    expect(feedback.at(-1)).toMatchObject({ kind: 'appeal', value: { label: 'deny', score: 0.1 }, source: 'bo' });
    expect((await call('audrey', 'GET', '/v1/reviews/stats?service=loans')).json().appeals).toEqual({ settled: 1, overturned: 0, overturnRate: 0 });
    const results = await t.runtime.monitoring.hub.evaluate('loans', 'all');
    const overturn = results.filter((r) => r.segment === undefined).flatMap((r) => r.evaluations).find((e) => e.monitor === 'appeal_overturn_rate')!;
    expect(overturn.values).toMatchObject({ numerator: 0, denominator: 1 });
  });

  it('in advisory mode sends every model verdict to a human and says which threshold would have been safe', async () => {
    await start(config().replace('    policy:\n', '    policy:\n      advisory: true\n'));
    // Confident and right (the reviewers accept), and confident-ish and wrong (they override).
    for (let i = 0; i < 40; i++) {
      const certainty = i < 30 ? 0.9 + (i % 10) / 100 : 0.81 + (i % 5) / 100;
      const d = (await decide({ text: `case ${i}`, amount: 500, certainty })).json();
      expect(d.outcome).toBe('review');
      expect(d.reasons[0]).toMatchObject({ kind: 'advisory', code: 'advisory_auto' });
      await call('ana', 'POST', '/v1/reviews/next');
      const verdict = i < 30 ? { decision: 'accept' } : { decision: 'override', label: { label: 'deny', score: 0.2 }, rationale: 'wrong' };
      expect((await call('ana', 'POST', `/v1/reviews/${d.review.id}/decision`, verdict)).statusCode).toBe(200);
    }
    // A sanctions rule still rejects: advisory mode is about the model, not the rules.
    expect((await decide({ text: 'x', amount: 500, country: 'XX' })).json().outcome).toBe('rejected');
    const report = (await call('audrey', 'GET', '/v1/services/loans/advisory?maxErrorRate=0.15&minDecisions=10')).json();
    expect(report).toMatchObject({ decisions: 40, agreed: 30, agreement: 0.75 });
    expect(report.bands.find((b: { from: number }) => b.from === 0.9)).toMatchObject({ decisions: 30, agreed: 30 });
    expect(report.bands.find((b: { from: number }) => Math.abs(b.from - 0.8) < 1e-9)).toMatchObject({ decisions: 10, agreed: 0 });
    // Above 0.9 all 30 agree: the Wilson upper bound of 0/30 is 11.35%, under 15%.
    expect(report.recommendation).toMatchObject({ threshold: 0.9, automated: 30, errors: 0 });
    expect(report.recommendation.errorUpper).toBeCloseTo(0.1135, 4);
    expect((await call('app', 'GET', '/v1/services/loans/advisory')).statusCode).toBe(403);
  });

  it('hands 20 items to 50 concurrent claims exactly once each', async () => {
    await start();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await decide({ text: `case ${i}`, amount: 600, certainty: 0.5 })).json().review.id);
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => call(i % 2 === 0 ? 'ana' : 'bo', 'POST', '/v1/reviews/next')));
    // One reviewer may hold many items, but no item is held twice.
    const taken = claims.filter((c) => c.statusCode === 200).map((c) => c.json().id as string);
    expect(taken).toHaveLength(20);
    expect(new Set(taken)).toEqual(ids);
    expect(claims.filter((c) => c.statusCode === 204)).toHaveLength(30);
    // Paging: a full last page says there is no next one.
    const first = (await call('audrey', 'GET', '/v1/reviews?service=loans&limit=15')).json();
    expect([first.items.length, first.next]).toEqual([15, first.items[14].id]);
    const second = (await call('audrey', 'GET', `/v1/reviews?service=loans&limit=5&after=${first.next}`)).json();
    expect([second.items.length, second.next]).toEqual([5, null]);
  });
});

describe('the review queue across restarts', () => {
  it('keeps items, leases and decisions; an expired lease puts the item back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-review-'));
    try {
      const yaml = config('      lease: 1s\n');
      let t = await startTestBallastIn(dir, yaml);
      const post = (url: string, body?: unknown) => t.server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body ?? {}) });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await post('/v1/services/loans/decisions', { input: { text: `case ${i}`, amount: 600, certainty: 0.5 } })).json().review.id);
      const held = (await post('/v1/reviews/next')).json().id as string;
      await post(`/v1/reviews/${held}/release`);
      const one = (await post('/v1/reviews/next')).json().id as string;
      await post(`/v1/reviews/${one}/decision`, { decision: 'accept' });
      const leased = (await post('/v1/reviews/next')).json().id as string;
      await t.close();

      t = await startTestBallastIn(dir, yaml);
      const all = await t.runtime.store.reviews.list({ limit: 100 });
      expect(all.map((i) => i.id).sort()).toEqual([...ids].sort());
      expect(all.find((i) => i.id === one)?.state).toBe('decided');
      expect(all.find((i) => i.id === leased)?.state).toBe('claimed');
      await t.close();

      // Once its lease ran out, the item is free again, after a second restart.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      t = await startTestBallastIn(dir, yaml);
      const taken: string[] = [];
      for (;;) {
        const next = await post('/v1/reviews/next');
        if (next.statusCode === 204) break;
        taken.push(next.json().id as string);
      }
      expect(taken.sort()).toEqual(ids.filter((id) => id !== one).sort());
      await t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
