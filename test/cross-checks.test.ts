// Cross-checks on the decision path: a second model (or CEL rules) answers beside the served one and
// the policy says what a disagreement does. Real module adapters, the real pipeline and a real clock.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BallastError } from '../src/errors/index.js';
import { createDecisionPipeline, createService, type DecisionRecord, type ServiceConfig } from '../src/pipeline/index.js';
import { sampledIn } from '../src/pipeline/stages/cross-check-stages.js';
import type { CrossCheckConfig } from '../src/policy/index.js';
import { request } from 'undici';
import { startTestBallast, keywordModelPath, testConfigYaml } from './helpers/test-ballast.js';

const checkerPath = fileURLToPath(new URL('./fixtures/checker-model.mjs', import.meta.url));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.allSettled(closers.map((close) => close()));
});

const contract: ServiceConfig['contract'] = {
  version: 1,
  input: { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' }, certainty: { type: 'number' }, amount: { type: 'number' } } } },
  output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { enum: ['approve', 'deny'] }, score: { type: 'number' } } } },
};

interface Setup {
  readonly checks: readonly CrossCheckConfig[];
  readonly checker?: Record<string, unknown>;
  readonly checkerTimeoutMs?: number;
  readonly deadlineMs?: number;
  readonly rules?: NonNullable<ServiceConfig['policy']['rules']>;
  readonly contract?: ServiceConfig['contract'];
  readonly fallback?: NonNullable<NonNullable<ServiceConfig['resilience']>['fallback']>;
  /** A third version (the keyword model again), for fallback steps. */
  readonly third?: boolean;
  readonly qualityBreaker?: boolean;
}

function config(setup: Setup): ServiceConfig {
  return {
    contract: setup.contract ?? contract,
    policy: { thresholds: { auto: 0.8 }, rules: setup.rules ?? [], crossChecks: setup.checks },
    models: {
      v1: { adapter: { kind: 'module', path: keywordModelPath, export: 'createModel' }, timeoutMs: 2000 },
      second: { adapter: { kind: 'module', path: checkerPath, export: 'createModel', options: setup.checker ?? {} }, timeoutMs: setup.checkerTimeoutMs ?? 2000 },
      ...(setup.third === true ? { third: { adapter: { kind: 'module', path: keywordModelPath, export: 'createModel' }, timeoutMs: 2000 } } : {}),
    },
    live: 'v1',
    resilience: {
      breaker: { enabled: false },
      ...(setup.deadlineMs === undefined ? {} : { deadlineMs: setup.deadlineMs }),
      ...(setup.fallback === undefined ? {} : { fallback: setup.fallback }),
      ...(setup.qualityBreaker === true ? { qualityBreaker: { accuracyFloor: 0.9 } } : {}),
    },
  };
}

async function pipelineFor(setup: Setup) {
  const service = await createService('loans', config(setup), { adapterContext: { baseDir: process.cwd(), secrets: {} }, redactionKey: 'k' });
  const services = new Map([['loans', service]]);
  closers.push(() => service.close());
  const records: DecisionRecord[] = [];
  let n = 0;
  const pipeline = createDecisionPipeline({
    services,
    sink: { append: async (record) => void records.push(record) },
    newId: () => `dec_${String(++n).padStart(8, '0')}`,
    hashSubject: (k) => k,
  });
  const decide = async (input: Record<string, unknown>) => {
    const started = performance.now();
    const decision = await pipeline.decide({ service: 'loans', input });
    return { decision, elapsed: performance.now() - started, record: records.at(-1)! };
  };
  return { decide, records, service };
}

const second = (more: Partial<CrossCheckConfig> = {}): CrossCheckConfig => ({ name: 'second', version: 'second', agree: { '/label': 'equal' }, ...more });

