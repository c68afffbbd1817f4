import type { Attribution } from '../adapters/model-adapter.js';
import type { Issue } from '../errors/index.js';
import type { Attempt, BreakerState } from '../resilience/index.js';
import type { FiredRule, QualityFlag, Reason } from './policy-types.js';

export const stageNames = ['validate', 'pre_rules', 'route', 'checkers', 'invoke', 'fallback', 'cross_check', 'post_rules', 'decide', 'explain', 'record'] as const;
export type StageName = (typeof stageNames)[number];

export const decisionOutcomes = ['auto', 'review', 'fallback', 'rejected'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];

/** One request for a decision, independent of the transport that carried it. */
export interface DecisionRequest {
  readonly service: string;
  readonly input: unknown;
  /** A stable key of the subject (user, account) for sticky routing; stored only as a keyed hash. */
  readonly subjectKey?: string;
  /** Facts about the request that are not model input (channel, tenant); visible to rules. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** How late this request is shed under overload: `high` (high stakes) last; default `normal`. Admission reads it; it is not recorded. */
  readonly priority?: 'high' | 'normal' | 'low';
}

/** Why the decision came out as it did, with everything needed to audit it later. */
export interface Explanation {
  readonly service: string;
  /** The configuration revision the decision was made under. */
  readonly revision: number;
  readonly contractVersion: number;
  readonly version: string | null;
  readonly route: string | null;
  /** The rollout that routed this decision: which one, its step and weight, and the arm the decision counts for. */
  readonly routing?: RoutingRecord;
  readonly confidence: number | null;
  readonly thresholds: { readonly auto: number; readonly reject: number | null };
  readonly reasons: readonly Reason[];
  readonly rules: readonly FiredRule[];
  readonly quality: readonly QualityFlag[];
  readonly attributions: readonly Attribution[];
  /** The model's own output when a post rule overrode it. */
  readonly modelOutput?: unknown;
  readonly modelError?: { readonly code: string; readonly message: string };
  readonly outputIssues?: readonly Issue[];
  readonly modelMeta?: Readonly<Record<string, unknown>>;
  /** What was known about the service when it decided, e.g. a monitor in warning on a feature's drift. */
  readonly notices?: readonly Notice[];
  /** Every model call made for this decision (retries and fallback versions included), in order. */
  readonly attempts?: readonly Attempt[];
  /** The fallback chain, when the routed version failed and the service has one. */
  readonly fallback?: FallbackTrace;
  /** Breakers that were not closed when this decision consulted them. */
  readonly breakers?: readonly { readonly version: string; readonly state: BreakerState }[];
  /** The cross-checks that ran on this decision (a checker sampled out, or not due, has no entry). */
  readonly crossChecks?: readonly CrossCheckRecord[];
}

/** One checker's look at the served answer: what it answered and whether, field by field, it agrees. */
export interface CrossCheckRecord {
  readonly name: string;
  /** `version`: another model version answered; `rules`: CEL rules computed the expected output. */
  readonly kind: 'version' | 'rules';
  readonly version?: string;
  /** The version whose answer it was compared with (the one that answered the request). */
  readonly against: string;
  /** `unavailable`: the checker failed, ran out of time or its breaker was open; the answer stands unchecked. */
  readonly verdict: 'agree' | 'disagree' | 'unavailable';
  /** Each compared field (a JSON pointer into the output), with both values as stored (redacted as outputs are). */
  readonly fields: readonly { readonly field: string; readonly agree: boolean; readonly served: unknown; readonly checker: unknown; readonly note?: string }[];
  /** The checker's output (redacted as outputs are), when it gave one. */
  readonly output?: unknown;
  readonly confidence?: number | null;
  readonly error?: { readonly code: string; readonly message: string };
  /** From the checker's start to its answer (or failure), in milliseconds. */
  readonly ms: number;
  /** Disagreement only: what the policy did about it. */
  readonly action?: 'review' | 'reject' | 'flag' | 'prefer';
  /** The checker's model calls (kind `version`). */
  readonly attempts?: readonly Attempt[];
}

