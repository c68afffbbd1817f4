// The tables as Kysely sees them. JSON-valued columns are text holding JSON (not jsonb), so that
// what is read back is byte for byte what was written in both dialects (jsonb reorders keys).

/** The `decisions` table (append-only). */
export interface DecisionsTable {
  readonly id: string;
  readonly service: string;
  readonly version: string | null;
  /** ISO 8601 UTC with milliseconds: sorts as text. */
  readonly created_at: string;
  readonly outcome: string;
  readonly confidence: number | null;
  readonly subject_hash: string | null;
  /** JSON text; null means the value was undefined. */
  readonly input: string | null;
  readonly context: string | null;
  readonly output: string | null;
  readonly explanation: string | null;
  readonly timings: string;
  /** Set by a retention purge, which removes `input` and `context` and keeps their SHA-256 here. */
  readonly input_digest?: string | null;
  readonly context_digest?: string | null;
  readonly purged_at?: string | null;
}

/** The `legal_holds` table: a hold on a service (`service`) or one decision (`decision_id`) stops purges until released. */
export interface LegalHoldsTable {
  readonly id: string;
  readonly service: string | null;
  readonly decision_id: string | null;
  readonly reason: string;
  readonly created_at: string;
  readonly created_by: string;
  readonly released_at: string | null;
  readonly released_by: string | null;
}

/** The `feedback` table (append-only); `decision_id` is deliberately not a foreign key. */
export interface FeedbackTable {
  readonly id: string;
  readonly decision_id: string;
  readonly kind: string;
  readonly value: string | null;
  readonly source: string | null;
  readonly note: string | null;
  readonly supersedes: string | null;
  readonly created_at: string;
}

/** Monitoring tables (migration 0005); see monitoring-records.ts. */
export interface MonitorSketchesTable {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly segment: string;
  readonly window_start: string;
  readonly window_end: string;
  readonly reference_id: string;
  readonly writer: string;
  readonly created_at: string;
  readonly last_event_at: string;
  readonly events: number;
  readonly body: string;
}

export interface MonitorCheckpointsTable {
  readonly id: string;
  readonly writer: string;
  readonly created_at: string;
  readonly decisions_from: string;
  readonly feedback_from: string;
  readonly seen: string;
}

export interface MonitorEvaluationsTable {
  readonly id: string;
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly window_start: string;
  readonly window_end: string;
  readonly evaluated_at: string;
  readonly observed: string;
  readonly state: string;
  readonly value: number | null;
  readonly body: string;
}

export interface MonitorStatusTable {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly updated_at: string;
  readonly body: string;
}

/** The `alerts` table; `active_key` is the alert key while firing and null once resolved (unique). */
export interface AlertsTable {
  readonly id: string;
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  /** '' when not segmented. */
  readonly segment: string;
  readonly rule: string;
  readonly severity: string;
  readonly state: string;
  readonly fired_at: string;
  readonly resolved_at: string | null;
  readonly summary: string;
  /** JSON text. */
  readonly values: string;
  readonly active_key: string | null;
  /** The first acknowledgement (0011): who, when, their note. */
  readonly acknowledged_by?: string | null;
  readonly acknowledged_at?: string | null;
  readonly ack_note?: string | null;
  /** When the alert escalated (0011); set once. */
  readonly escalated_at?: string | null;
}

