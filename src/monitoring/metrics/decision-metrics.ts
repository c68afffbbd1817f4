import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What metrics need to know of a decision (the pipeline's Decision has this shape). */
export interface ObservedDecision {
  readonly service: string;
  readonly version: string | null;
  readonly outcome: string;
  readonly timings: Readonly<Partial<Record<string, number>>>;
  readonly explanation: {
    readonly modelError?: { readonly code: string };
    readonly attempts?: readonly { readonly version: string; readonly attempt: number; readonly code: string | null }[];
    readonly fallback?: { readonly from: string; readonly answeredBy: { readonly step: number; readonly kind: string } | null; readonly steps: readonly { readonly step: number; readonly kind: string; readonly answered: boolean; readonly code?: string }[] };
    /** Present while a rollout routed the decision; `arm` is absent when the decision is not in its comparison. */
    readonly routing?: { readonly arm?: string };
    readonly crossChecks?: readonly { readonly name: string; readonly verdict: string; readonly attempts?: readonly { readonly version: string; readonly attempt: number; readonly code: string | null }[] }[];
  };
}

/**
 * The `arm` label's values: a fixed set, so a rollout never adds series beyond these (rollout ids and
 * subject keys are never labels). `none`: outside a rollout, or not in its comparison; `other`: an arm
 * this list does not know yet.
 */
export const armLabels = ['stable', 'candidate', 'none', 'other'] as const;

const armOf = (routing: { readonly arm?: string } | undefined): (typeof armLabels)[number] => {
  const arm = routing?.arm;
  if (arm === undefined) return 'none';
  return arm === 'stable' || arm === 'candidate' ? arm : 'other';
};

/** What metrics need to know of one shadow copy (the shadow runner's result, compared by the server). */
export interface ObservedShadow {
  readonly service: string;
  readonly version: string;
  readonly result: 'answered' | 'error' | 'skipped' | 'dropped';
  /** answered: whether the candidate's output label equals the served one's; undefined when either has none. */
  readonly sameOutput?: boolean;
}

/** What the runtime gauges read at each scrape. */
export interface ObservedRuntime {
  /** The configuration revision new requests run on (0 without revisions). */
  readonly revision: number;
  readonly services: readonly ObservedServiceRuntime[];
  /** The model registry's versions per service and lifecycle state, when there is a registry. */
  readonly models?: readonly { readonly service: string; readonly state: string; readonly count: number }[];
}

export interface ObservedServiceRuntime {
  readonly service: string;
  /** The state of the service's latest rollout (one of rolloutStateLabels), `none` when it never had one. */
  readonly rolloutState: string;
  /** The rollout that claims traffic now (running or paused), as this process routes it. */
  readonly rollout?: { readonly candidate: string; readonly step: number; readonly weight: number; readonly shadowShare: number };
  readonly killed: boolean;
}

/** The rollout states the state gauge has a series for (the rollout controller's, and `none`). */
export const rolloutStateLabels = ['none', 'running', 'paused', 'promoted', 'completed', 'aborted', 'rolled-back'] as const;

/** The registry's lifecycle states the model gauge has a series for. */
export const modelStateLabels = ['registered', 'shadow', 'canary', 'live', 'retired', 'rolled-back'] as const;

/** What metrics need to know of a breaker's state change. */
export interface ObservedBreakerTransition {
  readonly service: string;
  readonly version: string;
  readonly kind: string;
  readonly from: string;
  readonly to: string;
}

const breakerStates = ['closed', 'open', 'half_open'] as const;

export interface DecisionMetrics {
  readonly registry: Registry;
  /** Counts one decision and records its stage latencies. */
  observeDecision(decision: ObservedDecision): void;
  /** Counts one request answered with a problem document. */
  observeRefusal(code: string, status: number): void;
  /** Sets a monitor's current state (one series per state, 1 for the current one). */
  observeMonitorStatus(status: ObservedMonitorStatus): void;
  /** Counts a breaker's state change and sets its state gauge. */
  observeBreakerTransition(transition: ObservedBreakerTransition): void;
  /** Sets a breaker's state gauge without a change (at start: every breaker closed). */
  observeBreakerState(state: Omit<ObservedBreakerTransition, 'from'>): void;
  /** Counts one shadow copy by what became of it, and the answered ones by agreement with the served answer. */
  observeShadow(shadow: ObservedShadow): void;
  /**
   * Reads the revision, rollout and registry gauges from `provider` at every scrape (once per scrape, shared by
   * the gauges); returns the remover. A provider that fails leaves those gauges empty for that scrape.
   */
  observeRuntime(provider: () => ObservedRuntime | Promise<ObservedRuntime>): () => void;
}

/** What metrics need to know of a monitor's status. */
export interface ObservedMonitorStatus {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly state: string;
}

const monitorStates = ['unknown', 'ok', 'warning', 'alert'] as const;

// Stage latencies run from microseconds (rules) to seconds (a slow model): log-spaced buckets.
const stageBuckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Prometheus metrics of the decision path, in their own registry (several servers may share a process). */
export function createDecisionMetrics(options: { readonly defaultMetrics?: boolean } = {}): DecisionMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges with a counter's `_total` suffix, which promtool rejects; the
    // same figures stay available per type as nodejs_active_handles, _requests and _resources.
    for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(misnamed);
  }
  const decisions = new Counter({
    name: 'ballast_decisions_total',
    help: 'Decisions made, by service, model version, outcome and rollout arm (stable, candidate; none outside a rollout).',
    labelNames: ['service', 'version', 'outcome', 'arm'] as const,
    registers: [registry],
  });
  const modelErrors = new Counter({
    name: 'ballast_model_errors_total',
    help: 'Model calls that failed or broke the output contract, by service, version and error code.',
    labelNames: ['service', 'version', 'code'] as const,
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: 'ballast_stage_duration_seconds',
    help: 'Time spent in each stage of the decision path.',
    labelNames: ['service', 'stage'] as const,
    buckets: stageBuckets,
    registers: [registry],
  });
  const decisionSeconds = new Histogram({
    name: 'ballast_decision_duration_seconds',
    help: 'Time from the first stage to the decision being durable, by service, version and rollout arm.',
    labelNames: ['service', 'version', 'arm'] as const,
    buckets: stageBuckets,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'ballast_requests_refused_total',
    help: 'Requests answered with a problem document, by error code and HTTP status.',
    labelNames: ['code', 'status'] as const,
    registers: [registry],
  });
  const monitorState = new Gauge({
    name: 'ballast_monitor_state',
    help: 'Current state of each monitor: 1 for the state it is in, 0 for the others (unknown, ok, warning, alert).',
    labelNames: ['service', 'monitor', 'version', 'segment', 'state'] as const,
    registers: [registry],
  });
  const modelCalls = new Counter({
    name: 'ballast_model_calls_total',
    help: 'Model calls (first attempts, retries and fallback versions; not the ones a breaker refused), by service, version and result code (ok when it answered well).',
    labelNames: ['service', 'version', 'code'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'ballast_model_retries_total',
    help: 'Model calls that were retries, by service and version.',
    labelNames: ['service', 'version'] as const,
    registers: [registry],
  });
  const fallbackSteps = new Counter({
    name: 'ballast_fallback_steps_total',
    help: 'Fallback chain steps tried, by service, step (1-based), kind and result (answered, or the code it failed with).',
    labelNames: ['service', 'step', 'kind', 'result'] as const,
    registers: [registry],
  });
  const fallbackExhausted = new Counter({
    name: 'ballast_fallback_exhausted_total',
    help: "Decisions whose fallback chain had no step that answered (the policy's onModelError decided).",
    labelNames: ['service'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'ballast_breaker_state',
    help: 'Current state of each circuit breaker: 1 for the state it is in, 0 for the others (closed, open, half_open).',
    labelNames: ['service', 'version', 'kind', 'state'] as const,
    registers: [registry],
  });
  const breakerTransitions = new Counter({
    name: 'ballast_breaker_transitions_total',
    help: 'Circuit breaker state changes, by service, version, kind and the states left and entered.',
    labelNames: ['service', 'version', 'kind', 'from', 'to'] as const,
    registers: [registry],
  });
  const crossChecks = new Counter({
    name: 'ballast_cross_checks_total',
    help: 'Cross-checks that ran, by service, checker and verdict (agree, disagree, unavailable).',
    labelNames: ['service', 'checker', 'verdict'] as const,
    registers: [registry],
  });
  const shadowCopies = new Counter({
    name: 'ballast_shadow_decisions_total',
    help: 'Shadow copies of requests, by service, candidate version and result (answered, error; skipped over the in-flight bound; dropped when their record could not be written).',
    labelNames: ['service', 'version', 'result'] as const,
    registers: [registry],
  });
  const shadowComparisons = new Counter({
    name: 'ballast_shadow_comparisons_total',
    help: "Answered shadow copies whose output label could be compared with the served answer's, by service, candidate version and result (same, different).",
    labelNames: ['service', 'version', 'result'] as const,
    registers: [registry],
  });

  let provider: (() => ObservedRuntime | Promise<ObservedRuntime>) | undefined;
  let scrape: Promise<ObservedRuntime | undefined> | undefined;
  // Every runtime gauge's collect starts in the same turn of a scrape: they share one read of the provider.
  const current = (): Promise<ObservedRuntime | undefined> => {
    const read = provider;
    if (read === undefined) return Promise.resolve(undefined);
    scrape ??= (async () => read())()
      .catch(() => undefined)
      .finally(() => {
        scrape = undefined;
      });
    return scrape;
  };
  /** A gauge whose series are set from the runtime at each scrape (none when there is no provider, or it failed). */
  const runtimeGauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (gauge: Gauge<L>, runtime: ObservedRuntime) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        // An unlabelled gauge would report 0 when nothing set it: no sample beats a false revision 0.
        if (labelNames.length === 0) this.remove();
        const runtime = await current();
        if (runtime !== undefined) fill(this, runtime);
      },
    });
  const rollouts = (runtime: ObservedRuntime) => runtime.services.flatMap((s) => (s.rollout === undefined ? [] : [{ labels: { service: s.service, candidate: s.rollout.candidate }, rollout: s.rollout }]));
  runtimeGauge('ballast_config_revision', 'The configuration revision new requests run on.', [], (gauge, runtime) => gauge.set(runtime.revision));
  runtimeGauge('ballast_rollout_state', "State of each service's latest rollout: 1 for the state it is in, 0 for the others (none, running, paused, promoted, completed, aborted, rolled-back).", ['service', 'state'], (gauge, runtime) => {
    for (const s of runtime.services) for (const state of rolloutStateLabels) gauge.set({ service: s.service, state }, state === s.rolloutState ? 1 : 0);
  });
  runtimeGauge('ballast_rollout_weight', 'Share of traffic the candidate of a running or paused rollout serves (0 for a shadow rollout), by service and candidate version.', ['service', 'candidate'], (gauge, runtime) => {
    for (const { labels, rollout } of rollouts(runtime)) gauge.set(labels, rollout.weight);
  });
  runtimeGauge('ballast_rollout_step', 'Step (0-based) a running or paused rollout is at, by service and candidate version.', ['service', 'candidate'], (gauge, runtime) => {
    for (const { labels, rollout } of rollouts(runtime)) gauge.set(labels, rollout.step);
  });
  runtimeGauge('ballast_rollout_shadow_share', 'Share of requests a running or paused shadow rollout copies to its candidate (0 for the other strategies), by service and candidate version.', ['service', 'candidate'], (gauge, runtime) => {
    for (const { labels, rollout } of rollouts(runtime)) gauge.set(labels, rollout.shadowShare);
  });
  runtimeGauge('ballast_kill_switch_engaged', "1 when a service's kill switch is engaged (no model is called), else 0.", ['service'], (gauge, runtime) => {
    for (const s of runtime.services) gauge.set({ service: s.service }, s.killed ? 1 : 0);
  });
  runtimeGauge('ballast_model_versions', 'Model versions in the registry, by service and lifecycle state (registered, shadow, canary, live, retired, rolled-back).', ['service', 'state'], (gauge, runtime) => {
    if (runtime.models === undefined) return;
    const counts = new Map<string, Map<string, number>>();
    for (const m of runtime.models) {
      const states = counts.get(m.service) ?? new Map<string, number>();
      counts.set(m.service, states.set(m.state, (states.get(m.state) ?? 0) + m.count));
    }
    for (const [service, states] of counts) for (const state of modelStateLabels) gauge.set({ service, state }, states.get(state) ?? 0);
  });
  const setBreakerState = (b: Omit<ObservedBreakerTransition, 'from'>) => {
    for (const state of breakerStates) breakerState.set({ service: b.service, version: b.version, kind: b.kind, state }, state === b.to ? 1 : 0);
  };
  return {
    registry,
    observeBreakerTransition(t) {
      breakerTransitions.inc({ service: t.service, version: t.version, kind: t.kind, from: t.from, to: t.to });
      setBreakerState(t);
    },
    observeBreakerState: setBreakerState,
    observeShadow(shadow) {
      shadowCopies.inc({ service: shadow.service, version: shadow.version, result: shadow.result });
      if (shadow.result === 'answered' && shadow.sameOutput !== undefined) shadowComparisons.inc({ service: shadow.service, version: shadow.version, result: shadow.sameOutput ? 'same' : 'different' });
    },
    observeRuntime(read) {
      provider = read;
      return () => {
        if (provider === read) provider = undefined;
      };
    },
    observeMonitorStatus(status) {
      for (const state of monitorStates) {
        monitorState.set({ service: status.service, monitor: status.monitor, version: status.version, segment: status.segment, state }, state === status.state ? 1 : 0);
      }
    },
    observeDecision(decision) {
      const version = decision.version ?? 'none';
      const arm = armOf(decision.explanation.routing);
      decisions.inc({ service: decision.service, version, outcome: decision.outcome, arm });
      const modelError = decision.explanation.modelError;
      // The routed version failed, whichever step answered in its place.
      if (modelError !== undefined) modelErrors.inc({ service: decision.service, version: decision.explanation.fallback?.from ?? version, code: modelError.code });
      const checks = decision.explanation.crossChecks ?? [];
      for (const check of checks) crossChecks.inc({ service: decision.service, checker: check.name, verdict: check.verdict });
      // A checker's calls are calls of its version like any other.
      for (const attempt of [...(decision.explanation.attempts ?? []), ...checks.flatMap((c) => c.attempts ?? [])]) {
        // A breaker's refusal is not a call: the fallback steps and the breaker metrics count it.
        if (attempt.code === 'CIRCUIT_OPEN' || attempt.code === 'QUALITY_BREAKER_OPEN') continue;
        modelCalls.inc({ service: decision.service, version: attempt.version, code: attempt.code ?? 'ok' });
        if (attempt.attempt > 1) retries.inc({ service: decision.service, version: attempt.version });
      }
      const fallback = decision.explanation.fallback;
      if (fallback !== undefined) {
        for (const step of fallback.steps) fallbackSteps.inc({ service: decision.service, step: String(step.step + 1), kind: step.kind, result: step.answered ? 'answered' : (step.code ?? 'failed') });
        if (fallback.answeredBy === null) fallbackExhausted.inc({ service: decision.service });
      }
      let total = 0;
      for (const [stage, ms] of Object.entries(decision.timings)) {
        if (ms === undefined) continue;
        total += ms;
        stageSeconds.observe({ service: decision.service, stage }, ms / 1000);
      }
      decisionSeconds.observe({ service: decision.service, version, arm }, total / 1000);
    },
    observeRefusal(code, status) {
      refusals.inc({ code, status: String(status) });
    },
  };
}
