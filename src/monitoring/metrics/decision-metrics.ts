import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What metrics need to know of a decision (the pipeline's Decision has this shape). */
export interface ObservedDecision {
  readonly service: string;
  readonly version: string | null;
  readonly outcome: string;
  readonly timings: Readonly<Partial<Record<string, number>>>;
  readonly explanation: { readonly modelError?: { readonly code: string } };
}

export interface DecisionMetrics {
  readonly registry: Registry;
  /** Counts one decision and records its stage latencies. */
  observeDecision(decision: ObservedDecision): void;
  /** Counts one request answered with a problem document. */
  observeRefusal(code: string, status: number): void;
  /** Sets a monitor's current state (one series per state, 1 for the current one). */
  observeMonitorStatus(status: ObservedMonitorStatus): void;
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
  return {
    registry,
    observeMonitorStatus(status) {
      for (const state of monitorStates) {
        monitorState.set({ service: status.service, monitor: status.monitor, version: status.version, segment: status.segment, state }, state === status.state ? 1 : 0);
      }
    },
    observeDecision(decision) {
      const version = decision.version ?? 'none';
      decisions.inc({ service: decision.service, version, outcome: decision.outcome });
      const modelError = decision.explanation.modelError;
      if (modelError !== undefined) modelErrors.inc({ service: decision.service, version, code: modelError.code });
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
