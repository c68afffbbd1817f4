import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { modelStates, rolloutStates } from '../src/governance/index.js';
import { createDecisionMetrics, modelStateLabels, rolloutStateLabels } from '../src/monitoring/metrics/index.js';
import { createShadowRunner } from '../src/pipeline/index.js';
import { observeShadowResult } from '../src/server/runtime-metrics.js';
import { keywordModelPath, startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

let ballast: TestBallast;
beforeAll(async () => {
  ballast = await startTestBallast();
});
afterAll(async () => {
  await ballast.close();
});

const decide = (input: Record<string, unknown>) => ballast.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input } });

/** The value of one sample line of the exposition (all its labels, in order; '' for none), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The samples of `name` whose labels include `labels`, summed: what `sum(name{labels})` gives a dashboard. */
function total(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const has = Object.fromEntries([...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** promtool's lint of an exposition: '' when clean. */
function lint(text: string): string {
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(check.error, 'promtool is not installed: apt-get install prometheus').toBeUndefined();
  return check.stdout + check.stderr;
}

describe('/metrics', () => {
  it('counts decisions by outcome, model errors, refusals and stage latencies exactly', async () => {
    for (let i = 0; i < 3; i++) await decide({ text: 'fine', amount: 500, certainty: 0.95 });
    await decide({ text: 'hmm', amount: 500, certainty: 0.5 });
    await decide({ text: 'throw', amount: 500 });
    await decide({ text: 7 });
    const response = await ballast.server.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(sample(text, 'ballast_decisions_total', 'service="loans",version="v1",outcome="auto",arm="none"')).toBe(3);
    expect(sample(text, 'ballast_decisions_total', 'service="loans",version="v1",outcome="review",arm="none"')).toBe(2);
    // A dashboard's query by service and version (or outcome) is unchanged by the arm label.
    expect(total(text, 'ballast_decisions_total', { service: 'loans', version: 'v1' })).toBe(5);
    expect(total(text, 'ballast_decisions_total', { service: 'loans', outcome: 'auto' })).toBe(3);
    expect(sample(text, 'ballast_model_errors_total', 'service="loans",version="v1",code="MODEL_ERROR"')).toBe(1);
    expect(sample(text, 'ballast_requests_refused_total', 'code="CONTRACT_INVALID_INPUT",status="422"')).toBe(1);
    expect(sample(text, 'ballast_stage_duration_seconds_count', 'service="loans",stage="validate"')).toBe(5);
    expect(sample(text, 'ballast_stage_duration_seconds_count', 'service="loans",stage="post_rules"')).toBe(4);
    expect(sample(text, 'ballast_decision_duration_seconds_count', 'service="loans",version="v1",arm="none"')).toBe(5);
    expect(total(text, 'ballast_decision_duration_seconds_count', { service: 'loans', version: 'v1' })).toBe(5);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('passes promtool check metrics (Debian package prometheus; .ci/run installs it)', async () => {
    await decide({ text: 'fine', amount: 500 });
    const text = (await ballast.server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(lint(text)).toBe('');
  });
});

const model = (confidence: number) => `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel, options: { confidence: ${confidence} } }`;

/** The test service with v2 (as good as v1, or the adapter given) and v3 beside v1, and a rollout block. */
function rolloutConfig(v2 = model(0.95)): string {
  return testConfigYaml().replace(
    '    live: v1\n',
    `      v2:
        timeoutMs: 500
        adapter: ${v2}
      v3:
        timeoutMs: 500
        adapter: ${model(0.5)}
    live: v1
    rollout:
      steps:
        - { weight: 0.5, pause: { minDecisions: 60 } }
        - { weight: 1, pause: { minDecisions: 0 } }
`,
  );
}

describe('/metrics per model version and rollout arm', () => {
  let t: TestBallast;
  afterEach(async () => {
    await t?.close();
  });
  const scrape = async () => (await t.server.app.inject({ method: 'GET', url: '/metrics' })).body;
  const post = (url: string, body: unknown) => t.server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const decide = async (text: string, subjectKey?: string) => {
    const response = await post('/v1/services/loans/decisions', { input: { text, amount: 500 }, ...(subjectKey === undefined ? {} : { subjectKey }) });
    expect(response.statusCode).toBe(200);
    return response.json() as { version: string | null; outcome: string; explanation: { revision: number; routing?: { arm?: string; shadowed?: string } } };
  };

  it("counts a canary's decisions under the arm of their explanation, and shows the rollout, revision and registry gauges", async () => {
    t = await startTestBallast(rolloutConfig());
    let text = await scrape();
    expect(sample(text, 'ballast_config_revision', '')).toBe(1);
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="none"')).toBe(1);
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="running"')).toBe(0);
    expect(total(text, 'ballast_rollout_weight', {})).toBe(0);
    expect(text).not.toContain('ballast_rollout_weight{');
    expect(sample(text, 'ballast_kill_switch_engaged', 'service="loans"')).toBe(0);
    // The configuration's versions are registered at start, the live one marked live.
    expect(sample(text, 'ballast_model_versions', 'service="loans",state="live"')).toBe(1);
    expect(sample(text, 'ballast_model_versions', 'service="loans",state="registered"')).toBe(2);

    // Outside a rollout: arm "none".
    for (let i = 0; i < 4; i++) await decide('hello world', `before-${i}`);
    const started = await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'metrics', steps: [{ weight: 0.3, pause: { minDecisions: 100000 } }, { weight: 1 }] });
    expect(started.statusCode).toBe(200);
    // What the explanations say, per arm and per (arm, version); a few without a subject key (a draw per decision).
    const arms = new Map<string, number>();
    const byVersion = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const d = await decide(i % 10 === 9 ? 'bad news' : 'hello world', i % 5 === 4 ? undefined : `user-${i}`);
      const arm = d.explanation.routing?.arm ?? 'missing';
      arms.set(arm, (arms.get(arm) ?? 0) + 1);
      byVersion.set(`${arm}/${d.version}`, (byVersion.get(`${arm}/${d.version}`) ?? 0) + 1);
    }
    expect([...arms.keys()].sort()).toEqual(['candidate', 'stable']);
    expect(arms.get('candidate')).toBeGreaterThan(20);
    expect([...byVersion.keys()].sort()).toEqual(['candidate/v2', 'stable/v1']);

    text = await scrape();
    for (const arm of ['stable', 'candidate']) {
      expect(total(text, 'ballast_decisions_total', { service: 'loans', arm })).toBe(arms.get(arm));
      expect(total(text, 'ballast_decision_duration_seconds_count', { service: 'loans', arm })).toBe(arms.get(arm));
    }
    expect(total(text, 'ballast_decisions_total', { service: 'loans', version: 'v2', arm: 'candidate' })).toBe(byVersion.get('candidate/v2'));
    expect(total(text, 'ballast_decisions_total', { service: 'loans', version: 'v1', arm: 'stable' })).toBe(byVersion.get('stable/v1'));
    expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'none' })).toBe(4);
    // By version alone, as a dashboard without arms asks: every decision v1 made, in or out of the rollout.
    expect(total(text, 'ballast_decisions_total', { service: 'loans', version: 'v1' })).toBe(4 + byVersion.get('stable/v1')!);
    expect(total(text, 'ballast_decisions_total', { service: 'loans' })).toBe(154);
    // The rollout as it routes: step 0 at 30%, running; v2 in canary in the registry.
    expect(sample(text, 'ballast_rollout_weight', 'service="loans",candidate="v2"')).toBe(0.3);
    expect(sample(text, 'ballast_rollout_step', 'service="loans",candidate="v2"')).toBe(0);
    expect(sample(text, 'ballast_rollout_shadow_share', 'service="loans",candidate="v2"')).toBe(0);
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="running"')).toBe(1);
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="none"')).toBe(0);
    expect(sample(text, 'ballast_model_versions', 'service="loans",state="canary"')).toBe(1);
    expect(sample(text, 'ballast_model_versions', 'service="loans",state="registered"')).toBe(1);
    // No rollout id, subject key or decision id in any label.
    expect(text).not.toContain(started.json().id);
    expect(text).not.toMatch(/user-\d|dec_/);
    expect(lint(text)).toBe('');

    expect((await post('/v1/services/loans/rollout/pause', { reason: 'look closer' })).statusCode).toBe(200);
    text = await scrape();
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="paused"')).toBe(1);
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="running"')).toBe(0);
    expect(sample(text, 'ballast_rollout_weight', 'service="loans",candidate="v2"')).toBe(0.3);

    expect((await post('/v1/services/loans/rollback', { reason: 'not now' })).statusCode).toBe(200);
    expect((await post('/v1/services/loans/kill-switch', { engaged: true, reason: 'drill' })).statusCode).toBe(200);
    text = await scrape();
    expect(sample(text, 'ballast_rollout_state', 'service="loans",state="rolled-back"')).toBe(1);
    expect(text).not.toContain('ballast_rollout_weight{');
    expect(sample(text, 'ballast_kill_switch_engaged', 'service="loans"')).toBe(1);
    expect(sample(text, 'ballast_model_versions', 'service="loans",state="rolled-back"')).toBe(1);
    await post('/v1/services/loans/kill-switch', { engaged: false, reason: 'drill over' });

    // A new revision: the gauge moves with what decisions record.
    const applied = await post('/v1/config', { config: rolloutConfig().replace('thresholds: { auto: 0.8, reject: 0.2 }', 'thresholds: { auto: 0.85, reject: 0.2 }'), source: 'test.yaml', reason: 'stricter' });
    expect(applied.json()).toMatchObject({ applied: true, revision: 2 });
    text = await scrape();
    expect(sample(text, 'ballast_config_revision', '')).toBe(2);
    expect((await decide('hello world', 'after')).explanation.revision).toBe(2);
    expect(sample(text, 'ballast_kill_switch_engaged', 'service="loans"')).toBe(0);
  });

  it('counts an experiment decision without a subject key (no arm) under arm="none"', async () => {
    t = await startTestBallast(rolloutConfig());
    expect((await post('/v1/services/loans/rollouts', { candidate: 'v2', strategy: 'experiment', reason: 'a/b', steps: [{ weight: 0.5, pause: { minDecisions: 100000 } }] })).statusCode).toBe(200);
    const keyed = { stable: 0, candidate: 0 };
    for (let i = 0; i < 40; i++) {
      const d = await decide('hello world', `e-${i}`);
      keyed[d.explanation.routing!.arm as 'stable' | 'candidate']++;
    }
    for (let i = 0; i < 7; i++) {
      const d = await decide('hello world');
      expect(d.explanation.routing).toBeDefined();
      expect(d.explanation.routing!.arm).toBeUndefined();
    }
    const text = await scrape();
    expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'none' })).toBe(7);
    expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'stable' })).toBe(keyed.stable);
    expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'candidate' })).toBe(keyed.candidate);
  });

  it("counts shadow copies by result and their agreement with the served answer's label", async () => {
    // A candidate that denies everything, and fails on 'oops' (which stable answers).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-contrarian-'));
    const contrarian = path.join(dir, 'contrarian.mjs');
    writeFileSync(
      contrarian,
      `export function createModel() {
  return {
    async predict(input) {
      if (input.text === 'oops') throw new Error('the candidate broke on purpose');
      return { output: { label: 'deny', score: 0.2 }, confidence: 0.9 };
    },
    close() {},
  };
}
`,
    );
    try {
      t = await startTestBallast(rolloutConfig(`{ kind: module, path: ${JSON.stringify(contrarian)}, export: createModel }`));
      expect((await post('/v1/services/loans/rollouts', { candidate: 'v2', strategy: 'shadow', share: 1, pause: { minDecisions: 100000 }, reason: 'watch v2' })).statusCode).toBe(200);
      const texts = [...Array<string>(20).fill('hello world'), ...Array<string>(10).fill('bad news'), ...Array<string>(5).fill('oops')];
      let shadowed = 0;
      for (const [i, text] of texts.entries()) {
        const d = await decide(text, `s${i}`);
        expect(d.version).toBe('v1');
        if (d.explanation.routing?.shadowed === 'v2') shadowed++;
      }
      expect(shadowed).toBe(35);
      // The copies run off the request path: wait for them to finish.
      for (let i = 0; i < 200 && (t.runtime.shadow.stats().started < 35 || t.runtime.shadow.stats().inFlight > 0); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const text = await scrape();
      const stats = t.runtime.shadow.stats();
      expect(total(text, 'ballast_shadow_decisions_total', { service: 'loans', version: 'v2' })).toBe(35);
      expect(sample(text, 'ballast_shadow_decisions_total', 'service="loans",version="v2",result="answered"')).toBe(30);
      expect(sample(text, 'ballast_shadow_decisions_total', 'service="loans",version="v2",result="error"')).toBe(5);
      expect(total(text, 'ballast_shadow_decisions_total', { result: 'skipped' })).toBe(stats.skipped);
      // approve (stable) against deny (candidate) 20 times; deny against deny 10 times; a failed copy is not compared.
      expect(sample(text, 'ballast_shadow_comparisons_total', 'service="loans",version="v2",result="different"')).toBe(20);
      expect(sample(text, 'ballast_shadow_comparisons_total', 'service="loans",version="v2",result="same"')).toBe(10);
      // Shadowed decisions are stable's; the candidate never answers.
      expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'stable', version: 'v1' })).toBe(35);
      expect(total(text, 'ballast_decisions_total', { service: 'loans', arm: 'candidate' })).toBe(0);
      expect(sample(text, 'ballast_rollout_weight', 'service="loans",candidate="v2"')).toBe(0);
      expect(sample(text, 'ballast_rollout_shadow_share', 'service="loans",candidate="v2"')).toBe(1);
      expect(sample(text, 'ballast_model_versions', 'service="loans",state="shadow"')).toBe(1);
      expect(lint(text)).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts shadow copies skipped over the in-flight bound and dropped when their batch cannot be written', async () => {
    t = await startTestBallast(rolloutConfig());
    const service = t.runtime.catalog.get('loans')!;
    const metrics = createDecisionMetrics({ defaultMetrics: false });
    let ids = 0;
    const runner = createShadowRunner({ write: () => Promise.reject(new Error('disk full')), newId: () => `shd_${ids++}`, maxInFlight: 1, onError: () => {} });
    runner.onResult(observeShadowResult(metrics));
    // The first copy is in flight while the next two arrive: both skipped, never called.
    for (let i = 0; i < 3; i++) runner.run({ decisionId: `d${i}`, service, version: service.versions.get('v2')!, rolloutId: 'r', revision: 1, input: { text: 'bad news', amount: 500 }, served: { label: 'deny', score: 0.1 } });
    await runner.close();
    expect(runner.stats()).toMatchObject({ started: 1, skipped: 2, recorded: 0, dropped: 1 });
    const text = await metrics.registry.metrics();
    expect(sample(text, 'ballast_shadow_decisions_total', 'service="loans",version="v2",result="answered"')).toBe(1);
    expect(sample(text, 'ballast_shadow_decisions_total', 'service="loans",version="v2",result="skipped"')).toBe(2);
    expect(sample(text, 'ballast_shadow_decisions_total', 'service="loans",version="v2",result="dropped"')).toBe(1);
    expect(sample(text, 'ballast_shadow_comparisons_total', 'service="loans",version="v2",result="same"')).toBe(1);
  });

  it("the gauges' fixed state lists are the rollout controller's and the registry's", () => {
    expect([...rolloutStateLabels]).toEqual(['none', ...rolloutStates]);
    expect([...modelStateLabels]).toEqual([...modelStates]);
  });
});
