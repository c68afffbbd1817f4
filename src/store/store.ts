// The one interface the rest of Ballast uses to reach the database, whatever the dialect.
import type { AlertRepository } from './alert-repository.js';
import type { AuditRepository } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { IdentityRepository } from './identity-repository.js';
import type { RetentionRepository } from './retention-repository.js';
import type { BreakerRepository } from './breaker-repository.js';
import type { RolloutRepository } from './rollout-repository.js';
import type { RevisionRepository } from './revision-repository.js';
import type { ShadowRepository } from './shadow-repository.js';
import type { ApprovalRepository, KillSwitchRepository } from './approval-repository.js';
import type { RegistryRepository } from './registry-repository.js';
import type { NewReviewItem, ReviewRepository } from './review-repository.js';
import type { GroupCommitStats } from './group-commit.js';
import type { MonitoringRepository } from './monitoring-repository.js';
import type { Outcome, StoredDecision, StoredFeedback } from './records.js';
import type { ReferenceRepository } from './reference-repository.js';

/** A time window over `createdAt` (ISO 8601 UTC with milliseconds): `since` inclusive, `until` exclusive. */
export interface TimeRangeOptions {
  readonly service?: string;
  readonly since?: string;
  readonly until?: string;
}

/** One page of a list, ordered by createdAt then id. */
export interface PageOptions extends TimeRangeOptions {
  /** Id of the last row of the previous page; an unknown id rejects with REQUEST_INVALID. */
  readonly after?: string;
  /** Rows per page, clamped to 0..1000. */
  readonly limit: number;
}

/** A feedback row with the service of the decision it is about. */
export interface FeedbackWithService extends StoredFeedback {
  readonly service: string;
}

/** The append-only decision log. */
export interface DecisionRepository {
  /**
   * Resolves once the decision is durable (group commit); rejects with a BallastError otherwise. A
   * decision with outcome `review` may bring its review item, written in the same transaction.
   */
  append(decision: StoredDecision, review?: NewReviewItem): Promise<void>;
  get(id: string): Promise<StoredDecision | undefined>;
  list(options: PageOptions): Promise<StoredDecision[]>;
  /** Decisions per outcome in the window; every outcome is present, zero when none. */
  countByOutcome(options?: TimeRangeOptions): Promise<Record<Outcome, number>>;
  /**
   * Decisions of `service` created in [since, until) that a rollout routed into its comparison: its id in
   * explanation.routing.rollout and an arm ('stable' or 'candidate') in explanation.routing.arm.
   */
  countRouted(options: { readonly service: string; readonly rolloutId: string; readonly since: string; readonly until?: string }): Promise<number>;
}

/** Labels and outcomes learnt after a decision, append-only. */
export interface FeedbackRepository {
  /**
   * Resolves once the feedback is durable, with `audit` (who sent it) in the same transaction when
   * given; the decision need not exist (yet).
   */
  append(feedback: StoredFeedback, audit?: StoredAuditEvent): Promise<void>;
  /** Every feedback row for one decision, oldest first. */
  listForDecision(decisionId: string): Promise<StoredFeedback[]>;
  /** Every feedback row for any of these decisions, oldest first (createdAt, then id). */
  listForDecisions(decisionIds: readonly string[]): Promise<StoredFeedback[]>;
  /** Feedback whose decision is known, filtered on the decision's service and the feedback's time. */
  list(options: PageOptions): Promise<FeedbackWithService[]>;
}

/** The database behind Ballast: repositories plus lifecycle. */
export interface Store {
  readonly decisions: DecisionRepository;
  readonly feedback: FeedbackRepository;
  /** Alerts, their webhook outbox and the delivery log. */
  readonly alerts: AlertRepository;
  /** Reference profiles (statistics of a service's reference data), append-only, newest wins. */
  readonly references: ReferenceRepository;
  /** Monitoring: sketch checkpoints, evaluation history, monitor statuses. */
  readonly monitoring: MonitoringRepository;
  /** Principals and their API keys. */
  readonly identity: IdentityRepository;
  /** Audit events, the Merkle log's leaves and its signed checkpoints. */
  readonly audit: AuditRepository;
  /** Legal holds and purges of raw inputs. */
  readonly retention: RetentionRepository;
  /** The history of circuit-breaker state changes. */
  readonly breakers: BreakerRepository;
  /** Rollouts: each one's current state and its kept history of changes and verdicts. */
  readonly rollouts: RolloutRepository;
  /** Configuration revisions: numbered, immutable, with who made each. */
  readonly revisions: RevisionRepository;
  /** What shadowed candidates answered (never served). */
  readonly shadows: ShadowRepository;
  /** Approvals of model versions (append-only, bound to digest and revision). */
  readonly approvals: ApprovalRepository;
  /** Per-service kill switches: every change kept. */
  readonly killSwitches: KillSwitchRepository;
  /** The model registry: versions (immutable) and their lifecycle transitions (append-only). */
  readonly registry: RegistryRepository;
  /** The review queue: items under leases, and every human decision on them (append-only). */
  readonly reviews: ReviewRepository;
  /** Resolves once everything appended before the call is settled (durable, or rejected to its caller). */
  flush(): Promise<void>;
  /** Refuses new work with SERVER_DRAINING, flushes, closes the database; idempotent. */
  close(): Promise<void>;
  /** Resolves when the database answers a query (for /readyz). */
  ping(): Promise<void>;
  groupCommitStats(): GroupCommitStats;
}