/** The `alert_outbox` table: webhook deliveries, enqueued in the transaction that changes the alert. */
export interface AlertOutboxTable {
  readonly id: string;
  readonly alert_id: string;
  readonly rule: string;
  readonly event_type: string;
  readonly url: string;
  readonly secret_name: string;
  readonly timeout_ms: number;
  readonly body: string;
  readonly attempts: number;
  readonly next_attempt_at: string;
  readonly status: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** The `alert_deliveries` table: the delivery log, one row per attempt, keyed by (delivery_id, attempt). */
export interface AlertDeliveriesTable {
  readonly delivery_id: string;
  readonly attempt: number;
  readonly at: string;
  readonly http_status: number | null;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly duration_ms: number;
  readonly outcome: string;
}

/** The `reference_profiles` table (migration 0004, append-only); JSON text columns, see reference-repository.ts. */
export interface ReferenceProfilesTable {
  readonly id: string;
  readonly service: string;
  readonly name: string;
  readonly created_at: string;
  /** A number in SQLite, a string in PostgreSQL (bigint). */
  readonly row_count: number | string;
  readonly source: string;
  readonly features: string;
  readonly sketch: string;
  readonly vocabularies: string;
  readonly calibration: string | null;
  readonly accuracy: string | null;
}

/** The `principals` table (migration 0006): people and workloads that hold API keys. */
export interface PrincipalsTable {
  readonly name: string;
  readonly kind: string;
  readonly email: string | null;
  readonly created_at: string;
}

/** The `api_keys` table: only the SHA-256 of a key's secret is kept; `id` is its public prefix. */
export interface ApiKeysTable {
  readonly id: string;
  readonly principal: string;
  readonly role: string;
  /** null: granted on every service. */
  readonly service: string | null;
  readonly secret_hash: string;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
  readonly rotated_to: string | null;
}

/** The `audit_events` table (append-only); bodies are redacted JSON text, digests SHA-256 hex. */
export interface AuditEventsTable {
  readonly id: string;
  readonly at: string;
  readonly actor_principal: string;
  readonly actor_key: string | null;
  readonly actor_role: string | null;
  readonly action: string;
  readonly resource_kind: string;
  readonly resource_id: string;
  readonly service: string | null;
  readonly before_digest: string | null;
  readonly after_digest: string | null;
  readonly before_body: string | null;
  readonly after_body: string | null;
  readonly request_id: string | null;
  readonly detail: string | null;
}

/** The `audit_leaves` table: the Merkle log's leaves, `idx` dense from 0 in commit order. */
export interface AuditLeavesTable {
  readonly idx: number | string;
  readonly kind: string;
  readonly ref_id: string;
  /** SHA-256(0x00 ‖ the leaf's canonical JSON, see audit-leaf.ts), hex; the JSON is recomputed from the row. */
  readonly hash: string;
}

/** The `audit_checkpoints` table: signed tree heads (C2SP checkpoint notes), append-only. */
export interface AuditCheckpointsTable {
  readonly id: string;
  readonly created_at: string;
  readonly tree_size: number | string;
  readonly root_hash: string;
  readonly note: string;
  /** JSON of the Merkle frontier at tree_size, so the next checkpoint reads only newer leaves. */
  readonly frontier: string;
}

/** The `breaker_transitions` table: every breaker state change, append-only. */
export interface BreakerTransitionsTable {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly kind: string;
  readonly from_state: string;
  readonly to_state: string;
  readonly at: string;
  readonly reason: string;
  readonly figures: string;
  readonly actor: string | null;
}

/** Safe-change tables (migration 0009). */
export interface ModelVersionsTable {
  readonly service: string;
  readonly name: string;
  readonly digest: string;
  readonly spec: string;
  readonly author: string;
  readonly registered_at: string;
}

export interface ModelTransitionsTable {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly from_state: string | null;
  readonly to_state: string;
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
  readonly rollout_id: string | null;
  readonly revision: number | null;
}

export interface ConfigRevisionsTable {
  readonly number: number;
  readonly digest: string;
  readonly text: string;
  readonly source: string;
  readonly actor: string;
  readonly at: string;
  readonly reason: string;
  readonly based_on: number | null;
}

export interface RolloutsTable {
  readonly id: string;
  readonly service: string;
  readonly stable: string;
  readonly candidate: string;
  readonly strategy: string;
  readonly spec: string;
  readonly state: string;
  readonly step: number;
  readonly weight: number;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
  readonly step_started_at: string;
  readonly ended_at: string | null;
  readonly retry_of: string | null;
  readonly status: string;
}

export interface RolloutEventsTable {
  readonly id: string;
  readonly rollout_id: string;
  readonly service: string;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly step: number;
  readonly weight: number;
  readonly detail: string;
}

export interface ApprovalsTable {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly digest: string;
  readonly revision: number;
  readonly principal: string;
  readonly decision: string;
  readonly reason: string;
  readonly at: string;
}

export interface KillSwitchesTable {
  readonly id: string;
  readonly service: string;
  readonly engaged: number;
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
}

export interface ShadowDecisionsTable {
  readonly id: string;
  readonly decision_id: string;
  readonly service: string;
  readonly version: string;
  readonly rollout_id: string;
  readonly revision: number;
  readonly created_at: string;
  readonly output: string | null;
  readonly confidence: number | null;
  readonly error_code: string | null;
  readonly latency_ms: number;
}

/** The review queue (migration 0010): an item's current state; see review-repository.ts. */
export interface ReviewItemsTable {
  readonly id: string;
  readonly decision_id: string;
  readonly service: string;
  readonly version: string | null;
  readonly created_at: string;
  readonly priority: number;
  /** JSON text. */
  readonly reasons: string;
  readonly due_at: string;
  readonly required_reviews: number;
  readonly state: string;
  readonly lease_holder: string | null;
  readonly lease_until: string | null;
  readonly escalation_role: string | null;
  readonly updated_at: string;
  /** `decision` (a decision that went to review) or `appeal` (a data subject's appeal of one). */
  readonly kind: string;
  /** JSON text: what the kind adds (an appeal's statement and who filed it), or null. */
  readonly detail: string | null;
  /** When the current lease was taken (null unless claimed). */
  readonly claimed_at: string | null;
  /** When the SLA breach was escalated: set once, never cleared. */
  readonly sla_breached_at: string | null;
}

/** Reviewers who may not take an item (an appeal's: the reviewers of the decision appealed). */
export interface ReviewExclusionsTable {
  readonly item_id: string;
  readonly reviewer: string;
}

/** Every human decision on a review item, append-only. */
export interface ReviewDecisionsTable {
  readonly id: string;
  readonly item_id: string;
  readonly reviewer: string;
  readonly role: string;
  readonly decision: string;
  /** JSON text, or null when the decision carries no label. */
  readonly label: string | null;
  readonly rationale: string;
  readonly at: string;
  /** When the reviewer's lease began: `at` minus it is the time spent deciding. */
  readonly claimed_at: string | null;
}

/** Every table the store's queries use. */
export interface Database {
  decisions: DecisionsTable;
  legal_holds: LegalHoldsTable;
  breaker_transitions: BreakerTransitionsTable;
  feedback: FeedbackTable;
  reference_profiles: ReferenceProfilesTable;
  alerts: AlertsTable;
  alert_outbox: AlertOutboxTable;
  alert_deliveries: AlertDeliveriesTable;
  monitor_sketches: MonitorSketchesTable;
  monitor_checkpoints: MonitorCheckpointsTable;
  monitor_evaluations: MonitorEvaluationsTable;
  monitor_status: MonitorStatusTable;
  principals: PrincipalsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  audit_leaves: AuditLeavesTable;
  audit_checkpoints: AuditCheckpointsTable;
  model_versions: ModelVersionsTable;
  model_transitions: ModelTransitionsTable;
  config_revisions: ConfigRevisionsTable;
  rollouts: RolloutsTable;
  rollout_events: RolloutEventsTable;
  approvals: ApprovalsTable;
  kill_switches: KillSwitchesTable;
  shadow_decisions: ShadowDecisionsTable;
  review_items: ReviewItemsTable;
  review_decisions: ReviewDecisionsTable;
  review_exclusions: ReviewExclusionsTable;
}
