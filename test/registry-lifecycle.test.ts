// The registry wired into a running server: the configuration's versions are registered at start (the
// live one marked live), a rollout's moves and a hand-applied live change are lifecycle transitions with
// their actor, rollout and revision, a changed model under an old name is refused whole, and the
// point-in-time question is answered from the transitions.
import { afterEach, describe, expect, it } from 'vitest';
import { keywordModelPath, startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const model = (confidence: number) => `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel, options: { confidence: ${confidence} } }`;

function config(v2Confidence = 0.95, live = 'v1'): string {
  return testConfigYaml()
    .replace(
      '    live: v1\n',
      `      v2:
        timeoutMs: 500
        adapter: ${model(v2Confidence)}
        evaluation: { dataset: holdout, metrics: { accuracy: 0.93 } }
        card: { intendedUse: loan triage in tests }
    live: ${live}
    rollout:
      steps:
        - { weight: 0.5, pause: { minDecisions: 60 } }
        - { weight: 1, pause: { minDecisions: 0 } }
      analysis:
        minDecisions: 25
        metrics:
          - { metric: error_rate, bound: 0.05 }
`,
    );
}

interface Transition {
  readonly from: string | null;
  readonly to: string;
  readonly actor: string;
  readonly rolloutId: string | null;
  readonly revision: number | null;
  readonly at: string;
}

describe('the model registry in a running server', () => {
  let t: TestBallast;
  afterEach(async () => {
    await t?.close();
  });
  const get = async (url: string) => (await t.server.app.inject({ method: 'GET', url })).json();
  const post = (url: string, body: unknown) => t.server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const history = async (version: string) => ((await get(`/v1/services/loans/models/${version}/history`)) as { transitions: Transition[] }).transitions;
  const decide = (subject: string) => post('/v1/services/loans/decisions', { input: { text: 'hello world', amount: 500 }, subjectKey: subject });

  it('registers the configuration at start, records a rollout and a hand-applied change as transitions, and answers served-at', async () => {
    t = await startTestBallast(config());
    const listed = (await get('/v1/services/loans/models')) as { versions: { name: string; state: string; digest: string }[] };
    expect(listed.versions.map((v) => [v.name, v.state])).toEqual([['v1', 'live'], ['v2', 'registered']]);
    const v2 = await get('/v1/services/loans/models/v2');
    // The module's own file is hashed; the evaluation and card are kept as registered.
    expect(v2).toMatchObject({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), author: 'local:test', spec: { adapterFile: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, evaluation: { metrics: { accuracy: 0.93 } }, card: { intendedUse: 'loan triage in tests' } } });
    const beforeRollout = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));

    const rollout = (await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'better model' })).json() as { id: string };
    for (let i = 0; i < 200; i++) await decide(`s${i}`);
    await t.runtime.safeChange.rollouts.tick();
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v2');
    expect((await history('v2')).map((x) => [x.from, x.to, x.rolloutId])).toEqual([[null, 'registered', null], ['registered', 'canary', rollout.id], ['canary', 'live', rollout.id]]);
    expect((await history('v1')).map((x) => [x.from, x.to])).toEqual([[null, 'registered'], ['registered', 'live'], ['live', 'retired']]);
    const promotedAt = (await history('v2'))[2]!;
    expect(promotedAt.revision).toBe(t.runtime.catalog.revision);

    // Making v1 live again by applying a file: v1 live, v2 retired, both with the new revision.
    const applied = await post('/v1/config', { config: config(0.95, 'v1'), reason: 'back to v1 by hand' });
    expect(applied.statusCode).toBe(200);
    const revision = t.runtime.catalog.revision;
    expect((await history('v1')).at(-1)).toMatchObject({ from: 'retired', to: 'live', revision, actor: 'anonymous' });
    expect((await history('v2')).at(-1)).toMatchObject({ from: 'live', to: 'retired', revision });

    // Which versions served loans when.
    expect(await get(`/v1/services/loans/served?at=${encodeURIComponent(beforeRollout)}`)).toMatchObject({ served: [{ name: 'v1', state: 'live' }], shadow: [] });
    const during = new Date(Date.parse((await history('v2'))[1]!.at) + 0).toISOString();
    const servedDuring = (await get(`/v1/services/loans/served?at=${encodeURIComponent(during)}`)) as { served: { name: string; state: string }[] };
    expect(servedDuring.served).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'v2', state: 'canary' })]));

    const actions = (await t.runtime.store.audit.list({ limit: 200 })).map((e) => e.action);
    expect(actions.filter((a) => a === 'model.registered')).toHaveLength(2);
    expect(actions.filter((a) => a === 'model.transitioned').length).toBe(6);
  });

  it('refuses a configuration that changes a registered version under its name, whole, naming the version', async () => {
    t = await startTestBallast(config());
    const running = t.runtime.catalog.revision;
    const changed = await post('/v1/config', { config: config(0.6), reason: 'a quieter v2 under the same name' });
    expect(changed.statusCode).toBe(409);
    expect(changed.json()).toMatchObject({ code: 'MODEL_VERSION_CONFLICT', issues: [expect.objectContaining({ pointer: '/services/loans/models/v2', code: 'model_version_conflict' })] });
    expect(t.runtime.catalog.revision).toBe(running);
    // Under a new name it is a new version.
    const renamed = config(0.95).replace('    live: v1\n', `      v2b:\n        timeoutMs: 500\n        adapter: ${model(0.6)}\n    live: v1\n`);
    expect((await post('/v1/config', { config: renamed, reason: 'the quieter one as v2b' })).statusCode).toBe(200);
    expect(await get('/v1/services/loans/models/v2b')).toMatchObject({ state: 'registered', author: 'anonymous' });
  });

  it('a shadow rollout copies every request to the candidate, answers from stable, and reports their agreement', async () => {
    t = await startTestBallast(config(0.8));
    const started = (await post('/v1/services/loans/rollouts', { candidate: 'v2', strategy: 'shadow', share: 1, pause: { minDecisions: 100 }, reason: 'watch v2' })).json() as { id: string };
    for (let i = 0; i < 150; i++) {
      const d = (await decide(`s${i}`)).json();
      expect(d.version).toBe('v1');
      expect(d.explanation.routing).toMatchObject({ rollout: started.id, strategy: 'shadow', shadowed: 'v2' });
    }
    // The copies are written off the request path, in batches.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.runtime.safeChange.rollouts.tick();
    const status = await get('/v1/services/loans/rollout');
    expect(status.rollout.state).toBe('completed');
    const verdict = status.events.find((e: { kind: string }) => e.kind === 'analysis').detail.verdict;
    // The same keyword model: the same label every time; confidence 0.8 against the default 0.95.
    expect(verdict.agreement).toMatchObject({ n: 150, sameOutput: { events: 150, n: 150, rate: 1 } });
    expect(verdict.agreement.meanConfidenceDifference).toBeCloseTo(0.15, 6);
    expect((await history('v2')).map((x) => x.to)).toEqual(['registered', 'shadow', 'registered']);
  });

  it('on a medium-risk service an apply may not make a version live past its gate, but may go back to one that served', async () => {
    const medium = (live: string) => config(0.95, live).replace('    rollout:\n', '    risk: medium\n    rollout:\n');
    t = await startTestBallast(medium('v1'));
    const running = t.runtime.catalog.revision;
    const refused = await post('/v1/config', { config: medium('v2'), reason: 'straight to v2' });
    expect(refused.json()).toMatchObject({ code: 'GATE_NOT_MET', detail: expect.stringContaining('loans/v2 cannot be made live by apply') });
    expect(t.runtime.catalog.revision).toBe(running);
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v1');
    // A dry run says the same.
    expect((await post('/v1/config', { config: medium('v2'), dryRun: true })).json()).toMatchObject({ code: 'GATE_NOT_MET' });
    // Other changes still apply.
    expect((await post('/v1/config', { config: medium('v1').replace('metric: error_rate, bound: 0.05', 'metric: error_rate, bound: 0.04'), reason: 'tighter' })).statusCode).toBe(200);
  });
});
