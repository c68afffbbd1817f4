import type { ModelResult } from '../adapters/index.js';
import type { Issue } from '../errors/index.js';
import type { Attempt, Deadline } from '../resilience/index.js';
import type { RouteAssignment } from '../routing/index.js';
import type { CrossCheckRecord, DecisionOutcome, DecisionRecord, DecisionRequest, Explanation, FallbackTrace, StageName } from './decision.js';
import type { PendingCrossCheck } from './stages/cross-check-stages.js';
import type { CrossCheckVerdict } from '../policy/index.js';
import type { FiredRule, QualityFlag, Reason } from './policy-types.js';
import type { Service } from './service.js';

/** The state of one request as it moves through the stages; each stage reads and fills its part. */
export interface DecisionContext {
  readonly id: string;
  readonly createdAt: string;
  readonly request: DecisionRequest;
  readonly service: Service;
  /** The configuration revision the request runs on (0 outside a server that keeps revisions). */
  readonly revision: number;
  /** Aborted when the caller goes away or the server must stop waiting. */
  readonly signal: AbortSignal | undefined;
  /** When the whole decision must be answered by (the service's deadlineMs from arrival). */
  readonly deadline: Deadline;
  readonly timings: Partial<Record<StageName, number>>;
  input: Record<string, unknown>;
  quality: readonly QualityFlag[];
  preFired: readonly FiredRule[];
  postFired: readonly FiredRule[];
  /** Set by a pre rule that rejects: the model is not called. */
  skipModel: boolean;
  route?: RouteAssignment;
  /** The strategy of the rollout that routed this request, when one did. */
  rolloutStrategy?: 'canary' | 'shadow' | 'experiment';
  result?: ModelResult;
  modelError?: { readonly code: string; readonly message: string };
  outputIssues?: readonly Issue[];
  /** Every model call made so far. */
  readonly attempts: Attempt[];
  /** The fallback chain's trace, once it ran. */
  fallback?: FallbackTrace;
  /** The version whose output answers; null when a rules or static step answered; unset when no model answered. */
  servedVersion?: string | null;
  /** Cross-checks started beside the model call, awaited by the cross_check stage. */
  pendingChecks?: PendingCrossCheck[];
  /** What the cross-checks came to (the agreement stage's), for the decision and its explanation. */
  crossChecks?: readonly CrossCheckRecord[];
  /** The same, as the decide stage weighs them. */
  crossCheckVerdicts?: readonly CrossCheckVerdict[];
  /** The output the caller receives (after post rules). */
  output: unknown;
  outcome?: DecisionOutcome;
  reasons: readonly Reason[];
  explanation?: Explanation;
  /** What the record stage made durable (the redacted input and context): observers see this. */
  record?: DecisionRecord;
}

/** One step of the decision path. Stages know nothing of HTTP; they may be sync or async. */
export interface Stage<E> {
  readonly name: StageName;
  /** Whether the stage runs for this request (e.g. model stages are skipped after a pre-rule reject). */
  applies?(ctx: DecisionContext): boolean;
  run(ctx: DecisionContext, env: E): void | Promise<void>;
}
