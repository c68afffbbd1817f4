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
  };
}

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
    help: 'Decisions made, by service, model version and outcome.',
    labelNames: ['service', 'version', 'outcome'] as const,
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
    help: 'Time from the first stage to the decision being durable, by service and version.',
    labelNames: ['service', 'version'] as const,
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
    observeMonitorStatus(status) {
      for (const state of monitorStates) {
        monitorState.set({ service: status.service, monitor: status.monitor, version: status.version, segment: status.segment, state }, state === status.state ? 1 : 0);
      }
    },
    observeDecision(decision) {
      const version = decision.version ?? 'none';
      decisions.inc({ service: decision.service, version, outcome: decision.outcome });
      const modelError = decision.explanation.modelError;
      // The routed version failed, whichever step answered in its place.
      if (modelError !== undefined) modelErrors.inc({ service: decision.service, version: decision.explanation.fallback?.from ?? version, code: modelError.code });
      for (const attempt of decision.explanation.attempts ?? []) {
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
      decisionSeconds.observe({ service: decision.service, version }, total / 1000);
    },
    observeRefusal(code, status) {
      refusals.inc({ code, status: String(status) });
    },
  };
}