describe('a version checker', () => {
  it('agrees: the answer stands, the explanation lists the check, no reason is added', async () => {
    const { decide } = await pipelineFor({ checks: [second()] });
    const { decision, record } = await decide({ text: 'a fine loan' });
    expect(decision.outcome).toBe('auto');
    const [check] = decision.explanation.crossChecks ?? [];
    expect(check).toMatchObject({ name: 'second', kind: 'version', version: 'second', verdict: 'agree', fields: [{ field: '/label', agree: true, served: 'approve', checker: 'approve' }], output: { label: 'approve', score: 0.85 }, confidence: 0.7 });
    expect(check?.attempts?.[0]).toMatchObject({ version: 'second', code: null });
    // The checker's call is its own: the decision's attempts are the served model's only.
    expect(decision.explanation.attempts?.map((a) => a.version)).toEqual(['v1']);
    expect(decision.reasons.some((r) => r.kind === 'cross_check')).toBe(false);
    expect(record.explanation.crossChecks?.[0]?.verdict).toBe('agree');
    expect(decision.timings.checkers).toBeTypeOf('number');
    expect(decision.timings.cross_check).toBeTypeOf('number');
  });

  it.each([
    ['review', 'review', 'review'],
    ['reject', 'rejected', 'rejected'],
    ['flag', 'auto', 'none'],
  ] as const)('disagrees with onDisagree %s: outcome %s', async (onDisagree, outcome, effect) => {
    const { decide } = await pipelineFor({ checks: [second({ onDisagree })], checker: { word: 'prize' } });
    const { decision } = await decide({ text: 'win a prize' });
    expect(decision.outcome).toBe(outcome);
    expect(decision.explanation.crossChecks?.[0]).toMatchObject({ verdict: 'disagree', action: onDisagree, fields: [{ field: '/label', agree: false, served: 'approve', checker: 'deny' }] });
    const reason = decision.reasons.find((r) => r.kind === 'cross_check');
    expect(reason).toMatchObject({ code: 'disagreement', checker: 'second', effect });
    expect(reason?.message).toContain('/label');
  });

  it('prefer: the preferred checker answers a disagreement, and the decision is recorded under its version', async () => {
    const { decide } = await pipelineFor({ checks: [second({ onDisagree: 'prefer', prefer: 'second' })], checker: { word: 'prize', confidence: 0.95 } });
    const { decision } = await decide({ text: 'win a prize' });
    expect(decision.output).toEqual({ label: 'deny', score: 0.2 });
    expect(decision.version).toBe('second');
    expect(decision.confidence).toBe(0.95);
    expect(decision.reasons.find((r) => r.kind === 'cross_check')).toMatchObject({ code: 'preferred', effect: 'none' });
    // Agreeing, the served answer stands.
    const agreed = await decide({ text: 'a fine loan' });
    expect(agreed.decision.version).toBe('v1');
  });

  it("is filed by the monitors under the version it overruled when its answer is preferred", async () => {
    const { decide } = await pipelineFor({ checks: [second({ onDisagree: 'prefer', prefer: 'second' })], checker: { word: 'prize' } });
    const { record } = await decide({ text: 'win a prize' });
    expect(record.version).toBe('second');
    expect(record.explanation.crossChecks?.[0]).toMatchObject({ against: 'v1', verdict: 'disagree' });
  });

  it('a fallback step of its own version is not compared with itself', async () => {
    const counter = `__selfCheck${Math.random()}`;
    const { decide } = await pipelineFor({ checks: [second()], checker: { delayMs: 1500, counter }, fallback: [{ version: 'second' }] });
    const { decision, elapsed } = await decide({ text: 'throw' });
    // The routed model failed at once; the fallback step (second, 1.5 s) answered. The checker's own call of the same
    // version, started first, had answered too: it is not compared (it would agree with itself).
    expect(decision.explanation.fallback?.answeredBy).toMatchObject({ kind: 'version', name: 'second' });
    expect(decision.explanation.crossChecks).toBeUndefined();
    expect(elapsed).toBeGreaterThan(1400);
    expect((globalThis as Record<string, unknown>)[counter]).toBe(2);
    expect(decision.reasons.some((r) => r.kind === 'cross_check')).toBe(false);
  });

  it('whose answer will not be compared (a rules step answered) is stopped at once', async () => {
    const counter = `__orphan${Math.random()}`;
    const { decide } = await pipelineFor({ checks: [second()], checker: { delayMs: 5000, counter }, fallback: [{ static: { label: 'deny', score: 0 } }] });
    const { decision, elapsed } = await decide({ text: 'throw' });
    expect(decision.explanation.fallback?.answeredBy?.kind).toBe('static');
    expect(decision.explanation.crossChecks).toBeUndefined();
    expect(elapsed).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((globalThis as Record<string, unknown>)[`${counter}:aborted`]).toBe(1);
  });

  it("runs after a fallback version answered when the routed version's quality breaker kept it from starting", async () => {
    const { decide, service } = await pipelineFor({ checks: [second()], third: true, qualityBreaker: true, fallback: [{ version: 'third' }] });
    service.versions.get('v1')!.quality!.forceOpen('test');
    const { decision } = await decide({ text: 'a fine loan' });
    expect(decision.version).toBe('third');
    expect(decision.explanation.crossChecks?.[0]).toMatchObject({ name: 'second', against: 'third', verdict: 'agree' });
  });

  it('runs beside the served model, not after it', async () => {
    const { decide } = await pipelineFor({ checks: [second()], checker: { delayMs: 300 } });
    await decide({ text: 'warm up' });
    const { decision, elapsed } = await decide({ text: 'slow300' });
    expect(decision.explanation.crossChecks?.[0]?.verdict).toBe('agree');
    // Sequential would take 600 ms or more.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(550);
  });

  it('that times out degrades the check, not the answer', async () => {
    const { decide } = await pipelineFor({ checks: [second()], checker: { delayMs: 5000 }, checkerTimeoutMs: 150 });
    const { decision, elapsed } = await decide({ text: 'a fine loan' });
    expect(decision.outcome).toBe('auto');
    expect(decision.output).toEqual({ label: 'approve', score: 0.9 });
    expect(decision.explanation.crossChecks?.[0]).toMatchObject({ verdict: 'unavailable', error: { code: 'UPSTREAM_TIMEOUT' }, fields: [] });
    expect(decision.reasons.find((r) => r.kind === 'cross_check')).toMatchObject({ code: 'checker_unavailable', effect: 'none' });
    expect(elapsed).toBeLessThan(1000);
  });

  it('slower than the request deadline is cut at the deadline', async () => {
    const { decide } = await pipelineFor({ checks: [second()], checker: { delayMs: 5000 }, deadlineMs: 300 });
    const { decision, elapsed } = await decide({ text: 'a fine loan' });
    expect(decision.outcome).toBe('auto');
    expect(decision.explanation.crossChecks?.[0]?.verdict).toBe('unavailable');
    expect(elapsed).toBeLessThan(300 + 200);
  });

  it('that throws is unavailable; the decision is made as without it', async () => {
    const { decide } = await pipelineFor({ checks: [second({ onDisagree: 'reject' })], checker: { fail: true } });
    const { decision } = await decide({ text: 'a fine loan' });
    expect(decision.outcome).toBe('auto');
    expect(decision.explanation.crossChecks?.[0]).toMatchObject({ verdict: 'unavailable', error: { code: 'MODEL_ERROR' } });
  });

  it('is not called when the kill switch is engaged: no model of the service is', async () => {
    const service = await createService('loans', config({ checks: [second()], checker: { counter: '__killSwitchChecks' } }), { adapterContext: { baseDir: process.cwd(), secrets: {} }, redactionKey: 'k' });
    closers.push(() => service.close());
    const pipeline = createDecisionPipeline({
      services: new Map([['loans', service]]),
      sink: { append: async () => undefined },
      newId: () => `dec_${Math.random()}`,
      hashSubject: (k) => k,
      routing: () => ({ stable: 'v1', killed: { since: new Date().toISOString(), reason: 'test' } }),
    });
    const decision = await pipeline.decide({ service: 'loans', input: { text: 'a fine loan' } });
    expect(decision.explanation.route).toBe('killed');
    expect(decision.explanation.crossChecks).toBeUndefined();
    expect(decision.explanation.attempts ?? []).toEqual([]);
    expect((globalThis as Record<string, unknown>).__killSwitchChecks).toBeUndefined();
  });

  it('is not compared when the served model gave no answer', async () => {
    const { decide } = await pipelineFor({ checks: [second()] });
    const { decision } = await decide({ text: 'throw' });
    expect(decision.outcome).toBe('review');
    expect(decision.explanation.crossChecks).toBeUndefined();
  });

  it('low-confidence: only decisions below the auto threshold are checked', async () => {
    const { decide } = await pipelineFor({ checks: [second({ when: 'low-confidence' })], checker: { word: 'prize' } });
    const sure = await decide({ text: 'win a prize', certainty: 0.95 });
    expect(sure.decision.explanation.crossChecks).toBeUndefined();
    expect(sure.decision.outcome).toBe('auto');
    const unsure = await decide({ text: 'win a prize', certainty: 0.5 });
    expect(unsure.decision.explanation.crossChecks?.[0]?.verdict).toBe('disagree');
    expect(unsure.decision.reasons[0]).toMatchObject({ kind: 'threshold', effect: 'review' });
    expect(unsure.decision.reasons.some((r) => r.kind === 'cross_check' && r.effect === 'review')).toBe(true);
  });

  it('high-stakes: only decisions where a high-stakes pre rule fired are checked', async () => {
    const rules = [{ name: 'big', stage: 'pre' as const, when: 'has(input.amount) && input.amount > 1000.0', action: 'flag' as const, stakes: 'high' as const }];
    const { decide } = await pipelineFor({ checks: [second({ when: 'high-stakes' })], rules });
    expect((await decide({ text: 'a loan', amount: 10 })).decision.explanation.crossChecks).toBeUndefined();
    expect((await decide({ text: 'a loan', amount: 5000 })).decision.explanation.crossChecks?.[0]?.verdict).toBe('agree');
  });
});