/** How a rollout in progress routed one decision. */
export interface RoutingRecord {
  readonly rollout: string;
  readonly strategy: 'canary' | 'shadow' | 'experiment';
  readonly step: number;
  readonly weight: number;
  /** The arm the decision counts for in the rollout's analysis; absent when it is not in the comparison (an experiment without a subject key). */
  readonly arm?: 'stable' | 'candidate';
  /** shadow: the candidate got a copy of this request. */
  readonly shadowed?: string;
}

/** How the fallback chain went: the failure that started it, each step tried, and the one that answered. */
export interface FallbackTrace {
  /** The routed version whose failure started the chain. */
  readonly from: string;
  readonly cause: { readonly code: string; readonly message: string; readonly issues?: readonly Issue[] };
  /** The step that answered; null when none did (the policy's onModelError then decides). */
  readonly answeredBy: { readonly step: number; readonly kind: 'version' | 'rules' | 'static' | 'review'; readonly name: string } | null;
  /** Every step tried, in order, with why it did not answer (`code`, `message`) or that it did. */
  readonly steps: readonly FallbackStepTrace[];
}

export interface FallbackStepTrace {
  readonly step: number;
  readonly kind: 'version' | 'rules' | 'static' | 'review';
  readonly name: string;
  readonly answered: boolean;
  readonly code?: string;
  readonly message?: string;
}

/**
 * A fact about the service at decision time that a reader of the explanation should know: a monitor in
 * `warning` or `alert` (whether or not an alert rule notified anybody of it).
 */
export interface Notice {
  readonly kind: 'monitor';
  /** The monitor behind it, e.g. `feature_drift/body`. */
  readonly monitor: string;
  /** The monitor's state after hysteresis. */
  readonly state: 'warning' | 'alert';
  /** When the monitor entered that state (ISO 8601). */
  readonly since: string;
  /** One sentence that agrees with `state` (a state held by hysteresis says so). */
  readonly message: string;
}

/**
 * The review item a decision with outcome `review` opens, written in the decision's transaction. Its
 * priority, due time and quorum come from the service's `review:` block (the review module plans it).
 */
export interface ReviewTicket {
  /** `rvw_` + 26 characters: what the caller polls (`GET /v1/reviews/:id`) and the webhook names. */
  readonly id: string;
  /** Higher is taken first (high stakes first). */
  readonly priority: number;
  /** When the service's SLA says a human must have decided it. */
  readonly dueAt: string;
  /** Distinct reviewers who must agree (two for high stakes). */
  readonly requiredReviews: number;
}

/** A decision as returned to the caller (the stored record additionally keeps the redacted input). */
export interface Decision {
  readonly id: string;
  readonly service: string;
  readonly version: string | null;
  readonly createdAt: string;
  readonly outcome: DecisionOutcome;
  readonly output: unknown;
  readonly confidence: number | null;
  readonly reasons: readonly Reason[];
  readonly explanation: Explanation;
  /** Milliseconds per stage; `record` is the time until the decision was durable. */
  readonly timings: Readonly<Partial<Record<StageName, number>>>;
  /** Outcome `review`: the review item opened for it; the final answer comes by webhook and from GET /v1/reviews/:id. */
  readonly review?: ReviewTicket;
}

/** What the pipeline hands to the decision log: the decision plus the redacted input. */
export interface DecisionRecord {
  readonly id: string;
  readonly service: string;
  readonly version: string | null;
  readonly createdAt: string;
  readonly outcome: DecisionOutcome;
  readonly confidence: number | null;
  readonly subjectHash: string | null;
  readonly input: unknown;
  readonly context: unknown;
  readonly output: unknown;
  readonly explanation: Explanation;
  readonly timings: Readonly<Record<string, number>>;
  /** Outcome `review`: the review item to write with the decision. */
  readonly review?: ReviewTicket;
}

/** Where decisions go to become durable; `append` resolves only once the record is. */
export interface DecisionSink {
  append(record: DecisionRecord): Promise<void>;
}
