// Rollouts end to end over the server: a canary judged by its analysis on live decisions, promoted
// into a new revision; a worse candidate rolled back automatically; rollback taking effect for the
// next request; the kill switch sending everything down the fallback chain; approvals at a gate.
import { afterEach, describe, expect, it } from 'vitest';
import { keywordModelPath, startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const model = (confidence: number) => `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel, options: { confidence: ${confidence} } }`;

/** v1 and v2 as good as each other; v3 unsure of everything (its decisions go to review). */
function config(extra = ''): string {
  return testConfigYaml()
    .replace(
      '    live: v1\n',
      `      v2:
        timeoutMs: 500
        adapter: ${model(0.95)}
      v3:
        timeoutMs: 500
        adapter: ${model(0.5)}
    live: v1
    rollout:
      steps:
        - { weight: 0.5, pause: { minDecisions: 60 } }
        - { weight: 1, pause: { minDecisions: 0 } }
      analysis:
        minDecisions: 25
        metrics:
          - { metric: error_rate, bound: 0.05 }
          - { metric: review_rate, bound: 0.05 }
${extra}`,
    );
}

describe('rollouts over the server', () => {
  let t: TestBallast;
  afterEach(async () => {
    await t?.close();
  });
  const decide = (subject: string, text = 'hello world') =>
    t.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ input: { text, amount: 500 }, subjectKey: subject }) });
  const post = (url: string, body: unknown) => t.server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  it('a canary passes its analysis step by step and is promoted into a new revision', async () => {
    t = await startTestBallast(config());
    const started = await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'better model' });
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({ strategy: 'canary', state: 'running', step: 0, weight: 0.5, stable: 'v1', candidate: 'v2' });
    const arms = { stable: 0, candidate: 0 };
    for (let i = 0; i < 200; i++) {
      const d = (await decide(`user-${i}`)).json();
      expect(d.explanation.routing).toMatchObject({ rollout: started.json().id, strategy: 'canary', step: 0, weight: 0.5 });
      arms[d.explanation.routing.arm as 'stable' | 'candidate']++;
      expect(d.version).toBe(d.explanation.routing.arm === 'candidate' ? 'v2' : 'v1');
    }
    // 200 subjects at 0.5: within 4.42 standard deviations (a 1e-5 two-sided tail).
    expect(Math.abs(arms.candidate - 100)).toBeLessThan(4.42 * Math.sqrt(200 * 0.25));
    // The same subject keeps its arm.
    const again = (await decide('user-7')).json().explanation.routing.arm;
    expect((await decide('user-7')).json().explanation.routing.arm).toBe(again);

    await t.runtime.safeChange.rollouts.tick();
    const status = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/rollout' })).json();
    const analysis = status.events.find((e: { kind: string }) => e.kind === 'analysis');
    expect(analysis.detail.verdict.verdict).toBe('pass');
    expect(analysis.detail.verdict.candidate.decisions).toBe(arms.candidate + 2 - (again === 'candidate' ? 0 : 2));
    // The last step (100%) is a promotion: the candidate is live in a new revision.
    expect(status.rollout.state).toBe('promoted');
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v2');
    expect(t.runtime.catalog.revision).toBe(2);
    const after = (await decide('user-1')).json();
    expect(after).toMatchObject({ version: 'v2', explanation: { revision: 2, route: 'stable' } });
    expect(after.explanation.routing).toBeUndefined();

    // Undoing the promotion: the old stable serves the very next request, in a new revision.
    const rolledBack = await post('/v1/services/loans/rollback', { reason: 'second thoughts' });
    expect(rolledBack.statusCode).toBe(200);
    expect((await decide('user-1')).json().version).toBe('v1');
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v1');
    const actions = (await t.runtime.store.audit.list({ limit: 200 })).map((e) => e.action).filter((a) => a.startsWith('rollout.') || a.startsWith('config.'));
    expect(actions).toEqual(expect.arrayContaining(['config.applied', 'rollout.started', 'config.live_changed']));
  });

  it('a worse candidate fails its analysis and is rolled back automatically, with the verdict kept', async () => {
    t = await startTestBallast(config());
    const started = (await post('/v1/services/loans/rollouts', { candidate: 'v3', reason: 'try the unsure one' })).json();
    for (let i = 0; i < 160; i++) await decide(`u${i}`);
    await t.runtime.safeChange.rollouts.tick();
    const status = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/rollout' })).json();
    expect(status.rollout).toMatchObject({ id: started.id, state: 'rolled-back' });
    const verdict = status.events.find((e: { kind: string }) => e.kind === 'analysis').detail.verdict;
    expect(verdict.verdict).toBe('fail');
    const review = verdict.metrics.find((m: { metric: string; segment?: string }) => m.metric === 'review_rate' && m.segment === undefined);
    expect(review.verdict).toBe('fail');
    expect(review.candidate.value).toBeGreaterThan(0.9);
    // Everybody is on stable again.
    for (let i = 0; i < 20; i++) expect((await decide(`u${i}`)).json().version).toBe('v1');
    // A rollout rolled back can be retried, as a new rollout.
    const retried = (await post('/v1/services/loans/rollout/retry', { reason: 'once more' })).json();
    expect(retried).toMatchObject({ state: 'running', candidate: 'v3', retryOf: started.id });
    expect(retried.id).not.toBe(started.id);
  });

  it('rollback takes effect for the next request; a second start while one runs is refused', async () => {
    t = await startTestBallast(config());
    await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'go', steps: [{ weight: 1, pause: { minDecisions: 1000 } }] });
    expect((await decide('a')).json().version).toBe('v2');
    const busy = await post('/v1/services/loans/rollouts', { candidate: 'v3', reason: 'another' });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe('ROLLOUT_ACTIVE');
    const answer = (await post('/v1/services/loans/rollback', { reason: 'stop' })).json();
    expect(answer.rollout.state).toBe('rolled-back');
    expect(answer.routing.rollout).toBeUndefined();
    expect((await decide('a')).json().version).toBe('v1');
    expect((await post('/v1/services/loans/rollout/pause', { reason: 'x' })).json().code).toBe('ROLLOUT_NOT_FOUND');
  });

  it('the kill switch sends every request down the fallback chain without calling a model, and is audited', async () => {
    t = await startTestBallast(config());
    const engaged = await post('/v1/services/loans/kill-switch', { engaged: true, reason: 'model misbehaving' });
    expect(engaged.statusCode).toBe(200);
    const d = (await decide('k')).json();
    expect(d.explanation.route).toBe('killed');
    expect(d.explanation.modelError.code).toBe('KILL_SWITCH_ENGAGED');
    expect(d.explanation.attempts ?? []).toEqual([]);
    await post('/v1/services/loans/kill-switch', { engaged: false, reason: 'fixed' });
    expect((await decide('k')).json().version).toBe('v1');
    const actions = (await t.runtime.store.audit.list({ limit: 100 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['killswitch.engaged', 'killswitch.released']));
  });

  it('a medium-risk canary approved beforehand is promoted by the analysis that passes it, in one tick', async () => {
    t = await startTestBallast(config('    risk: medium\n'));
    // The approver is not the author (the start registered v2 as local:test; with auth off the caller is anonymous).
    const approved = await post('/v1/services/loans/models/v2/approvals', { decision: 'approve', reason: 'reviewed the evaluation' });
    expect(approved.statusCode).toBe(201);
    await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'go', steps: [{ weight: 0.5, pause: { minDecisions: 60 } }, { weight: 1 }] });
    for (let i = 0; i < 200; i++) await decide(`m${i}`);
    await t.runtime.safeChange.rollouts.tick();
    const status = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/rollout' })).json();
    expect(status.rollout).toMatchObject({ state: 'promoted', status: { awaiting: null, reason: null } });
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v2');
  });

  it('refuses a candidate outside the running revision or one the registry may not try again, and leaves no rollout behind', async () => {
    t = await startTestBallast(config());
    const missing = await post('/v1/services/loans/rollouts', { candidate: 'v9', reason: 'typo' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'VERSION_NOT_FOUND', detail: expect.stringContaining('not a version of the running revision') });
    // v3 retired in the registry: a retired version is never tried again.
    await t.runtime.registry.transition({ service: 'loans', version: 'v3', to: 'retired', reason: 'withdrawn' }, { actor: { principal: 'ops', keyId: null, role: 'operator' } });
    const retired = await post('/v1/services/loans/rollouts', { candidate: 'v3', reason: 'again' });
    expect(retired.json()).toMatchObject({ code: 'MODEL_TRANSITION_INVALID' });
    expect((await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/rollout' })).statusCode).toBe(404);
    expect((await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'the right one' })).json()).toMatchObject({ state: 'running', candidate: 'v2' });
  });

  it('a medium-risk service does not promote an unregistered version without its gate', async () => {
    t = await startTestBallast(config('    risk: medium\n'));
    await post('/v1/services/loans/rollouts', { candidate: 'v2', reason: 'go', steps: [{ weight: 0.5, pause: { minDecisions: 0 } }, { weight: 1 }] });
    const promote = await post('/v1/services/loans/rollout/promote', { reason: 'now' });
    expect(promote.statusCode).toBe(409);
    expect(promote.json().code).toBe('GATE_NOT_MET');
    expect(t.runtime.catalog.get('loans')!.config.live).toBe('v1');
  });
});