describe('a rules checker', () => {
  it('computes the expected output in CEL and compares it', async () => {
    const { decide } = await pipelineFor({ checks: [{ name: 'words', expect: { label: 'input.text.contains("prize") ? "deny" : "approve"' }, agree: { '/label': 'equal' } }] });
    const fine = await decide({ text: 'a fine loan' });
    expect(fine.decision.explanation.crossChecks?.[0]).toMatchObject({ name: 'words', kind: 'rules', verdict: 'agree', output: { label: 'approve' } });
    expect(fine.decision.explanation.crossChecks?.[0]).not.toHaveProperty('version');
    const prize = await decide({ text: 'win a prize' });
    expect(prize.decision.outcome).toBe('review');
    expect(prize.decision.explanation.crossChecks?.[0]).toMatchObject({ verdict: 'disagree', fields: [{ served: 'approve', checker: 'deny' }] });
  });

  it('redacts a pii output field it computes, and the messages of its failures', async () => {
    const piiContract: ServiceConfig['contract'] = {
      version: 1,
      input: { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' }, email: { type: 'string' } } }, fields: { email: { kind: 'categorical', pii: true } } },
      output: {
        schema: { type: 'object', required: ['label', 'score'], properties: { label: { enum: ['approve', 'deny'] }, score: { type: 'number' }, account: { type: 'string' } } },
        fields: { account: { kind: 'categorical', pii: true, redact: 'hash' } },
      },
    };
    const { decide } = await pipelineFor({
      contract: piiContract,
      checks: [
        { name: 'owner', expect: { label: '"approve"', account: 'input.email' }, agree: { '/label': 'equal', '/account': 'equal' } },
        { name: 'broken', expect: { label: 'int(input.email) > 0 ? "deny" : "approve"' }, agree: { '/label': 'equal' } },
      ],
    });
    const { decision, record } = await decide({ text: 'a fine loan', email: 'ana@example.com' });
    const text = JSON.stringify(record.explanation.crossChecks);
    expect(text).not.toContain('ana@example.com');
    expect(JSON.stringify(decision.reasons)).not.toContain('ana@example.com');
    expect(record.explanation.crossChecks?.[0]).toMatchObject({ name: 'owner', verdict: 'disagree' });
    expect(record.explanation.crossChecks?.[1]).toMatchObject({ name: 'broken', verdict: 'unavailable', error: { code: 'CHECKER_RULE_FAILED' } });
  });

  it('that fails at run time is unavailable', async () => {
    const { decide } = await pipelineFor({ checks: [{ name: 'words', expect: { label: 'input.missing.contains("x") ? "deny" : "approve"' }, agree: { '/label': 'equal' } }] });
    const { decision } = await decide({ text: 'a fine loan' });
    expect(decision.outcome).toBe('auto');
    expect(decision.explanation.crossChecks?.[0]).toMatchObject({ verdict: 'unavailable', error: { code: 'CHECKER_RULE_FAILED' } });
  });
});

describe('sampling', () => {
  it('checks a share of decisions within binomial bounds, the same ones on every replay', async () => {
    const share = 0.3;
    const { decide } = await pipelineFor({ checks: [{ name: 'words', expect: { label: '"approve"' }, agree: { '/label': 'equal' }, sample: share }] });
    const n = 2000;
    let checked = 0;
    for (let i = 0; i < n; i++) if ((await decide({ text: 'a fine loan' })).decision.explanation.crossChecks !== undefined) checked++;
    // Mean 600, sd √(n·p·(1−p)) ≈ 20.5: ±5 sd leaves a false failure at about 1 in 1.7 million.
    const sd = Math.sqrt(n * share * (1 - share));
    expect(Math.abs(checked - n * share)).toBeLessThan(5 * sd);
    // Deterministic per decision id and checker; independent across checkers.
    const ids = Array.from({ length: 4000 }, (_, i) => `dec_${i}`);
    const a = ids.map((id) => sampledIn({ name: 'a', sample: 0.5 }, 'loans', id));
    expect(ids.map((id) => sampledIn({ name: 'a', sample: 0.5 }, 'loans', id))).toEqual(a);
    const b = ids.map((id) => sampledIn({ name: 'b', sample: 0.5 }, 'loans', id));
    const both = a.filter((x, i) => x && b[i]).length;
    // Independent halves overlap on a quarter (sd ≈ 27).
    expect(Math.abs(both - 1000)).toBeLessThan(5 * Math.sqrt(4000 * 0.25 * 0.75));
  });
});

describe('configuration', () => {
  const invalid = async (setup: Setup) => {
    try {
      await pipelineFor(setup);
    } catch (error) {
      expect(error).toBeInstanceOf(BallastError);
      return (error as BallastError).issues.map((i) => [i.pointer, i.code]);
    }
    throw new Error('expected CONFIG_INVALID');
  };

  it('refuses checkers it cannot run, with a pointer to each', async () => {
    expect(await invalid({ checks: [second({ version: 'nope' })] })).toEqual([['/policy/crossChecks/0/version', 'unknown_version']]);
    expect(await invalid({ checks: [second({ version: 'v1' })] })).toEqual([['/policy/crossChecks/0/version', 'checks_itself']]);
    expect(await invalid({ checks: [second({ onDisagree: 'prefer', prefer: 'other' })] })).toEqual([['/policy/crossChecks/0/prefer', 'unknown_version']]);
    // Preferring the served answer is `flag` (and under a rollout the live version need not be the one that served).
    expect(await invalid({ checks: [second({ onDisagree: 'prefer', prefer: 'v1' })] })).toEqual([['/policy/crossChecks/0/prefer', 'unknown_version']]);
    expect(await invalid({ checks: [second({ onDisagree: 'prefer' })] })).toEqual([['/policy/crossChecks/0/prefer', 'prefer_missing']]);
    expect(await invalid({ checks: [second({ prefer: 'second' })] })).toEqual([['/policy/crossChecks/0/prefer', 'prefer_without_action']]);
    expect(await invalid({ checks: [second({ expect: { label: '"deny"' } })] })).toEqual([['/policy/crossChecks/0', 'checker_kind']]);
    expect(await invalid({ checks: [second(), second()] })).toEqual([['/policy/crossChecks/1/name', 'duplicate_name']]);
    expect(await invalid({ checks: [{ name: 'w', expect: { label: '"deny"' }, agree: { '/score': 'equal' } }] })).toEqual([['/policy/crossChecks/0/agree/~1score', 'field_not_expected']]);
    expect(await invalid({ checks: [{ name: 'w', expect: { label: 'input.text +' }, agree: { '/label': 'equal' } }] })).toEqual([['/policy/crossChecks/0/expect/label', 'cel_syntax']]);
    const shape = await invalid({ checks: [second({ sample: 0 } as Partial<CrossCheckConfig>)] });
    expect(shape[0]?.[0]).toBe('/policy/crossChecks/0/sample');
  });
});

describe('over HTTP', () => {
  it('a disagreement opens a review item with its reason; the check is in the stored explanation, the metrics and the agreement monitor', async () => {
    const yaml = testConfigYaml({
      extraRules: `      crossChecks:
        - { name: second, version: second, agree: { /label: equal }, onDisagree: review }
`,
    })
      .replace('    live: v1\n', `      second:\n        adapter: { kind: module, path: ${JSON.stringify(checkerPath)}, export: createModel, options: { word: prize } }\n    live: v1\n    monitoring: { window: 1h, minSamples: 5 }\n`);
    const t = await startTestBallast(yaml);
    closers.push(() => t.close());
    const address = await t.server.app.listen({ port: 0, host: '127.0.0.1' });
    const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
      const response = await request(`${address}${url}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
      return { status: response.statusCode, body: (await response.body.text()) };
    };
    const decide = async (text: string) => JSON.parse((await call('POST', '/v1/services/loans/decisions', { input: { text, amount: 500 } })).body) as { id: string; outcome: string; review?: { id: string }; explanation: { crossChecks?: { verdict: string }[] } };
    const agreed = await Promise.all(Array.from({ length: 6 }, () => decide('a fine loan')));
    const disputed = await Promise.all(Array.from({ length: 4 }, () => decide('win a prize')));
    expect(agreed.map((d) => d.outcome)).toEqual(Array(6).fill('auto'));
    expect(disputed.map((d) => d.outcome)).toEqual(Array(4).fill('review'));
    const item = JSON.parse((await call('GET', `/v1/reviews/${disputed[0]!.review!.id}`)).body) as { reasons?: { kind: string; code: string }[] };
    const stored = JSON.parse((await call('GET', `/v1/decisions/${disputed[0]!.id}`)).body) as { explanation: { crossChecks: { verdict: string; fields: { served: string; checker: string }[] }[]; reasons: { kind: string }[] } };
    expect(stored.explanation.crossChecks[0]).toMatchObject({ verdict: 'disagree', fields: [{ served: 'approve', checker: 'deny' }] });
    expect(item.reasons?.map((r) => `${r.kind}/${r.code}`)).toContain('cross_check/disagreement');
    const metrics = (await call('GET', '/metrics')).body;
    expect(metrics).toMatch(/ballast_cross_checks_total\{service="loans",checker="second",verdict="agree"\} 6/);
    expect(metrics).toMatch(/ballast_cross_checks_total\{service="loans",checker="second",verdict="disagree"\} 4/);
    expect(metrics).toMatch(/ballast_model_calls_total\{service="loans",version="second",code="ok"\} 10/);
    await call('POST', '/v1/services/loans/monitors/evaluate', {});
    const monitors = JSON.parse((await call('GET', '/v1/services/loans/monitors')).body) as { monitors: { monitor: string; version: string; value: number | null; state: string }[] };
    const agreement = monitors.monitors.find((m) => m.monitor === 'agreement/second' && m.version === 'v1');
    expect(agreement).toMatchObject({ value: 0.6, state: 'alert' });
  }, 30_000);

  it('with prefer, the disagreements the checker answered still count against the version it overruled', async () => {
    const yaml = testConfigYaml({
      extraRules: `      crossChecks:
        - { name: second, version: second, agree: { /label: equal }, onDisagree: prefer, prefer: second }
`,
    }).replace('    live: v1\n', `      second:\n        adapter: { kind: module, path: ${JSON.stringify(checkerPath)}, export: createModel, options: { word: prize, confidence: 0.9 } }\n    live: v1\n    monitoring: { window: 1h, minSamples: 5 }\n`);
    const t = await startTestBallast(yaml);
    closers.push(() => t.close());
    const post = (text: string) => t.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ input: { text, amount: 500 } }) });
    for (const text of ['a fine loan', 'a fine loan', 'a fine loan', 'win a prize', 'win a prize']) expect((await post(text)).statusCode).toBe(200);
    await t.server.app.inject({ method: 'POST', url: '/v1/services/loans/monitors/evaluate', headers: { 'content-type': 'application/json' }, payload: '{}' });
    const monitors = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/monitors' })).json() as { monitors: { monitor: string; version: string; value: number | null }[] };
    expect(monitors.monitors.filter((m) => m.monitor === 'agreement/second').map((m) => [m.version, m.value])).toEqual([['v1', 0.6]]);
  }, 30_000);
});
