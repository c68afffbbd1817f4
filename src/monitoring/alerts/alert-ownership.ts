// What an alert says about who owns it: the service's owners and runbook, its escalation (when it is
// due, when it happened) and its acknowledgement. The composition root resolves a service's
// ownership (governance's `ownership:` block); monitoring only reads it, so it needs no governance import.
import type { StoredAlert } from '../../store/index.js';
import type { WebhookTargetConfig } from './alert-config.js';

/** A service's ownership as alerts need it (structurally governance's resolved `ownership:` block). */
export interface AlertOwnership {
  readonly owners: readonly string[];
  readonly runbook: string | null;
  /** Where alerts of rules without their own webhook go. */
  readonly onCall: WebhookTargetConfig | null;
  /** Where a firing alert nobody acknowledged goes, once, `afterMs` after its first notification. */
  readonly escalation: (WebhookTargetConfig & { readonly after: string; readonly afterMs: number }) | null;
}

/** The ownership fields of an alert, in its webhook payload and in the API. */
export interface AlertOwnershipView {
  readonly owners: readonly string[];
  readonly runbook: string | null;
  /**
   * null: the service has no escalation route (and the alert never escalated). `escalatesAt` is the first
   * notification's time + after; null until that notification (escalation waits for it) or without a route.
   */
  readonly escalation: { readonly after: string | null; readonly escalatesAt: string | null; readonly escalatedAt: string | null } | null;
  readonly acknowledged: { readonly by: string; readonly at: string; readonly note: string | null } | null;
}

/**
 * The view of one alert under its service's current ownership (undefined: none known); `notifiedAt` is when
 * its first `alert.firing` notification was enqueued (null: not yet), what its escalation delay runs from.
 */
export function alertOwnershipView(alert: StoredAlert, ownership: AlertOwnership | undefined, notifiedAt: string | null): AlertOwnershipView {
  const escalation = ownership?.escalation ?? null;
  const escalatedAt = alert.escalatedAt ?? null;
  return {
    owners: [...(ownership?.owners ?? [])],
    runbook: ownership?.runbook ?? null,
    escalation:
      escalation === null && escalatedAt === null
        ? null
        : {
            after: escalation?.after ?? null,
            escalatesAt: escalation === null || notifiedAt === null ? null : new Date(Date.parse(notifiedAt) + escalation.afterMs).toISOString(),
            escalatedAt,
          },
    acknowledged: alert.acknowledged ?? null,
  };
}

/** When the first `alert.firing` notification of an alert was enqueued (null: none yet), from its deliveries. */
export function firstNotifiedAt(deliveries: ReadonlyArray<{ readonly type: string; readonly createdAt: string }>): string | null {
  let first: string | null = null;
  for (const d of deliveries) if (d.type === 'alert.firing' && (first === null || d.createdAt < first)) first = d.createdAt;
  return first;
}
