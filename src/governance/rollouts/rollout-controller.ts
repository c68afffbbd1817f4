// The rollout controller: the state machine of each service's rollout, persisted before it takes
// effect (row, event and audit in one transaction), and the routing plan the hot path reads. The
// analysis, the registry, the approval gates and the live configuration are injected.
import { BallastError, type Issue } from '../../errors/index.js';
import { activeRolloutStates, newId, type Actor, type Store, type StoredRollout, type StoredRolloutEvent } from '../../store/index.js';
import type { RoutingPlan } from '../../routing/routing-plan.js';
import type { AnalysisVerdict } from '../analysis/analysis-types.js';
import { banditWeights } from '../analysis/experiments.js';
import { auditEvent } from '../audit-events.js';
import { resolveRolloutSpec, type ResolvedRolloutSpec, type RolloutConfig, type RolloutStrategy } from './rollout-spec.js';


/** A verdict's summary without its leading verdict word, for reasons that already say it ("step 0 passed: …"). */
const because = (verdict: { readonly summary: string }): string => verdict.summary.replace(/^(pass|fail|inconclusive): /, '');

/** A 32-bit seed from a string (FNV-1a): each bandit draw is reproducible from its rollout and instant. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export const rolloutStates = ['running', 'paused', 'promoted', 'completed', 'aborted', 'rolled-back'] as const;
export type RolloutState = (typeof rolloutStates)[number];

/** The actor of every automatic change. */
export const systemActor: Actor = { principal: 'system:rollouts', keyId: null, role: null };

/** Who acts and why; every operator action takes one. */
export interface RolloutActionContext {
  readonly actor: Actor;
  readonly reason: string;
}

/** A registry transition's context. */
export interface TransitionContext extends RolloutActionContext {
  readonly rolloutId: string;
}

/** The mutable working state kept in the row's `status`. */
export interface RolloutStatus {
  readonly failures: number;
  /** Inconclusive verdicts in a row. */
  readonly inconclusives: number;
  /** The next judgement waits for a full pause after this instant (the step's start, or the last verdict). */
  readonly checkpointAt: string;
  readonly reason: string | null;
  /** Why it waits for people (`approval`), with the gate's issues. */
  readonly awaiting: 'approval' | null;
  readonly issues: readonly Issue[];
}

/** A rollout as the controller sees it. */
export interface Rollout extends Omit<StoredRollout, 'spec' | 'status' | 'state' | 'strategy'> {
  readonly strategy: RolloutStrategy;
  readonly state: RolloutState;
  readonly spec: ResolvedRolloutSpec;
  readonly status: RolloutStatus;
}

export interface RolloutWithHistory {
  readonly rollout: Rollout;
  readonly events: readonly StoredRolloutEvent[];
}

export interface StartRolloutOptions extends RolloutConfig {
  readonly candidate: string;
}

export interface RolloutControllerOptions {
  readonly store: Store;
  readonly now?: () => number;
  /** Candidate against stable over the window. */
  analyze(rollout: Rollout, window: { readonly since: string; readonly until: string }): Promise<AnalysisVerdict>;
  /** Decisions made by this rollout's routing (either arm) since the instant. */
  countDecisions(rolloutId: string, since: string): Promise<number>;
  /** A registry lifecycle transition. */
  transition(service: string, version: string, to: string, ctx: TransitionContext): Promise<void>;
  /** What promotion to 100% needs (checks, approvals); `analysis` is the verdict promoting it, when an analysis does. */
  checkGate(service: string, candidate: string, analysis?: { readonly verdict: AnalysisVerdict; readonly rolloutId: string; readonly at: string }): Promise<{ readonly ok: boolean; readonly issues: readonly Issue[] }>;
  /** Refuses a candidate before anything is written (not in the running revision, or a lifecycle state it may not leave for a trial). */
  checkCandidate?(service: string, candidate: string, strategy: RolloutStrategy): Promise<void>;
  /** Makes the configuration revision with `version` live. */
  promoteLive(service: string, version: string, ctx: TransitionContext): Promise<{ readonly revision: number }>;
  /** The running revision's live version of a service. */
  stableOf(service: string): string;
  /** The service's `rollout:` block, if any. */
  configOf?(service: string): unknown;
  /** Called synchronously whenever a service's routing changes. */
  onChange?(service: string, plan: RoutingPlan): void;
  /** Errors of timer ticks and of effects after a committed change (registry transitions). */
  onError?(error: unknown): void;
  readonly evaluateEveryMs?: number;
}

