// What the store keeps about alerts: the alerts themselves, the outbox of webhook deliveries that
// must go out (written in the same transaction as the alert change they announce) and the delivery
// log, one row per attempt. The body of a delivery is opaque JSON text here; alerts/ gives it meaning.

export const alertStates = ['firing', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

/** `alert.escalated`: a firing alert nobody acknowledged within its service's escalation delay, sent once to the escalation route. */
export const alertEventTypes = ['alert.firing', 'alert.resolved', 'alert.escalated'] as const;
export type AlertEventType = (typeof alertEventTypes)[number];

/** Every event the outbox delivers: the alerts', and the review queue's (an outcome for the caller, an SLA breach). */
export const webhookEventTypes = [...alertEventTypes, 'review.decided', 'appeal.decided', 'review.sla_breached'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const alertDeliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type AlertDeliveryStatus = (typeof alertDeliveryStatuses)[number];

/** What makes two alerts the same alert: at most one is firing per key at any time. */
export interface AlertKey {
  /** The name of the alert rule. */
  readonly rule: string;
  readonly service: string;
  /** The monitor, e.g. `input_drift` or `feature_drift/body`. */
  readonly monitor: string;
  readonly version: string;
  /** The segment the monitor watches; '' when the traffic is not segmented (as in the monitoring tables). */
  readonly segment: string;
}

export interface StoredAlert extends AlertKey {
  /** Sortable unique id, `alt_` + 26 characters. */
  readonly id: string;
  /** The monitor state that fired it (`warning` or `alert`). */
  readonly severity: string;
  readonly state: AlertState;
  /** ISO 8601 UTC with milliseconds. */
  readonly firedAt: string;
  readonly resolvedAt: string | null;
  /** One sentence: why it fired. */
  readonly summary: string;
  /** The monitor's numbers when it fired (JSON). */
  readonly values: unknown;
  /** The first acknowledgement, null while nobody has acknowledged it (absent on an alert not read from the store). */
  readonly acknowledged?: AlertAcknowledgement | null;
  /** When it escalated to the service's escalation route (once), or null. */
  readonly escalatedAt?: string | null;
}

/** Who acknowledged an alert ("I am on it"), when, and what they said. */
export interface AlertAcknowledgement {
  readonly by: string;
  readonly at: string;
  readonly note: string | null;
}

/** One webhook delivery to enqueue with an alert change. */
export interface NewAlertDelivery {
  /** Sortable unique id, `whd_` + 26 characters; sent as `webhook-id` on every attempt. */
  readonly id: string;
  readonly type: WebhookEventType;
  readonly url: string;
  /** The name of the signing secret (never its value). */
  readonly secretName: string;
  /** Per-attempt timeout in milliseconds. */
  readonly timeoutMs: number;
  /** The exact JSON text to POST (and sign). */
  readonly body: string;
  /** ISO instant: when it was enqueued, which is also when it is first due (later than now when a rate limit holds it back). */
  readonly createdAt: string;
}

/** A row of the outbox: a delivery and where it stands. */
export interface StoredAlertDelivery extends NewAlertDelivery {
  readonly alertId: string;
  readonly rule: string;
  /** Attempts made so far (recorded ones). */
  readonly attempts: number;
  /** ISO instant when the next attempt is due (pending), or when the last attempt ended. */
  readonly nextAttemptAt: string;
  readonly status: AlertDeliveryStatus;
  readonly updatedAt: string;
}

/** One attempt of a delivery: a row of the delivery log. */
export interface AlertDeliveryAttempt {
  readonly deliveryId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** ISO instant when the attempt started. */
  readonly at: string;
  /** The receiver's HTTP status, or null when none came (timeout, refused connection). */
  readonly httpStatus: number | null;
  /** Null on success; else a short stable code such as `http_status`, `timeout`, `connection_refused`. */
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly durationMs: number;
  /** What the attempt left the delivery as: delivered, pending (to be retried) or failed (for good). */
  readonly outcome: AlertDeliveryStatus;
}

/** A delivery with its attempts, oldest first. */
export interface AlertDeliveryWithLog extends StoredAlertDelivery {
  readonly log: readonly AlertDeliveryAttempt[];
}
