// The rollout controller on a real SQLite store, with fakes for the analysis, the registry, the gate
// and the live configuration: the state machine, its persistence and audit, restarts and rollback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BallastError, type Issue } from '../../errors/index.js';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import type { RoutingPlan } from '../../routing/routing-plan.js';
import type { AnalysisVerdict, VerdictName } from '../analysis/analysis-types.js';
import { createRolloutController, type RolloutController, type RolloutControllerOptions } from './rollout-controller.js';

const operator = { actor: { principal: 'alice', keyId: 'key_1', role: 'operator' }, reason: 'ship v2' };
const service = 'spam-filter';

function verdictOf(verdict: VerdictName, summary = `error rate ${verdict}`): AnalysisVerdict {
  return {
    verdict,
    window: { since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T00:01:00.000Z' },
    stable: { version: 'v1', decisions: 900 },
    candidate: { version: 'v2', decisions: 100 },
    metrics: [
      { metric: 'error_rate', verdict, stable: { n: 900, value: 0.01 }, candidate: { n: 100, value: 0.09 }, difference: 0.08, interval: [0.02, 0.14], bound: 0.02, reason: summary },
    ],
    summary,
  };
}

interface Harness {
  readonly controller: RolloutController;
  readonly verdicts: VerdictName[];
  readonly transitions: string[];
  readonly plans: RoutingPlan[];
  readonly promotions: string[];
  readonly windows: { since: string; until: string }[];
  gate: { ok: boolean; issues: Issue[] };
  decisions: number;
  clock: number;
  live: string;
  analyzeGate?: Promise<void>;
  analyses: number;
}

function harness(store: Store, overrides: Partial<RolloutControllerOptions> = {}): Harness {
  const h: Harness = {
    controller: undefined as unknown as RolloutController,
    verdicts: [],
    transitions: [],
    plans: [],
    promotions: [],
    windows: [],
    gate: { ok: true, issues: [] },
    decisions: 1000,
    clock: Date.UTC(2026, 0, 1, 12),
    live: 'v1',
    analyses: 0,
  };
  const controller = createRolloutController({
    store,
    now: () => h.clock,
    async analyze(_rollout, window) {
      h.analyses += 1;
      h.windows.push({ ...window });
      if (h.analyzeGate !== undefined) await h.analyzeGate;
      return verdictOf(h.verdicts.shift() ?? 'pass');
    },
    countDecisions: async () => h.decisions,
    async transition(_service, version, to) {
      h.transitions.push(`${version}:${to}`);
    },
    checkGate: async () => h.gate,
    async promoteLive(_service, version) {
      h.promotions.push(version);
      h.live = version;
      return { revision: 1 + h.promotions.length };
    },
    stableOf: () => h.live,
    onChange: (_service, plan) => h.plans.push(plan),
    ...overrides,
  });
  (h as { controller: RolloutController }).controller = controller;
  return h;
}

/** Audit events of rollouts, oldest first. */
async function rolloutAudits(store: Store): Promise<string[]> {
  const events = await store.audit.list({ limit: 1000 });
  return events.filter((e) => e.resource.kind === 'rollout').map((e) => e.action);
}

describe('rollout controller', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('takes a canary through every step to promotion, with the plan, registry and audit following', async () => {
    const h = harness(store);
    const started = await h.controller.start(service, { candidate: 'v2', strategy: 'canary' }, operator);
    expect(started).toMatchObject({ state: 'running', step: 0, weight: 0.05, stable: 'v1', candidate: 'v2' });
    expect(h.controller.plan(service)).toEqual({ stable: 'v1', rollout: { id: started.id, strategy: 'canary', candidate: 'v2', step: 0, weight: 0.05, shadowShare: 0 } });
    expect(Object.isFrozen(h.controller.plan(service))).toBe(true);
    expect(h.controller.plan(service)).toBe(h.controller.plan(service));

    const weights: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      h.clock += 60_000;
      await h.controller.tick();
      weights.push(h.controller.plan(service).rollout?.weight ?? 1);
    }
    expect(weights).toEqual([0.25, 0.5, 1]);
    expect(h.controller.plan(service)).toEqual({ stable: 'v2' });
    expect(h.promotions).toEqual(['v2']);
    expect(h.transitions).toEqual(['v2:canary', 'v2:live', 'v1:retired']);

    const status = await h.controller.status(service);
    expect(status?.rollout).toMatchObject({ id: started.id, state: 'promoted', weight: 1 });
    expect(status?.events.map((e) => e.kind)).toEqual(['started', 'analysis', 'step', 'analysis', 'step', 'analysis', 'promoted', 'live']);
    expect(status?.events.find((e) => e.kind === 'live')?.detail).toMatchObject({ revision: 2 });
    // Every verdict is kept with its numbers.
    expect(status?.events.filter((e) => e.kind === 'analysis').map((e) => (e.detail['verdict'] as AnalysisVerdict).metrics[0]?.candidate)).toEqual([
      { n: 100, value: 0.09 },
      { n: 100, value: 0.09 },
      { n: 100, value: 0.09 },
    ]);
    // One audit event per change (the verdicts ride with the change they caused).
    expect(await rolloutAudits(store)).toEqual(['rollout.started', 'rollout.step', 'rollout.step', 'rollout.promoted']);
    // Each step's analysis window starts at that step.
    expect(h.windows.map((w) => w.since)).toEqual([started.stepStartedAt, new Date(Date.UTC(2026, 0, 1, 12, 1)).toISOString(), new Date(Date.UTC(2026, 0, 1, 12, 2)).toISOString()]);
  });

  it('waits for the pause: both the duration and the decisions of the step', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 0.1, pause: { durationMs: 60_000, minDecisions: 50 } }, { weight: 1 }] }, operator);
    h.decisions = 49;
    h.clock += 60_000;
    await h.controller.tick();
    h.decisions = 50;
    h.clock -= 1;
    await h.controller.tick();
    expect(h.analyses).toBe(0);
    h.clock += 1;
    await h.controller.tick();
    expect(h.analyses).toBe(1);
    expect(h.controller.plan(service)).toEqual({ stable: 'v2' });
  });

  it('rolls back automatically on a failed analysis, keeping the verdict, and routes to stable at once', async () => {
    const h = harness(store);
    const r = await h.controller.start(service, { candidate: 'v2' }, operator);
    h.verdicts.push('fail');
    h.clock += 1000;
    await h.controller.tick();
    expect(h.plans.at(-1)).toEqual({ stable: 'v1' });
    expect(h.controller.plan(service)).toEqual({ stable: 'v1' });
    expect(h.transitions).toEqual(['v2:canary', 'v2:rolled-back']);
    const status = await h.controller.status(service);
    expect(status?.rollout).toMatchObject({ id: r.id, state: 'rolled-back', weight: 0 });
    const [analysis, rolledBack] = status!.events.slice(1);
    expect(analysis?.kind).toBe('analysis');
    expect((analysis?.detail['verdict'] as AnalysisVerdict).verdict).toBe('fail');
    expect(rolledBack).toMatchObject({ kind: 'rolled-back', actor: 'system:rollouts' });
    expect(String(rolledBack?.detail['reason'])).toContain('error rate fail');
    const audits = await store.audit.list({ limit: 100, action: 'rollout.rolled-back' });
    expect(audits.map((a) => a.actor)).toEqual([{ principal: 'system:rollouts', keyId: null, role: null }]);
  });

  it('fails below the limit without rolling back, then rolls back at the limit', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2', failureLimit: 2 }, operator);
    h.verdicts.push('fail', 'fail');
    h.clock += 1000;
    await h.controller.tick();
    expect(h.controller.plan(service).rollout?.weight).toBe(0.05);
    h.clock += 1000;
    await h.controller.tick();
    expect(h.controller.plan(service).rollout).toBeUndefined();
    expect((await h.controller.status(service))?.rollout.state).toBe('rolled-back');
  });

  it('pauses after inconclusiveLimit inconclusive analyses in a row', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2', inconclusiveLimit: 3 }, operator);
    h.verdicts.push('inconclusive', 'inconclusive', 'inconclusive');
    for (let i = 0; i < 2; i += 1) {
      h.clock += 1000;
      await h.controller.tick();
      expect((await h.controller.status(service))?.rollout.state).toBe('running');
    }
    h.clock += 1000;
    await h.controller.tick();
    const status = await h.controller.status(service);
    expect(status?.rollout).toMatchObject({ state: 'paused', weight: 0.05 });
    expect(status?.rollout.status.reason).toMatch(/inconclusive 3 times/);
    // Paused keeps its weight (as Argo's pause) and is not evaluated any more.
    expect(h.controller.plan(service).rollout?.weight).toBe(0.05);
    h.clock += 1000;
    await h.controller.tick();
    expect(h.analyses).toBe(3);
  });

  it('waits, without counting toward the limit, while an arm has too few decisions to judge', async () => {
    const h = harness(store, {
      async analyze() {
        h.analyses += 1;
        return h.analyses <= 4 ? { ...verdictOf('inconclusive'), summary: 'inconclusive: too few decisions', tooFewDecisions: true } : verdictOf('pass');
      },
    });
    await h.controller.start(service, { candidate: 'v2', inconclusiveLimit: 2, steps: [{ weight: 0.05 }, { weight: 0.5 }] }, operator);
    for (let i = 0; i < 4; i += 1) {
      h.clock += 1000;
      await h.controller.tick();
    }
    const waiting = await h.controller.status(service);
    expect(waiting?.rollout).toMatchObject({ state: 'running', step: 0, status: { inconclusives: 0 } });
    expect(waiting?.events.filter((e) => e.kind === 'analysis-waiting')).toHaveLength(4);
    h.clock += 1000;
    await h.controller.tick();
    expect((await h.controller.status(service))?.rollout).toMatchObject({ state: 'running', step: 1, weight: 0.5 });
  });

  it('rolls back on inconclusive when onInconclusive is rollback', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2', inconclusiveLimit: 1, onInconclusive: 'rollback' }, operator);
    h.verdicts.push('inconclusive');
    h.clock += 1000;
    await h.controller.tick();
    expect((await h.controller.status(service))?.rollout.state).toBe('rolled-back');
  });

  it('pauses awaiting approval when the gate is not met, then promotes once it is', async () => {
    const h = harness(store);
    h.gate = { ok: false, issues: [{ pointer: '/approvals', code: 'approvals', message: 'needs 1 approval by someone other than the author' }] };
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 0.5 }, { weight: 1 }] }, operator);
    h.clock += 1000;
    await h.controller.tick();
    let status = await h.controller.status(service);
    expect(status?.rollout.state).toBe('paused');
    expect(status?.rollout.status).toMatchObject({ awaiting: 'approval', reason: 'awaiting approval: needs 1 approval by someone other than the author' });
    expect(status?.rollout.status.issues).toEqual(h.gate.issues);
    expect(h.promotions).toEqual([]);

    await expect(h.controller.promote(service, operator)).rejects.toMatchObject({ code: 'GATE_NOT_MET' });
    h.gate = { ok: true, issues: [] };
    const promoted = await h.controller.promote(service, { ...operator, reason: 'approved' });
    expect(promoted.state).toBe('promoted');
    expect(h.promotions).toEqual(['v2']);
    status = await h.controller.status(service);
    expect(status?.events.map((e) => e.kind)).toEqual(['started', 'analysis', 'paused', 'promoted', 'live']);
    expect(await rolloutAudits(store)).toEqual(['rollout.started', 'rollout.paused', 'rollout.promoted']);
  });

  it('pauses, resumes, aborts and retries with a new id pointing at the old one', async () => {
    const h = harness(store);
    const first = await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 0.2 }, { weight: 0.4 }, { weight: 1 }] }, operator);
    await expect(h.controller.resume(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_STATE_INVALID' });
    await h.controller.pause(service, { ...operator, reason: 'lunch' });
    h.clock += 1000;
    await h.controller.tick();
    expect(h.analyses).toBe(0);
    await expect(h.controller.pause(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_STATE_INVALID' });
    await h.controller.resume(service, operator);
    h.clock += 1000;
    await h.controller.tick();
    expect(h.controller.plan(service).rollout?.weight).toBe(0.4);

    await expect(h.controller.start(service, { candidate: 'v3' }, operator)).rejects.toMatchObject({ code: 'ROLLOUT_ACTIVE' });
    await expect(h.controller.retry(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_ACTIVE' });
    await h.controller.abort(service, { ...operator, reason: 'wrong candidate' });
    expect(h.plans.at(-1)).toEqual({ stable: 'v1' });
    await expect(h.controller.abort(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_NOT_FOUND' });

    const second = await h.controller.retry(service, { ...operator, reason: 'aborted by mistake' });
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ retryOf: first.id, state: 'running', step: 0, weight: 0.2, candidate: 'v2' });
    expect(second.spec).toEqual(first.spec);
    expect(h.transitions).toEqual(['v2:canary', 'v2:registered', 'v2:canary']);
    expect((await h.controller.list(service)).map((r) => [r.id, r.state])).toEqual([
      [second.id, 'running'],
      [first.id, 'aborted'],
    ]);
    expect(await rolloutAudits(store)).toEqual(['rollout.started', 'rollout.paused', 'rollout.resumed', 'rollout.step', 'rollout.aborted', 'rollout.retried']);
  });

  it('resumes the same rollout at the same step after a restart', async () => {
    const h = harness(store);
    const r = await h.controller.start(service, { candidate: 'v2' }, operator);
    h.clock += 1000;
    await h.controller.tick();
    const before = h.controller.plan(service);

    const again = harness(store);
    again.clock = h.clock + 1000;
    expect(again.controller.plan(service)).toEqual({ stable: 'v1' });
    await again.controller.load();
    expect(again.controller.plan(service)).toEqual(before);
    expect(again.controller.plan(service).rollout).toMatchObject({ id: r.id, step: 1, weight: 0.25 });
    await again.controller.tick();
    expect(again.controller.plan(service).rollout).toMatchObject({ id: r.id, step: 2, weight: 0.5 });
  });

  it('takes up what another replica changed at its next refresh', async () => {
    const a = harness(store);
    const b = harness(store);
    const r = await a.controller.start(service, { candidate: 'v2' }, operator);
    await b.controller.refresh();
    expect(b.controller.plan(service).rollout).toMatchObject({ id: r.id, step: 0 });
    a.clock += 1000;
    await a.controller.tick();
    expect(b.controller.plan(service).rollout?.step).toBe(0);
    await b.controller.refresh();
    expect(b.controller.plan(service).rollout).toMatchObject({ id: r.id, step: 1, weight: 0.25 });
    // B acts on the fresh row (a stale one would be refused), and A sees it.
    await b.controller.abort(service, { ...operator, reason: 'from replica b' });
    expect(a.controller.plan(service).rollout?.step).toBe(1);
    await a.controller.refresh();
    expect(a.controller.plan(service)).toEqual({ stable: 'v1' });
    expect(b.plans.at(-1)).toEqual({ stable: 'v1' });
  });

  it('rolls back a promotion when no rollout is active, and refuses when there is nothing to undo', async () => {
    const h = harness(store);
    await expect(h.controller.rollback(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_NOT_FOUND' });
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 1 }] }, operator);
    await h.controller.promote(service, operator);
    expect(h.controller.plan(service)).toEqual({ stable: 'v2' });
    const undone = await h.controller.rollback(service, { ...operator, reason: 'complaints' });
    expect(undone.state).toBe('rolled-back');
    expect(h.promotions).toEqual(['v2', 'v1']);
    expect(h.plans.at(-1)).toEqual({ stable: 'v1' });
    expect(h.controller.plan(service)).toEqual({ stable: 'v1' });
    expect(h.transitions.slice(-2)).toEqual(['v2:rolled-back', 'v1:live']);
    await expect(h.controller.rollback(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_NOT_FOUND' });
  });

  it('undoing a promotion routes to the old stable before the new revision is live', async () => {
    let release!: () => void;
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 1 }] }, operator);
    await h.controller.promote(service, operator);
    const slow = harness(store, {
      async promoteLive(_s, version) {
        await new Promise<void>((resolve) => (release = resolve));
        slow.live = version;
        return { revision: 9 };
      },
    });
    slow.live = 'v2';
    const done = slow.controller.rollback(service, { ...operator, reason: 'drill' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The revision is not swapped yet (stableOf still says v2): the plan already says v1.
    expect(slow.controller.plan(service)).toEqual({ stable: 'v1' });
    release();
    await done;
    expect(slow.controller.plan(service)).toEqual({ stable: 'v1' });
    slow.live = 'v3';
    expect(slow.controller.plan(service)).toEqual({ stable: 'v3' });
  });

  it('keeps a failed live revision in the history and says so', async () => {
    const h = harness(store, {
      promoteLive: async () => {
        throw new Error('revision refused');
      },
    });
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 1 }] }, operator);
    await expect(h.controller.promote(service, operator)).rejects.toThrow('revision refused');
    const status = await h.controller.status(service);
    expect(status?.events.map((e) => e.kind)).toEqual(['started', 'promoted', 'live-failed']);
    expect(status?.events.at(-1)?.detail).toMatchObject({ version: 'v2', error: 'revision refused' });
  });

  it('rollback of an active rollout publishes the stable-only plan before the registry hears of it', async () => {
    const order: string[] = [];
    const h = harness(store, {
      onChange: (_s, plan) => order.push(plan.rollout === undefined ? 'stable-only' : 'rollout'),
      transition: async (_s, version, to) => {
        order.push(`${version}:${to}`);
      },
    });
    await h.controller.start(service, { candidate: 'v2' }, operator);
    await h.controller.rollback(service, { ...operator, reason: 'drill' });
    expect(order).toEqual(['rollout', 'v2:canary', 'stable-only', 'v2:rolled-back']);
  });

  it('writes the row, its event and the audit together; a stale writer is refused whole', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2' }, operator);
    const rows = await store.rollouts.list({ service, limit: 10 });
    const events = await store.rollouts.events(rows[0]!.id);
    expect(events).toHaveLength(1);
    expect(await rolloutAudits(store)).toHaveLength(1);
    // A stale writer (another replica moved the row) is refused whole: no event, no audit.
    const stale = { ...rows[0]!, state: 'paused', updatedAt: '2026-01-01T13:00:00.000Z' };
    await expect(store.rollouts.update(stale, { state: 'running', updatedAt: '2020-01-01T00:00:00.000Z' }, [{ ...events[0]!, id: 'rle_x', kind: 'paused' }])).rejects.toMatchObject({ code: 'ROLLOUT_STATE_INVALID' });
    expect(await store.rollouts.events(rows[0]!.id)).toHaveLength(1);
    expect((await store.rollouts.get(rows[0]!.id))?.state).toBe('running');
  });

  it('evaluates once when two ticks run at once', async () => {
    const h = harness(store);
    await h.controller.start(service, { candidate: 'v2' }, operator);
    let release!: () => void;
    h.analyzeGate = new Promise<void>((resolve) => (release = resolve));
    h.clock += 1000;
    const a = h.controller.tick();
    const b = h.controller.tick();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await Promise.all([a, b]);
    expect(h.analyses).toBe(1);
    expect(h.controller.plan(service).rollout?.step).toBe(1);
  });

  it('shadow completes with its verdict and never claims answers; experiment routes its weight', async () => {
    const h = harness(store);
    const shadow = await h.controller.start(service, { candidate: 'v2', strategy: 'shadow', share: 0.3 }, operator);
    expect(h.controller.plan(service).rollout).toEqual({ id: shadow.id, strategy: 'shadow', candidate: 'v2', step: 0, weight: 0, shadowShare: 0.3 });
    await expect(h.controller.promote(service, operator)).rejects.toMatchObject({ code: 'ROLLOUT_STATE_INVALID' });
    h.verdicts.push('fail');
    h.clock += 1000;
    await h.controller.tick();
    expect((await h.controller.status(service))?.rollout.state).toBe('completed');
    expect(h.transitions).toEqual(['v2:shadow', 'v2:registered']);

    const experiment = await h.controller.start(service, { candidate: 'v2', strategy: 'experiment', weight: 0.3 }, operator);
    expect(experiment.spec).toMatchObject({ srm: true, steps: [{ weight: 0.3 }] });
    expect(h.controller.plan(service).rollout).toMatchObject({ strategy: 'experiment', weight: 0.3, shadowShare: 0 });
    h.clock += 1000;
    await h.controller.tick();
    expect((await h.controller.status(service))?.rollout).toMatchObject({ id: experiment.id, state: 'completed' });
    expect(h.controller.plan(service)).toEqual({ stable: 'v1' });
    expect(h.transitions.slice(2)).toEqual(['v2:canary', 'v2:registered']);
  });

  it('refuses a candidate its check refuses before writing anything, so the next start is not ROLLOUT_ACTIVE', async () => {
    const h = harness(store, {
      async checkCandidate(_service, candidate) {
        if (candidate === 'v9') throw new BallastError('VERSION_NOT_FOUND', { detail: 'v9 is not in the running revision' });
      },
    });
    await expect(h.controller.start(service, { candidate: 'v9' }, operator)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    expect(await h.controller.status(service)).toBeUndefined();
    expect(h.transitions).toEqual([]);
    expect((await h.controller.start(service, { candidate: 'v2' }, operator)).state).toBe('running');
  });

  it('gives the gate the verdict that promotes, before it is kept', async () => {
    const seen: (string | undefined)[] = [];
    const h = harness(store, {
      async checkGate(_service, _candidate, analysis) {
        seen.push(analysis?.verdict.verdict);
        return { ok: true, issues: [] };
      },
    });
    await h.controller.start(service, { candidate: 'v2', steps: [{ weight: 0.5 }, { weight: 1 }] }, operator);
    h.clock += 1000;
    await h.controller.tick();
    expect(seen).toEqual(['pass']);
    expect((await h.controller.status(service))?.rollout.state).toBe('promoted');
  });

  it('a bandit experiment moves weight toward the better arm, keeps the weaker at its floor, and never completes by itself', async () => {
    const accuracy = (events: number, n: number) => ({ events, n, rate: events / n, interval: [0, 1] as [number, number] });
    const arm = (events: number, n: number) => ({ decisions: n, errorRate: accuracy(0, n), fallbackRate: accuracy(0, n), reviewRate: accuracy(0, n), accuracy: accuracy(events, n) });
    let arms = { control: arm(700, 1000), treatment: arm(900, 1000) };
    const h = harness(store, {
      async analyze(_rollout, window) {
        h.windows.push({ ...window });
        return { ...verdictOf('pass'), arms };
      },
    });
    const started = await h.controller.start(service, { candidate: 'v2', strategy: 'experiment', weight: 0.5, bandit: { floor: 0.1 } }, operator);
    h.clock += 1000;
    await h.controller.tick();
    // 90% against 70% on a thousand each: treatment wins every draw, so it gets all but the control's floor.
    let status = await h.controller.status(service);
    expect(status?.rollout).toMatchObject({ id: started.id, state: 'running', weight: 0.9 });
    expect(h.controller.plan(service).rollout?.weight).toBe(0.9);
    expect(status?.events.at(-1)).toMatchObject({ kind: 'bandit', detail: { from: 0.5, weight: 0.9 } });
    // A new weight is a new window: the next analysis starts where the weight changed.
    const changedAt = status!.rollout.stepStartedAt;
    // Then the control turns out better: the weight goes back, never below the floor.
    arms = { control: arm(950, 1000), treatment: arm(600, 1000) };
    h.clock += 1000;
    await h.controller.tick();
    expect(h.windows.at(-1)!.since).toBe(changedAt);
    status = await h.controller.status(service);
    expect(status?.rollout).toMatchObject({ state: 'running', weight: 0.1 });
    // Nearly equal arms keep the weight near the middle; the rollout keeps running.
    arms = { control: arm(500, 1000), treatment: arm(500, 1000) };
    h.clock += 1000;
    await h.controller.tick();
    status = await h.controller.status(service);
    expect(status?.rollout.state).toBe('running');
    expect(status!.rollout.weight).toBeGreaterThan(0.35);
    expect(status!.rollout.weight).toBeLessThan(0.65);
  });

  it('refuses a candidate that is already live', async () => {
    const h = harness(store);
    await expect(h.controller.start(service, { candidate: 'v1' }, operator)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });
});