export interface RolloutController {
  /** Loads the running and paused rollouts from the store (at start, before serving). */
  load(): Promise<void>;
  /** The routing plan of a service: a cached frozen object. */
  plan(service: string): RoutingPlan;
  start(service: string, options: StartRolloutOptions, ctx: RolloutActionContext): Promise<Rollout>;
  pause(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  resume(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  promote(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  abort(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  /** A new rollout with the same spec as the service's last one, which must be aborted or rolled back. */
  retry(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  /** 100% stable now: the active rollout rolled back, or the last promotion undone. */
  rollback(service: string, ctx: RolloutActionContext): Promise<Rollout>;
  /** Takes up what other replicas changed in the store (each service's latest rollout). */
  refresh(): Promise<void>;
  /** Refreshes, then evaluates every running rollout once; a tick in progress is joined, not repeated. */
  tick(): Promise<void>;
  startTimer(): void;
  stopTimer(): void;
  /** The current (or last) rollout of a service with its whole history. */
  status(service: string): Promise<RolloutWithHistory | undefined>;
  list(service: string, limit?: number): Promise<Rollout[]>;
}

const isActive = (state: string): boolean => (activeRolloutStates as readonly string[]).includes(state);

const asRollout = (r: StoredRollout): Rollout => r as unknown as Rollout;

/** What the row stores of a rollout. */
const toStored = (r: Rollout): StoredRollout => r as unknown as StoredRollout;

export function createRolloutController(options: RolloutControllerOptions): RolloutController {
  const { store, now = Date.now, evaluateEveryMs = 5000 } = options;
  const iso = () => new Date(now()).toISOString();
  const active = new Map<string, Rollout>();
  // Each plan with the live version seen when it was made: a plan without a rollout is made again
  // only once the live version moves (an apply, or the revision a promotion or rollback makes).
  const plans = new Map<string, { readonly plan: RoutingPlan; readonly seen: string }>();
  const queues = new Map<string, Promise<unknown>>();
  const evaluating = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  const reportError = (error: unknown) => options.onError?.(error);

  function planOf(r: Rollout | undefined, stable: string): RoutingPlan {
    if (r === undefined || !isActive(r.state)) return Object.freeze({ stable });
    const rollout = Object.freeze({ id: r.id, strategy: r.strategy, candidate: r.candidate, step: r.step, weight: r.weight, shadowShare: r.spec.shadowShare });
    return Object.freeze({ stable: r.stable, rollout });
  }

  /** Swaps the service's plan and tells the hot path, synchronously. */
  function publish(service: string, plan: RoutingPlan): void {
    plans.set(service, { plan, seen: options.stableOf(service) });
    options.onChange?.(service, plan);
  }

  /** Runs work for a service after the previous work for it settled. */
  function serial<R>(service: string, work: () => Promise<R>): Promise<R> {
    const previous = queues.get(service) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    queues.set(service, settled);
    void settled.then(() => {
      if (queues.get(service) === settled) queues.delete(service);
    });
    return next;
  }

  function event(r: Rollout, kind: string, actor: Actor, detail: Record<string, unknown>): StoredRolloutEvent {
    return { id: newId('rle'), rolloutId: r.id, service: r.service, at: r.updatedAt, kind, actor: actor.principal, step: r.step, weight: r.weight, detail };
  }

  const summary = (r: Rollout) => ({ state: r.state, step: r.step, weight: r.weight, candidate: r.candidate, stable: r.stable });

  /**
   * Persists `next` (from `before`) with its events and the audit event in one transaction, then
   * updates the cache and publishes the plan; effects that follow are the caller's.
   */
  async function commit(before: Rollout, next: Rollout, kind: string, ctx: RolloutActionContext, extra: { readonly events?: readonly StoredRolloutEvent[]; readonly detail?: Record<string, unknown> } = {}): Promise<Rollout> {
    const main = event(next, kind, ctx.actor, { reason: ctx.reason, from: before.state, to: next.state, ...extra.detail });
    const audit = auditEvent({ actor: ctx.actor, action: `rollout.${kind}`, resource: { kind: 'rollout', id: next.id }, service: next.service, before: summary(before), after: summary(next), detail: ctx.reason, at: next.updatedAt });
    await store.rollouts.update(toStored(next), { state: before.state, updatedAt: before.updatedAt }, [...(extra.events ?? []), main], audit);
    settle(next);
    return next;
  }

  /** The cache after a committed change: active rollouts kept, others dropped, plan swapped. */
  function settle(r: Rollout, stable?: string): void {
    if (isActive(r.state)) active.set(r.service, r);
    else active.delete(r.service);
    publish(r.service, planOf(isActive(r.state) ? r : undefined, stable ?? (r.state === 'promoted' ? r.candidate : r.stable)));
  }

  async function effect(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      reportError(error);
    }
  }

  function requireActive(service: string, action: string, allowed: readonly RolloutState[]): Rollout {
    const r = active.get(service);
    if (r === undefined) throw new BallastError('ROLLOUT_NOT_FOUND', { detail: `service '${service}' has no rollout running or paused to ${action}` });
    if (!allowed.includes(r.state)) throw new BallastError('ROLLOUT_STATE_INVALID', { detail: `rollout ${r.id} is ${r.state}: it cannot ${action} (only when ${allowed.join(' or ')})` });
    return r;
  }

  const changed = (r: Rollout, patch: Partial<Omit<Rollout, 'status'>> & { readonly status?: Partial<RolloutStatus> }): Rollout => {
    const at = iso();
    const ended = patch.state !== undefined && !isActive(patch.state);
    return { ...r, ...patch, updatedAt: at, endedAt: ended ? at : r.endedAt, status: { ...r.status, ...patch.status } };
  };

  async function create(service: string, spec: ResolvedRolloutSpec, candidate: string, ctx: RolloutActionContext, retryOf: string | null): Promise<Rollout> {
    const stable = options.stableOf(service);
    if (candidate === stable) throw new BallastError('REQUEST_INVALID', { detail: `'${candidate}' is already the live version of '${service}'`, issues: [{ pointer: '/candidate', code: 'live', message: 'the candidate must differ from the live version' }] });
    await options.checkCandidate?.(service, candidate, spec.strategy);
    const at = iso();
    const first = spec.steps[0]!;
    const r: Rollout = {
      id: newId('rol'),
      service,
      stable,
      candidate,
      strategy: spec.strategy,
      spec,
      state: 'running',
      step: 0,
      weight: first.weight,
      createdAt: at,
      createdBy: ctx.actor.principal,
      updatedAt: at,
      stepStartedAt: at,
      endedAt: null,
      retryOf,
      status: { failures: 0, inconclusives: 0, checkpointAt: at, reason: null, awaiting: null, issues: [] },
    };
    const kind = retryOf === null ? 'started' : 'retried';
    const audit = auditEvent({ actor: ctx.actor, action: `rollout.${kind}`, resource: { kind: 'rollout', id: r.id }, service, after: { ...summary(r), spec, retryOf }, detail: ctx.reason, at });
    await store.rollouts.create(toStored(r), [event(r, kind, ctx.actor, { reason: ctx.reason, to: 'running', spec, retryOf })], audit);
    settle(r);
    await options.transition(service, candidate, spec.strategy === 'shadow' ? 'shadow' : 'canary', { ...ctx, rolloutId: r.id });
    return r;
  }

  /**
   * A bandit experiment's analysis: the treatment's weight becomes its Thompson-sampling share of wins on
   * accuracy (labelled decisions), never below `floor` for either arm, so it keeps watching after it has
   * chosen; it never completes by itself (an operator promotes or aborts). A new weight starts a new window,
   * so each window's sample-ratio check is against one weight.
   */
  async function shiftWeight(r: Rollout, verdict: AnalysisVerdict, until: string, analysisEvent: StoredRolloutEvent, floor: number): Promise<void> {
    const control = verdict.arms?.control?.accuracy;
    const treatment = verdict.arms?.treatment?.accuracy;
    const auto = (reason: string): RolloutActionContext => ({ actor: systemActor, reason });
    if (control === undefined || treatment === undefined || control.n === 0 || treatment.n === 0) {
      await commit(r, changed(r, { status: { checkpointAt: until } }), 'analysis-waiting', auto('bandit: waiting for labelled decisions in both arms'), { events: [analysisEvent] });
      return;
    }
    const weights = banditWeights(
      [
        { arm: 'control', successes: control.events, trials: control.n },
        { arm: 'treatment', successes: treatment.events, trials: treatment.n },
      ],
      { floor, seed: seedOf(`${r.id}/${until}`) },
    );
    const bounded = Math.min(1 - Math.max(floor, 0.01), Math.max(Math.max(floor, 0.01), weights.treatment!));
    const next = Math.round(bounded * 1000) / 1000;
    const figures = `accuracy control ${control.events}/${control.n}, treatment ${treatment.events}/${treatment.n}`;
    if (Math.abs(next - r.weight) < 0.005) {
      await commit(r, changed(r, { status: { checkpointAt: until, inconclusives: 0 } }), 'bandit', auto(`bandit: treatment stays at ${(100 * r.weight).toFixed(1)}% (${figures})`), { events: [analysisEvent] });
      return;
    }
    await commit(r, changed(r, { weight: next, stepStartedAt: until, status: { checkpointAt: until, inconclusives: 0 } }), 'bandit', auto(`bandit: treatment ${(100 * r.weight).toFixed(1)}% → ${(100 * next).toFixed(1)}% (${figures})`), { events: [analysisEvent], detail: { from: r.weight, weight: next } });
  }

  /** Gate, then the promotion: persisted, then the live revision, then the registry. */
  async function promoteNow(r: Rollout, ctx: RolloutActionContext, events: readonly StoredRolloutEvent[] = [], verdict?: AnalysisVerdict): Promise<Rollout> {
    // The verdict that promotes is not kept yet: the gate is given it, as the rollout's last analysis.
    const gate = await options.checkGate(r.service, r.candidate, verdict === undefined ? undefined : { verdict, rolloutId: r.id, at: iso() });
    if (!gate.ok) {
      const reason = `awaiting approval: ${gate.issues.map((i) => i.message).join('; ') || 'the gate is not met'}`;
      // An operator is told and nothing changes; the analysis pauses the rollout until people act.
      if (ctx.actor.principal !== systemActor.principal) {
        throw new BallastError('GATE_NOT_MET', { detail: `rollout ${r.id} cannot be promoted: ${reason}`, issues: [...gate.issues] });
      }
      return commit(r, changed(r, { state: 'paused', status: { reason, awaiting: 'approval', issues: gate.issues } }), 'paused', { actor: ctx.actor, reason }, { events, detail: { issues: gate.issues } });
    }
    const last = r.spec.steps.length - 1;
    const next = await commit(r, changed(r, { state: 'promoted', step: last, weight: 1, status: { reason: null, awaiting: null, issues: [] } }), 'promoted', ctx, { events });
    const tctx = { ...ctx, rolloutId: r.id };
    await live(next, r.candidate, tctx);
    await effect(() => options.transition(r.service, r.candidate, 'live', tctx));
    await effect(() => options.transition(r.service, r.stable, 'retired', tctx));
    return next;
  }

  /** The configuration revision with `version` live, its number (or its failure) kept in the history. */
  async function live(r: Rollout, version: string, ctx: TransitionContext): Promise<{ readonly revision: number }> {
    try {
      const { revision } = await options.promoteLive(r.service, version, ctx);
      await store.rollouts.appendEvents([{ ...event(r, 'live', ctx.actor, { revision, version }), at: iso() }]);
      return { revision };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await effect(() => store.rollouts.appendEvents([{ ...event(r, 'live-failed', ctx.actor, { version, error: message }), at: iso() }]));
      throw error;
    }
  }

  async function rollBack(r: Rollout, ctx: RolloutActionContext, events: readonly StoredRolloutEvent[] = [], detail: Record<string, unknown> = {}): Promise<Rollout> {
    const next = await commit(r, changed(r, { state: 'rolled-back', weight: 0, status: { reason: ctx.reason } }), 'rolled-back', ctx, { events, detail });
    await effect(() => options.transition(r.service, r.candidate, 'rolled-back', { ...ctx, rolloutId: r.id }));
    return next;
  }

  /** One judgement of a running rollout, if its pause is over. */
  async function evaluate(service: string): Promise<void> {
    const r = active.get(service);
    if (r === undefined || r.state !== 'running') return;
    const step = r.spec.steps[r.step]!;
    const checkpoint = r.status.checkpointAt;
    if (now() - Date.parse(checkpoint) < step.pause.durationMs) return;
    if ((await options.countDecisions(r.id, checkpoint)) < step.pause.minDecisions) return;
    const until = iso();
    const verdict = await options.analyze(r, { since: r.stepStartedAt, until });
    const current = active.get(service);
    // An operator's action moved it while the analysis ran: that action wins, this verdict is moot.
    if (current === undefined || current.id !== r.id || current.updatedAt !== r.updatedAt) return;
    const verdictEvent = (to: Rollout): StoredRolloutEvent => ({ ...event(to, 'analysis', systemActor, { verdict, step: r.step, weight: r.weight }), at: until });
    const auto = (reason: string): RolloutActionContext => ({ actor: systemActor, reason });

    if (r.strategy === 'shadow' && verdict.verdict !== 'inconclusive') {
      const next = changed(r, { state: 'completed', status: { reason: verdict.summary } });
      await commit(r, next, 'completed', auto(`shadow analysis ${verdict.verdict}: ${because(verdict)}`), { events: [verdictEvent(next)], detail: { verdict: verdict.verdict } });
      await effect(() => options.transition(service, r.candidate, 'registered', { ...auto('shadow completed'), rolloutId: r.id }));
      return;
    }
    if (r.strategy === 'experiment' && r.spec.bandit !== null && verdict.verdict !== 'fail') {
      await shiftWeight(r, verdict, until, verdictEvent(r), r.spec.bandit.floor);
      return;
    }
    switch (verdict.verdict) {
      case 'pass': {
        if (r.strategy === 'experiment') {
          const next = changed(r, { state: 'completed', status: { reason: verdict.summary, inconclusives: 0 } });
          await commit(r, next, 'completed', auto(`experiment analysis passed: ${because(verdict)}`), { events: [verdictEvent(next)], detail: { verdict: 'pass' } });
          // Finished, not live: a canary (or promote while it runs) takes the candidate further.
          await effect(() => options.transition(service, r.candidate, 'registered', { ...auto('experiment completed'), rolloutId: r.id }));
          return;
        }
        const following = r.spec.steps[r.step + 1];
        if (following === undefined || following.weight >= 1) {
          const passed = changed(r, { status: { inconclusives: 0 } });
          await promoteNow(r, auto(`step ${r.step} passed at weight ${r.weight}: ${because(verdict)}`), [verdictEvent(passed)], verdict);
          return;
        }
        const at = iso();
        const next = changed(r, { step: r.step + 1, weight: following.weight, stepStartedAt: at, status: { inconclusives: 0, checkpointAt: at } });
        await commit(r, next, 'step', auto(`step ${r.step} passed at weight ${r.weight}: ${because(verdict)}`), { events: [verdictEvent(r)] });
        return;
      }
      case 'fail': {
        const failures = r.status.failures + 1;
        if (failures >= r.spec.failureLimit) {
          const next = { ...r, status: { ...r.status, failures } };
          await rollBack(next, auto(`analysis failed ${failures} time(s) (limit ${r.spec.failureLimit}): ${because(verdict)}`), [verdictEvent(r)], { verdict: 'fail' });
          return;
        }
        await commit(r, changed(r, { status: { failures, checkpointAt: until } }), 'analysis-failed', auto(`analysis failed (${failures} of ${r.spec.failureLimit}): ${because(verdict)}`), { events: [verdictEvent(r)] });
        return;
      }
      case 'inconclusive': {
        // Too few decisions in an arm is waiting, not doubt: kept in the history, not counted toward the limit
        // (a 5% step needs twenty times more traffic than its candidate's minimum before it can be judged).
        if (verdict.tooFewDecisions === true) {
          await commit(r, changed(r, { status: { checkpointAt: until } }), 'analysis-waiting', auto(`waiting for data: ${because(verdict)}`), { events: [verdictEvent(r)] });
          return;
        }
        const inconclusives = r.status.inconclusives + 1;
        if (inconclusives < r.spec.inconclusiveLimit) {
          await commit(r, changed(r, { status: { inconclusives, checkpointAt: until } }), 'analysis-inconclusive', auto(`analysis inconclusive (${inconclusives} of ${r.spec.inconclusiveLimit}): ${because(verdict)}`), { events: [verdictEvent(r)] });
          return;
        }
        const reason = `analysis inconclusive ${inconclusives} times in a row (limit ${r.spec.inconclusiveLimit}): ${because(verdict)}`;
        const counted = { ...r, status: { ...r.status, inconclusives } };
        if (r.spec.onInconclusive === 'rollback') {
          await rollBack(counted, auto(reason), [verdictEvent(r)], { verdict: 'inconclusive' });
          return;
        }
        await commit(r, changed(counted, { state: 'paused', status: { reason } }), 'paused', auto(reason), { events: [verdictEvent(r)], detail: { verdict: 'inconclusive' } });
        return;
      }
    }
  }

  /** Each running rollout judged once, one judgement per rollout at a time. */
  async function evaluateAll(): Promise<void> {
    await Promise.all(
      [...active.values()]
        .filter((r) => r.state === 'running' && !evaluating.has(r.id))
        .map((r) => {
          evaluating.add(r.id);
          return serial(r.service, () => evaluate(r.service))
            .catch(reportError)
            .finally(() => evaluating.delete(r.id));
        }),
    );
  }

  const controller: RolloutController = {
    async load() {
      for (const stored of await store.rollouts.active()) {
        const r = asRollout(stored);
        active.set(r.service, r);
        publish(r.service, planOf(r, r.stable));
      }
    },

    plan(service) {
      const cached = plans.get(service);
      if (cached !== undefined && cached.plan.rollout !== undefined) return cached.plan;
      const stable = options.stableOf(service);
      if (cached !== undefined && cached.seen === stable) return cached.plan;
      const plan = planOf(undefined, stable);
      plans.set(service, { plan, seen: stable });
      return plan;
    },

    start: (service, startOptions, ctx) =>
      serial(service, async () => {
        const { candidate, ...overrides } = startOptions;
        const spec = resolveRolloutSpec(options.configOf?.(service), overrides);
        const current = active.get(service);
        if (current !== undefined) throw new BallastError('ROLLOUT_ACTIVE', { detail: `service '${service}' already has rollout ${current.id} (${current.state})` });
        return create(service, spec, candidate, ctx, null);
      }),

    pause: (service, ctx) =>
      serial(service, async () => {
        const r = requireActive(service, 'pause', ['running']);
        return commit(r, changed(r, { state: 'paused', status: { reason: ctx.reason, awaiting: null, issues: [] } }), 'paused', ctx);
      }),

    resume: (service, ctx) =>
      serial(service, async () => {
        const r = requireActive(service, 'resume', ['paused']);
        return commit(r, changed(r, { state: 'running', status: { reason: null, awaiting: null, issues: [], inconclusives: 0, checkpointAt: iso() } }), 'resumed', ctx);
      }),

    promote: (service, ctx) =>
      serial(service, async () => {
        const r = requireActive(service, 'promote', ['running', 'paused']);
        if (r.strategy === 'shadow') throw new BallastError('ROLLOUT_STATE_INVALID', { detail: `rollout ${r.id} is a shadow: the candidate never answered; start a canary to promote it` });
        return promoteNow(r, ctx);
      }),

    abort: (service, ctx) =>
      serial(service, async () => {
        const r = requireActive(service, 'abort', ['running', 'paused']);
        const next = await commit(r, changed(r, { state: 'aborted', weight: 0 }), 'aborted', ctx);
        await effect(() => options.transition(service, r.candidate, 'registered', { ...ctx, rolloutId: r.id }));
        return next;
      }),

    retry: (service, ctx) =>
      serial(service, async () => {
        const [last] = await store.rollouts.list({ service, limit: 1 });
        if (last === undefined) throw new BallastError('ROLLOUT_NOT_FOUND', { detail: `service '${service}' has no rollout to retry` });
        if (last.state !== 'aborted' && last.state !== 'rolled-back') {
          throw new BallastError(isActive(last.state) ? 'ROLLOUT_ACTIVE' : 'ROLLOUT_STATE_INVALID', { detail: `the last rollout of '${service}' (${last.id}) is ${last.state}: only an aborted or rolled-back one can be retried` });
        }
        const old = asRollout(last);
        return create(service, old.spec, old.candidate, ctx, old.id);
      }),

    rollback: (service, ctx) =>
      serial(service, async () => {
        const current = active.get(service);
        if (current !== undefined) return rollBack(current, ctx);
        const [last] = await store.rollouts.list({ service, limit: 1 });
        if (last === undefined || last.state !== 'promoted') {
          throw new BallastError('ROLLOUT_NOT_FOUND', { detail: `service '${service}' has no active rollout and its last one was not a promotion: nothing to roll back` });
        }
        const r = asRollout(last);
        // The undone promotion: the previous stable goes live again; the plan follows it at once.
        const next = await commit(r, changed(r, { state: 'rolled-back', weight: 0, status: { reason: ctx.reason } }), 'rolled-back', ctx, { detail: { undid: 'promotion' } });
        const tctx = { ...ctx, rolloutId: r.id };
        await live(next, r.stable, tctx);
        await effect(() => options.transition(service, r.candidate, 'rolled-back', tctx));
        await effect(() => options.transition(service, r.stable, 'live', tctx));
        return next;
      }),

    async refresh() {
      const services = new Set([...active.keys(), ...(await store.rollouts.active()).map((r) => r.service)]);
      await Promise.all(
        [...services].map((service) =>
          serial(service, async () => {
            const [latest] = await store.rollouts.list({ service, limit: 1 });
            const mine = active.get(service);
            if (latest === undefined || (mine?.id === latest.id && mine.updatedAt === latest.updatedAt)) return;
            if (mine !== undefined || isActive(latest.state)) settle(asRollout(latest));
          }),
        ),
      );
    },

    tick() {
      ticking ??= (async () => {
        await controller.refresh();
        await evaluateAll();
      })()
        .catch(reportError)
        .finally(() => {
          ticking = undefined;
        });
      return ticking;
    },

    startTimer() {
      if (timer !== undefined) return;
      timer = setInterval(() => void controller.tick(), evaluateEveryMs);
      timer.unref();
    },

    stopTimer() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },

    async status(service) {
      const [last] = await store.rollouts.list({ service, limit: 1 });
      if (last === undefined) return undefined;
      return { rollout: asRollout(last), events: await store.rollouts.events(last.id) };
    },

    async list(service, limit = 100) {
      return (await store.rollouts.list({ service, limit })).map(asRollout);
    },
  };
  return controller;
}
