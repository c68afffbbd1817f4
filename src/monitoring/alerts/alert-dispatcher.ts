// From "a monitor changed state" to "a signed webhook arrived", grouped as Alertmanager groups.
//
// onTransition puts a monitor (in one segment) into, or takes it out of, the alert of its group: one
// alert per rule and group key (by default the monitor's family and the version), whose members are
// the monitors and segments at or above the rule's minState. The alert, its members and its
// notifications are rows of the store, written in one transaction each, so nothing lives only in
// memory: a new dispatcher on the same database (after a restart) carries on where the last stopped,
// and neither fires a second alert for a group nor notifies it twice. Two dispatchers changing one
// group at the same moment are not safe yet (a member update is read-modify-write without a revision,
// and both may enqueue the first notification): one process per database.
//
// When to notify is decided from the store too (the last `alert.firing` delivery of the alert is
// what was notified, and when): the first notification `group.wait` after the alert fired, a change
// of its members `group.interval` after the last notification, an unchanged alert again after
// `group.repeat`, and at most `rateLimit.max` notifications of one rule in any `rateLimit.per`.
// The alert resolves when its last member leaves; its `alert.resolved` follows at once (or at the
// rate limit's next free slot) if its firing was notified.
//
// The delivery loop POSTs due outbox rows (Standard Webhooks signatures, undici), records every
// attempt in the delivery log and retries with exponential backoff and full jitter. Delivery is at
// least once: the `webhook-id` header (the delivery id) is the same on every attempt, so a receiver
// deduplicates on it.
//
// Escalation: a firing alert (of one of the service's rules) of a service with an escalation route
// that nobody acknowledged within its delay escalates once. Each pass looks in the store for such alerts and escalates each with one
// guarded update (firing, unacknowledged, not yet escalated) that also enqueues the `alert.escalated`
// delivery, so neither a restart nor a second dispatcher on the same database escalates it twice. The delay
// runs from the alert's first notification (its first `alert.firing` delivery enqueued), never from before
// one: an alert that ended within group.wait, or that the rate limit held back, never paged on call and
// never escalates. When an escalated alert resolves, the escalation route gets its `alert.resolved` too.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { BallastError } from '../../errors/index.js';
import {
  createIdGenerator,
  type AlertEventType,
  type AlertKey,
  type NewAlertDelivery,
  type Store,
  type StoredAlert,
  type StoredAlertDelivery,
} from '../../store/index.js';
import type { AlertGroupLabel, AlertRuleConfig, AlertSeverity, WebhookTargetConfig } from './alert-config.js';
import { alertOwnershipView, firstNotifiedAt, type AlertOwnership, type AlertOwnershipView } from './alert-ownership.js';
import { signWebhook } from './webhook-signature.js';

/** A monitor's state: `unknown` (not enough data), then `ok` < `warning` < `alert`. */
export type AlertMonitorState = 'unknown' | 'ok' | 'warning' | 'alert';

/** A monitor's state change, as the monitoring hub reports it. */
export interface AlertTransition {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  /** Absent or '' when the traffic is not segmented. */
  readonly segment?: string;
  readonly from: AlertMonitorState;
  readonly to: AlertMonitorState;
  /** ISO 8601 UTC with milliseconds. */
  readonly at: string;
  readonly message: string;
  readonly values: unknown;
}

/** What one transition did to the alerts. */
export interface AlertTransitionResult {
  /** Alerts created (a group's first member). */
  readonly fired: readonly StoredAlert[];
  /** Alerts whose members or severity changed. */
  readonly updated: readonly StoredAlert[];
  /** Alerts resolved (a group's last member left). */
  readonly resolved: readonly StoredAlert[];
}

/** One monitor, in one segment, that a grouped alert covers. */
export interface AlertMember {
  readonly monitor: string;
  /** null: the unsegmented traffic. */
  readonly segment: string | null;
  readonly state: AlertSeverity;
  /** When it joined the alert (the transition's time). */
  readonly since: string;
  /** The monitor's message when it joined or changed state. */
  readonly message: string;
  /** The monitor's numbers then (value, window and the monitor's own). */
  readonly values: unknown;
}

/** The transition that last changed an alert's members. */
export interface AlertChangeRecord {
  readonly monitor: string;
  readonly segment: string | null;
  readonly from: string;
  readonly to: string;
  readonly at: string;
  readonly message: string;
  readonly values: unknown;
}

/** The `values` of a grouped alert: what it covers, every member, and its latest change. */
export interface AlertGroupValues {
  readonly by: readonly AlertGroupLabel[];
  /** Distinct monitor names of the members, sorted. */
  readonly monitors: readonly string[];
  /** Distinct fields of the `feature_drift/<field>` members, sorted. */
  readonly features: readonly string[];
  /** Distinct segments of the members, sorted (null, the unsegmented traffic, first). */
  readonly segments: ReadonlyArray<string | null>;
  /** Distinct windows the members were judged in, oldest first. */
  readonly windows: ReadonlyArray<{ readonly start: string; readonly end: string }>;
  /** Sorted by monitor, then segment. */
  readonly members: readonly AlertMember[];
  readonly change: AlertChangeRecord;
}

/** Why a notification went out: the alert's first, a change of its members, a reminder, its end. */
export type AlertNotificationReason = 'new' | 'changed' | 'repeat' | 'resolved' | 'escalated';

/** The retry schedule: attempt n failed → wait random(0, min(maxMs, baseMs·2^(n-1))) ("full jitter"). */
export interface AlertBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Attempts in all (the first one included) before a delivery is `failed`. */
  readonly maxAttempts: number;
}

/**
 * The default schedule: 30 s doubling to a 6 h cap, 20 attempts. The caps add up to about 60 hours;
 * with full jitter the retries span about 30 hours on average, in line with the multi-day schedules
 * of the specification, Stripe and Svix.
 */
export const alertBackoffDefaults: AlertBackoff = { baseMs: 30_000, maxMs: 6 * 3_600_000, maxAttempts: 20 };

/** A pino-compatible logger (the subset used). */
export interface AlertLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface AlertDispatcherOptions {
  readonly store: Pick<Store, 'alerts'>;
  /** The alert rules of a service, defaults applied (the `alerts:` list of its `monitoring:` block). */
  readonly rules: (service: string) => readonly AlertRuleConfig[];
  /** The value of a named secret (the CLI reads the environment), or undefined when it is not set. */
  readonly secret: (name: string) => string | undefined;
  /**
   * Who owns a service and where its alerts reach them (governance's `ownership:` block, resolved by the
   * composition root): the owners and runbook in every payload, the on-call route of rules without a
   * webhook, the escalation route. Default: none.
   */
  readonly ownership?: (service: string) => AlertOwnership | undefined;
  /** The services whose alerts may escalate (those with an escalation route); default none. */
  readonly escalatingServices?: () => readonly string[];
  /** Milliseconds since the epoch (default Date.now): timestamps, due times, signatures, group timers. */
  readonly now?: () => number;
  /** Uniform in [0, 1) (default Math.random): the jitter. */
  readonly random?: () => number;
  readonly backoff?: Partial<AlertBackoff>;
  readonly logger?: AlertLogger;
  /** Milliseconds between looks at the outbox and the group timers while started (default 1000); an alert change looks at once. */
  readonly pollMs?: number;
  /** Attempts in flight at once (default 8). */
  readonly concurrency?: number;
}

/** The JSON body of every delivery (`type` tells which event). */
export interface AlertWebhookPayload extends AlertOwnershipView {
  readonly type: AlertEventType;
  /** When the event happened: firedAt for the first notification, the notification's time for a change or a repeat, resolvedAt for `alert.resolved`. */
  readonly timestamp: string;
  /** The alert id: the same in every notification of one alert. */
  readonly id: string;
  readonly rule: string;
  readonly service: string;
  /** The group's key: the monitor (its family, or the whole name when grouped by feature), `*` when the rule does not group by it. */
  readonly monitor: string;
  /** The version, `*` when the rule does not group by it. */
  readonly version: string;
  /** The segment when the rule groups by it (null: the unsegmented traffic), else `*`. */
  readonly segment: string | null;
  /** The highest state among the members (`warning` or `alert`). */
  readonly severity: string;
  readonly state: 'firing' | 'resolved';
  readonly reason: AlertNotificationReason;
  readonly firedAt: string;
  readonly resolvedAt: string | null;
  /** One sentence: what the alert covers and the leading member's message. */
  readonly summary: string;
  readonly monitors: readonly string[];
  readonly features: readonly string[];
  readonly segments: ReadonlyArray<string | null>;
  readonly windows: ReadonlyArray<{ readonly start: string; readonly end: string }>;
  /** The members as of this notification (for `alert.resolved`: the last ones, which have now resolved). */
  readonly members: readonly AlertMember[];
  /** The state change that last changed the members (for `alert.resolved`: the one that emptied the group). */
  readonly transition: AlertChangeRecord | null;
}

export interface AlertDispatcher {
  /** Moves the monitor into or out of the alerts of every matching rule; resolves once the changes are durable. */
  onTransition(transition: AlertTransition): Promise<AlertTransitionResult>;
  /** Starts the delivery loop (idempotent). */
  start(): void;
  /**
   * Enqueues the notifications due now (group timers, per `now`), attempts every delivery due now,
   * waits for the attempts, and repeats while any were made; returns how many attempts.
   */
  deliverDue(): Promise<number>;
  /**
   * Looks at the outbox now rather than at the next poll (once started): for whoever wrote a delivery
   * outside an alert change (the review queue's outcomes). A no-op before start and after close.
   */
  wake(): void;
  /** Stops the loop and waits for the attempts in flight (they are recorded); idempotent. Close it before the store. */
  close(): Promise<void>;
}

const stateRank: Readonly<Record<AlertMonitorState, number>> = { unknown: -1, ok: 0, warning: 1, alert: 2 };
/** Extra lease beyond a delivery's timeout: if the process dies mid-attempt, the delivery is due again after it. */
const leaseMarginMs = 60_000;
const errorExcerptBytes = 512;
const userAgent = 'Ballast-Webhooks/1';
/** The key value of a label the rule does not group by. */
export const ungroupedLabel = '*';

/** Whether a rule's `monitors` list names a monitor: exactly, or by a prefix ending in `*` (`*` alone is every monitor). */
export function ruleMatchesMonitor(patterns: readonly string[], monitor: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? monitor.startsWith(p.slice(0, -1)) : p === monitor));
}

/** A monitor's family: the part before the first `/` (`feature_drift/body` → `feature_drift`), else the name. */
export function monitorFamily(monitor: string): string {
  const slash = monitor.indexOf('/');
  return slash < 0 ? monitor : monitor.slice(0, slash);
}

/** The key of the alert a monitor (in a segment, of a version) belongs to under a rule. */
export function alertGroupKey(rule: Pick<AlertRuleConfig, 'name' | 'group'>, t: Pick<AlertTransition, 'service' | 'monitor' | 'version' | 'segment'>): AlertKey {
  const by = new Set(rule.group.by);
  return {
    rule: rule.name,
    service: t.service,
    monitor: by.has('feature') ? t.monitor : by.has('monitor') ? monitorFamily(t.monitor) : ungroupedLabel,
    version: by.has('version') ? t.version : ungroupedLabel,
    segment: by.has('segment') ? (t.segment ?? '') : ungroupedLabel,
  };
}

/** Whether a stored alert's key is one `alertGroupKey` could make under grouping `by` (false: the grouping changed since it fired). */
export function keyFitsGrouping(key: Pick<AlertKey, 'monitor' | 'version' | 'segment'>, by: readonly string[]): boolean {
  const has = new Set(by);
  const monitorGrouped = has.has('feature') || has.has('monitor');
  if (monitorGrouped !== (key.monitor !== ungroupedLabel)) return false;
  // Grouped by family only, a key never names a feature's monitor.
  if (has.has('monitor') && !has.has('feature') && key.monitor.includes('/')) return false;
  return has.has('version') === (key.version !== ungroupedLabel) && has.has('segment') === (key.segment !== ungroupedLabel);
}

/** The wait after failed attempt `attempt` (1-based): full jitter, random(0, min(maxMs, baseMs·2^(attempt-1))). */
export function retryDelayMs(attempt: number, backoff: AlertBackoff, random: () => number): number {
  const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * cap);
}

/**
 * A Retry-After value in milliseconds (delta-seconds or an HTTP date), clamped to [0, maxMs]; undefined
 * when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number, maxMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (!Number.isFinite(date) || !/[A-Za-z]/.test(text)) return undefined;
    ms = date - nowMs;
  }
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), maxMs) : undefined;
}

function checkBackoff(b: AlertBackoff): AlertBackoff {
  const ok = Number.isSafeInteger(b.baseMs) && b.baseMs >= 0 && Number.isSafeInteger(b.maxMs) && b.maxMs >= b.baseMs && Number.isSafeInteger(b.maxAttempts) && b.maxAttempts >= 1;
  if (!ok) throw new BallastError('CONFIG_INVALID', { detail: `The alert backoff must have whole baseMs <= maxMs and maxAttempts >= 1, got ${JSON.stringify(b)}.` });
  return b;
}

const silentLogger: AlertLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What one attempt came to, before it is recorded. */
interface AttemptResult {
  readonly httpStatus: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** Never worth retrying (410 Gone, an unusable URL). */
  readonly permanent: boolean;
  readonly retryAfter?: string | undefined;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareSegment = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : compareText(a, b));

function sortMembers(members: Iterable<AlertMember>): AlertMember[] {
  return [...members].sort((a, b) => compareText(a.monitor, b.monitor) || compareSegment(a.segment, b.segment));
}

const memberId = (monitor: string, segment: string | null): string => JSON.stringify([monitor, segment]);

/** What a notification says about the members: which monitors, in which segments, in which state. */
function membersIdentity(members: readonly AlertMember[]): string {
  return JSON.stringify(sortMembers(members).map((m) => [m.monitor, m.segment, m.state]));
}

function windowOf(values: unknown): { start: string; end: string } | undefined {
  if (values === null || typeof values !== 'object') return undefined;
  const w = (values as { window?: unknown }).window;
  if (w === null || typeof w !== 'object') return undefined;
  const { start, end } = w as { start?: unknown; end?: unknown };
  return typeof start === 'string' && typeof end === 'string' ? { start, end } : undefined;
}

/** The group values of an alert, or undefined for an alert that is not grouped (fired before grouping existed). */
export function readAlertGroupValues(values: unknown): AlertGroupValues | undefined {
  if (values === null || typeof values !== 'object') return undefined;
  const v = values as Partial<AlertGroupValues>;
  return Array.isArray(v.members) && Array.isArray(v.by) && v.change !== undefined ? (v as AlertGroupValues) : undefined;
}

function groupValues(by: readonly AlertGroupLabel[], members: readonly AlertMember[], change: AlertChangeRecord): AlertGroupValues {
  const monitors = [...new Set(members.map((m) => m.monitor))].sort(compareText);
  const features = [...new Set(members.filter((m) => m.monitor.startsWith('feature_drift/')).map((m) => m.monitor.slice('feature_drift/'.length)))].sort(compareText);
  const segments = [...new Set(members.map((m) => m.segment))].sort(compareSegment);
  const windows = new Map<string, { start: string; end: string }>();
  for (const m of members) {
    const w = windowOf(m.values);
    if (w !== undefined) windows.set(`${w.start}/${w.end}`, w);
  }
  return { by: [...by], monitors, features, segments, windows: [...windows.values()].sort((a, b) => compareText(a.start, b.start) || compareText(a.end, b.end)), members, change };
}

function highestState(members: readonly AlertMember[]): AlertSeverity {
  return members.some((m) => m.state === 'alert') ? 'alert' : 'warning';
}

function listed(items: readonly string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** One sentence: the member's own message when there is one member, else what the alert covers and the leading member's message. */
function groupSummary(key: AlertKey, values: AlertGroupValues): string {
  const { members } = values;
  const severity = highestState(members);
  const lead = members.find((m) => m.state === severity) ?? members[0]!;
  const where = (m: AlertMember) => (m.segment === null ? '' : ` [${m.segment}]`);
  if (members.length === 1) return `${lead.message}${where(lead)}`;
  const name = key.monitor === ungroupedLabel ? 'monitors' : key.monitor;
  const parts: string[] = [];
  if (values.features.length > 0) parts.push(`${values.features.length} ${values.features.length === 1 ? 'feature' : 'features'} (${listed(values.features)})`);
  const others = values.monitors.filter((m) => !m.startsWith('feature_drift/'));
  if (others.length > 0 && (values.features.length > 0 || others.length > 1 || others[0] !== key.monitor)) parts.push(listed(others));
  const segments = values.segments.map((s) => s ?? 'all traffic');
  parts.push(`${segments.length} ${segments.length === 1 ? 'segment' : 'segments'} (${listed(segments)})`);
  return `${name} ${severity} on ${members.length} monitors × segments: ${parts.join(' in ')}; e.g. ${lead.message}${where(lead)}`;
}

/** Creates the dispatcher; nothing is sent until `start()` (or `deliverDue()`). */
export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const alerts = options.store.alerts;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const backoff = checkBackoff({ ...alertBackoffDefaults, ...options.backoff });
  const logger = options.logger ?? silentLogger;
  const pollMs = options.pollMs ?? 1000;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const newId = createIdGenerator({ now });
  const agent = new Agent();
  const iso = (ms: number): string => new Date(ms).toISOString();

  const chains = new Map<string, Promise<unknown>>();
  const inFlight = new Set<Promise<void>>();
  /** When to look at a group's alert again (its notification timers), by the JSON text of its key. */
  const checks = new Map<string, { key: AlertKey; at: number }>();
  /** Whether the firing alerts of the store have been given their timers (once per dispatcher). */
  let seeded = false;
  let started = false;
  let closing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;
  let again = false;

  /** Runs `work` after every earlier piece of work on the same key, so the changes of one alert apply in order. */
  function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    chains.set(key, next);
    const forget = (): void => {
      if (chains.get(key) === next) chains.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  const keyText = (key: AlertKey): string => JSON.stringify([key.rule, key.service, key.monitor, key.version, key.segment]);
  /**
   * Work is serialized per rule and service, not per group: the rule's rate limit is counted across its groups
   * (rateSlot reads the deliveries, then the work enqueues one), so two groups of one rule must not interleave.
   */
  const ruleText = (key: AlertKey): string => JSON.stringify([key.rule, key.service]);

  function checkAt(key: AlertKey, at: number): void {
    const text = keyText(key);
    const previous = checks.get(text);
    if (previous === undefined || at < previous.at) checks.set(text, { key, at });
  }

  /**
   * The body of a notification; `notifiedAt` is when the alert's first notification was enqueued (null: none yet),
   * `transition` replaces the alert's latest change (the one that resolved it).
   */
  function payload(alert: StoredAlert, type: AlertEventType, reason: AlertNotificationReason, atMs: number, notifiedAt: string | null, transition?: AlertChangeRecord): string {
    const group = readAlertGroupValues(alert.values);
    const timestamp = reason === 'new' ? alert.firedAt : reason === 'resolved' ? (alert.resolvedAt ?? iso(atMs)) : iso(atMs);
    const body: AlertWebhookPayload = {
      type,
      timestamp,
      ...alertOwnershipView(alert, options.ownership?.(alert.service), notifiedAt),
      id: alert.id,
      rule: alert.rule,
      service: alert.service,
      monitor: alert.monitor,
      version: alert.version,
      segment: alert.segment === '' ? null : alert.segment,
      severity: alert.severity,
      state: alert.state,
      reason,
      firedAt: alert.firedAt,
      resolvedAt: alert.resolvedAt,
      summary: alert.summary,
      monitors: group?.monitors ?? [alert.monitor],
      features: group?.features ?? [],
      segments: group?.segments ?? [alert.segment === '' ? null : alert.segment],
      windows: group?.windows ?? [],
      members: group?.members ?? [],
      transition: transition ?? group?.change ?? null,
    };
    return JSON.stringify(body);
  }

  /** Where a rule's notifications go: its own webhook, else its service's on-call route (none: the config changed under it). */
  function routeOf(rule: AlertRuleConfig, service: string): WebhookTargetConfig | null {
    return rule.webhook ?? options.ownership?.(service)?.onCall ?? null;
  }

  function toRoute(route: WebhookTargetConfig, alert: StoredAlert, type: AlertEventType, reason: AlertNotificationReason, atMs: number, notifiedAt: string | null, transition?: AlertChangeRecord): NewAlertDelivery {
    return { id: newId('whd'), type, url: route.url, secretName: route.secret, timeoutMs: route.timeoutMs, body: payload(alert, type, reason, atMs, notifiedAt, transition), createdAt: iso(atMs) };
  }

  /** The notification on the rule's route; none, logged, when it has no route (the composition root refuses such a config). */
  function delivery(rule: AlertRuleConfig, alert: StoredAlert, type: AlertEventType, reason: AlertNotificationReason, atMs: number, notifiedAt: string | null, transition?: AlertChangeRecord): NewAlertDelivery[] {
    const route = routeOf(rule, alert.service);
    if (route === null) {
      logger.error({ rule: rule.name, service: alert.service, alert: alert.id, type }, 'alert rule has no webhook and its service no on-call route: notification dropped');
      return [];
    }
    return [toRoute(route, alert, type, reason, atMs, notifiedAt, transition)];
  }

  /**
   * The `alert.resolved` of an alert that had escalated, to the escalation route (the store calls it in the
   * resolve's transaction, only when the alert escalated): whoever was paged hears that it ended. None when
   * the service has no escalation route any more.
   */
  function escalationResolved(atMs: number, notifiedAt: string | null, transition?: AlertChangeRecord): (alert: StoredAlert) => NewAlertDelivery | undefined {
    return (alert) => {
      const route = options.ownership?.(alert.service)?.escalation;
      return route == null ? undefined : toRoute(route, alert, 'alert.resolved', 'resolved', atMs, notifiedAt, transition);
    };
  }

  /** The earliest instant ≥ now at which the rule may notify once more: at most `max` in any `per`, counted in the store. */
  async function rateSlot(rule: AlertRuleConfig, service: string, nowMs: number): Promise<number> {
    const { max, perMs } = rule.rateLimit;
    // The escalation route is outside the limit: its escalation and the resolve it hears after.
    const escalationUrl = options.ownership?.(service)?.escalation?.url;
    const times = (await alerts.listDeliveryTimes(service, rule.name, iso(nowMs - perMs), escalationUrl)).map((t) => Date.parse(t));
    if (times.length < max) return nowMs;
    // The window (slot − per, slot] then holds the last max − 1 of them: room for one more.
    return Math.max(nowMs, times[times.length - max]! + perMs);
  }

  /** The last `alert.firing` notification of an alert: when it was enqueued and what it said of the members; and when the first was. */
  async function lastNotification(alertId: string): Promise<{ atMs: number; identity: string; firstAt: string } | undefined> {
    const firing = (await alerts.listDeliveries(alertId)).filter((d) => d.type === 'alert.firing');
    const last = firing.at(-1);
    const firstAt = firstNotifiedAt(firing);
    if (last === undefined || firstAt === null) return undefined;
    let members: AlertMember[] = [];
    try {
      const body = JSON.parse(last.body) as { members?: unknown };
      if (Array.isArray(body.members)) members = body.members as AlertMember[];
    } catch {
      // An unreadable body counts as a notification about no members: the next check notifies the current ones.
    }
    return { atMs: Date.parse(last.createdAt), identity: membersIdentity(members), firstAt };
  }

  /** An alert fired before grouping (keyed by the exact monitor and segment) resolves as it used to, when its monitor falls below minState. */
  async function resolveUngrouped(rule: AlertRuleConfig, t: AlertTransition, segment: string, change: AlertChangeRecord): Promise<StoredAlert | undefined> {
    const key = { rule: rule.name, service: t.service, monitor: t.monitor, version: t.version, segment };
    if (keyText(key) === keyText(alertGroupKey(rule, t))) return undefined;
    const active = await alerts.getActive(key);
    if (active === undefined || readAlertGroupValues(active.values) !== undefined) return undefined;
    const resolvedAt = t.at < active.firedAt ? active.firedAt : t.at;
    const resolved: StoredAlert = { ...active, state: 'resolved', resolvedAt };
    const at = await rateSlot(rule, t.service, now());
    const notifiedAt = firstNotifiedAt(await alerts.listDeliveries(active.id));
    return alerts.resolve(active.id, resolvedAt, delivery(rule, resolved, 'alert.resolved', 'resolved', at, notifiedAt, change), escalationResolved(now(), notifiedAt, change));
  }

  async function applyRule(rule: AlertRuleConfig, t: AlertTransition, key: AlertKey): Promise<{ fired?: StoredAlert; updated?: StoredAlert; resolved?: StoredAlert }> {
    // `unknown` means "not enough data": it neither joins nor leaves.
    if (t.to === 'unknown') return {};
    const segment = t.segment === undefined || t.segment === '' ? null : t.segment;
    const change: AlertChangeRecord = { monitor: t.monitor, segment, from: t.from, to: t.to, at: t.at, message: t.message, values: t.values };
    const firing = stateRank[t.to] >= stateRank[rule.minState];
    const fields = { rule: rule.name, service: t.service, monitor: t.monitor, version: t.version, segment: t.segment ?? '' };
    if (!firing) {
      const old = await resolveUngrouped(rule, t, t.segment ?? '', change);
      if (old !== undefined) {
        logger.info({ ...fields, alert: old.id }, 'alert resolved');
        return { resolved: old };
      }
    }
    const active = await alerts.getActive(key);
    const current = active === undefined ? undefined : readAlertGroupValues(active.values);
    const members = new Map((current?.members ?? []).map((m) => [memberId(m.monitor, m.segment), m]));
    const id = memberId(t.monitor, segment);
    const before = members.get(id);
    if (firing) {
      const state = t.to as AlertSeverity;
      // Already a member in this state (a restart hands every state over again): nothing changes.
      if (before?.state === state) return {};
      members.set(id, { monitor: t.monitor, segment, state, since: before?.since ?? t.at, message: t.message, values: t.values });
    } else {
      if (before === undefined) return {};
      members.delete(id);
    }
    const nowMs = now();

    if (members.size === 0) {
      if (active === undefined) return {};
      // A transition stamped before the alert fired (clock skew between replicas) resolves it at its firing time.
      const resolvedAt = t.at < active.firedAt ? active.firedAt : t.at;
      const resolved: StoredAlert = { ...active, state: 'resolved', resolvedAt };
      // Never announced (it ended within group.wait, or the rate limit held it back): it ends silently.
      const notifiedAt = (await lastNotification(active.id))?.firstAt ?? null;
      const announced = notifiedAt !== null;
      const deliveries = announced ? delivery(rule, resolved, 'alert.resolved', 'resolved', await rateSlot(rule, t.service, nowMs), notifiedAt, change) : [];
      // Escalated or not, announced or not, it is resolved in one transaction with what each route should hear.
      const done = await alerts.resolve(active.id, resolvedAt, deliveries, escalationResolved(nowMs, notifiedAt, change));
      if (done === undefined) return {};
      checks.delete(keyText(key));
      logger.info({ ...fields, alert: active.id, announced }, 'alert resolved');
      return { resolved: done };
    }

    const values = groupValues(rule.group.by, sortMembers(members.values()), change);
    const severity = highestState(values.members);
    const summary = groupSummary(key, values);
    if (active === undefined) {
      const alert: StoredAlert = { ...key, id: newId('alt'), severity, state: 'firing', firedAt: t.at, resolvedAt: null, summary, values };
      const result = await alerts.fire(alert, []);
      // Fired meanwhile by another writer: the member joins that alert instead.
      if (!result.created) return applyRule(rule, t, key);
      logger.info({ ...fields, alert: alert.id }, 'alert fired');
      // With group.wait 0 the first notification is enqueued now, before the transition is acknowledged.
      await checkGroup(key);
      return { fired: alert };
    }
    const updated = await alerts.update(active.id, { severity, summary, values }, []);
    if (updated === undefined) return {};
    await checkGroup(key);
    return { updated };
  }

  /** Sends the notification of one group's alert that is due now, or sets the timer for when one will be. Returns 1 if it enqueued one. */
  async function checkGroup(key: AlertKey): Promise<number> {
    const rule = options.rules(key.service).find((r) => r.name === key.rule);
    const active = await alerts.getActive(key);
    const values = active === undefined ? undefined : readAlertGroupValues(active.values);
    if (active === undefined || values === undefined) return 0;
    const nowMs = now();
    if (rule === undefined || !keyFitsGrouping(key, rule.group.by)) {
      // Its rule was removed, or now groups by other labels: no transition will ever reach this key again, so it would
      // stay firing (and repeat) for ever. It is resolved now, announced (when it had been) on the rule's webhook.
      const resolved: StoredAlert = { ...active, state: 'resolved', resolvedAt: iso(nowMs) };
      const notifiedAt = (await lastNotification(active.id))?.firstAt ?? null;
      const announced = rule !== undefined && notifiedAt !== null;
      const deliveries = announced ? delivery(rule, resolved, 'alert.resolved', 'resolved', await rateSlot(rule, key.service, nowMs), notifiedAt) : [];
      const done = await alerts.resolve(active.id, iso(nowMs), deliveries, escalationResolved(nowMs, notifiedAt));
      checks.delete(keyText(key));
      if (done !== undefined) logger.info({ rule: key.rule, service: key.service, alert: active.id, announced }, rule === undefined ? 'alert resolved: its rule was removed' : "alert resolved: its rule's group.by changed");
      return deliveries.length;
    }
    const last = await lastNotification(active.id);
    let reason: AlertNotificationReason;
    let dueAt: number;
    if (last === undefined) [reason, dueAt] = ['new', Date.parse(active.firedAt) + rule.group.waitMs];
    else if (last.identity !== membersIdentity(values.members)) [reason, dueAt] = ['changed', last.atMs + rule.group.intervalMs];
    else [reason, dueAt] = ['repeat', last.atMs + rule.group.repeatMs];
    if (dueAt > nowMs) {
      checkAt(key, dueAt);
      return 0;
    }
    const slot = await rateSlot(rule, key.service, nowMs);
    if (slot > nowMs) {
      // Held back, not dropped: at the free slot the alert's state then is notified.
      checkAt(key, slot);
      logger.warn({ rule: rule.name, service: key.service, alert: active.id, reason, until: iso(slot) }, 'alert notification held back by the rule rate limit');
      return 0;
    }
    // The first notification is this one: its escalation (if any) is due `after` now.
    const notification = delivery(rule, active, 'alert.firing', reason, nowMs, last?.firstAt ?? iso(nowMs));
    if (notification.length === 0) {
      checkAt(key, nowMs + rule.group.repeatMs);
      return 0;
    }
    const sent = await alerts.update(active.id, {}, notification);
    if (sent === undefined) return 0;
    checkAt(key, nowMs + rule.group.repeatMs);
    return 1;
  }

  /** Runs the group checks that are due; returns how many notifications they enqueued. */
  async function checkDue(): Promise<number> {
    if (!seeded) {
      // A new process learns the timers of the alerts already firing (a repeat is due even if no monitor changes).
      for (const alert of await alerts.listActive()) if (readAlertGroupValues(alert.values) !== undefined) checkAt(alert, 0);
      seeded = true;
    }
    const nowMs = now();
    const due = [...checks].filter(([, c]) => c.at <= nowMs);
    let queued = 0;
    for (const [text, { key }] of due) {
      checks.delete(text);
      try {
        queued += await serialized(ruleText(key), () => checkGroup(key));
      } catch (error) {
        // Not lost: the group is looked at again at the next pass.
        checkAt(key, nowMs);
        throw error;
      }
    }
    return queued + (await escalateDue());
  }

  /** Escalates, once each, the firing alerts nobody acknowledged within their service's delay; returns how many. */
  async function escalateDue(): Promise<number> {
    const services = options.escalatingServices?.() ?? [];
    if (services.length === 0 || options.ownership === undefined) return 0;
    const nowMs = now();
    let escalated = 0;
    for (const service of services) {
      const route = options.ownership(service)?.escalation;
      if (route == null) continue;
      // The alerts of the service's rules: a review SLA breach (rule review-sla) has its own escalation, to the review block's escalateTo role.
      const rules = options.rules(service).map((r) => r.name);
      // Due `after` the first notification: notified by now − after.
      for (const alert of await alerts.listEscalationCandidates(service, rules, iso(nowMs - route.afterMs), 100)) {
        // The guard in the store decides: another dispatcher, an acknowledgement or a resolution may have come first.
        const notifiedAt = firstNotifiedAt(await alerts.listDeliveries(alert.id));
        const done = await alerts.escalate(alert.id, iso(nowMs), (current) => toRoute(route, current, 'alert.escalated', 'escalated', nowMs, notifiedAt));
        if (done === undefined) continue;
        escalated += 1;
        logger.warn({ rule: alert.rule, service, alert: alert.id, after: route.after, to: route.url }, 'alert escalated: nobody acknowledged it in time');
      }
    }
    return escalated;
  }

  async function onTransition(t: AlertTransition): Promise<AlertTransitionResult> {
    if (!(t.to in stateRank) || !(t.from in stateRank)) {
      throw new BallastError('INTERNAL', { detail: `a monitor transition must go between ${Object.keys(stateRank).join(', ')}, got ${String(t.from)} → ${String(t.to)}` });
    }
    const rules = options.rules(t.service).filter((rule) => ruleMatchesMonitor(rule.monitors, t.monitor));
    const outcomes = await Promise.all(
      rules.map((rule) => {
        const key = alertGroupKey(rule, t);
        return serialized(ruleText(key), () => applyRule(rule, t, key));
      }),
    );
    const pick = (name: 'fired' | 'updated' | 'resolved') => outcomes.flatMap((o) => (o[name] === undefined ? [] : [o[name]]));
    const result = { fired: pick('fired'), updated: pick('updated'), resolved: pick('resolved') };
    if (result.fired.length > 0 || result.updated.length > 0 || result.resolved.length > 0) kick();
    return result;
  }

  // ---- delivery ---------------------------------------------------------------------------------

  async function send(d: StoredAlertDelivery, startedAt: number): Promise<AttemptResult> {
    const secretValue = options.secret(d.secretName);
    if (secretValue === undefined) {
      return { httpStatus: null, errorCode: 'secret_missing', errorMessage: `the signing secret ${d.secretName} is not set`, permanent: false };
    }
    let url: URL;
    try {
      url = new URL(d.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
    } catch (error) {
      return { httpStatus: null, errorCode: 'invalid_url', errorMessage: error instanceof Error ? error.message : String(error), permanent: true };
    }
    let headers;
    try {
      headers = signWebhook({ id: d.id, timestamp: Math.floor(startedAt / 1000), body: d.body }, secretValue);
    } catch (error) {
      return { httpStatus: null, errorCode: 'secret_invalid', errorMessage: error instanceof BallastError ? error.detail : String(error), permanent: false };
    }
    const signal = AbortSignal.timeout(d.timeoutMs);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        signal,
        headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...headers },
        body: d.body,
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        await response.body.dump();
        return { httpStatus: status, errorCode: null, errorMessage: null, permanent: false };
      }
      const excerpt = await readExcerpt(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        httpStatus: status,
        errorCode: status === 410 ? 'gone' : 'http_status',
        errorMessage: excerpt === '' ? `HTTP ${status}` : `HTTP ${status}: ${excerpt}`,
        // 410 Gone: the receiver says it wants no more (the specification); every other status is retried, as Stripe and Svix do.
        permanent: status === 410,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      return { httpStatus: null, ...classifyTransportError(error, signal, d.timeoutMs), permanent: false };
    }
  }

  async function attempt(d: StoredAlertDelivery): Promise<void> {
    const number = d.attempts + 1;
    const startedAt = now();
    const t0 = performance.now();
    const result = await send(d, startedAt);
    const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const endedAt = now();
    let outcome: 'delivered' | 'pending' | 'failed';
    let nextAttemptAt = endedAt;
    if (result.errorCode === null) outcome = 'delivered';
    else if (result.permanent || number >= backoff.maxAttempts) outcome = 'failed';
    else {
      outcome = 'pending';
      const honoured = result.httpStatus === 429 || result.httpStatus === 503 ? parseRetryAfterMs(result.retryAfter, endedAt, backoff.maxMs) : undefined;
      nextAttemptAt = endedAt + (honoured ?? retryDelayMs(number, backoff, random));
    }
    const fields = { delivery: d.id, alert: d.alertId, rule: d.rule, type: d.type, attempt: number, status: result.httpStatus, error: result.errorCode };
    try {
      await alerts.recordAttempt(
        { deliveryId: d.id, attempt: number, at: iso(startedAt), httpStatus: result.httpStatus, errorCode: result.errorCode, errorMessage: result.errorMessage, durationMs, outcome },
        iso(nextAttemptAt),
      );
    } catch (error) {
      // The lease runs out and the delivery is attempted again: at least once, not at most once.
      logger.error({ ...fields, err: error }, 'webhook attempt could not be recorded');
      return;
    }
    if (outcome === 'delivered') logger.info(fields, 'webhook delivered');
    else if (outcome === 'pending') logger.warn({ ...fields, message: result.errorMessage, nextAttemptAt: iso(nextAttemptAt) }, 'webhook attempt failed; will retry');
    else logger.error({ ...fields, message: result.errorMessage }, 'webhook delivery failed for good');
  }

  /** Claims what is due (up to the free capacity) and starts the attempts; returns how many started. */
  async function startDue(): Promise<number> {
    const capacity = concurrency - inFlight.size;
    if (capacity <= 0) return 0;
    const nowMs = now();
    const due = await alerts.dueDeliveries(iso(nowMs), capacity);
    if (due.length === 0) return 0;
    const lease = nowMs + Math.max(...due.map((d) => d.timeoutMs)) + leaseMarginMs;
    const taken = new Set(await alerts.claimDeliveries(due.map((d) => ({ id: d.id, nextAttemptAt: d.nextAttemptAt })), iso(lease), iso(nowMs)));
    let count = 0;
    for (const d of due) {
      if (!taken.has(d.id)) continue;
      count += 1;
      const running: Promise<void> = attempt(d)
        .catch((error: unknown) => logger.error({ delivery: d.id, err: error }, 'webhook attempt failed unexpectedly'))
        .finally(() => {
          inFlight.delete(running);
          kick();
        });
      inFlight.add(running);
    }
    return count;
  }

  function schedule(delayMs: number): void {
    if (!started || closing !== undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => void runPass(), delayMs);
    timer.unref();
  }

  function kick(): void {
    if (!started || closing !== undefined) return;
    if (pass !== undefined) again = true;
    else schedule(0);
  }

  function runPass(): Promise<void> {
    if (pass !== undefined) {
      again = true;
      return pass;
    }
    pass = (async () => {
      try {
        do {
          again = false;
          await checkDue();
          await startDue();
        } while (again && closing === undefined);
      } catch (error) {
        logger.error({ err: error }, 'webhook outbox could not be read');
      } finally {
        pass = undefined;
        schedule(pollMs);
      }
    })();
    return pass;
  }

  return {
    onTransition,

    start() {
      if (closing !== undefined) throw new BallastError('INTERNAL', { detail: 'the alert dispatcher is closed' });
      if (started) return;
      started = true;
      schedule(0);
    },

    wake: () => kick(),

    async deliverDue() {
      if (closing !== undefined) throw new BallastError('INTERNAL', { detail: 'the alert dispatcher is closed' });
      let total = 0;
      for (;;) {
        const queued = await checkDue();
        const count = await startDue();
        total += count;
        await Promise.allSettled([...inFlight]);
        if (count === 0 && queued === 0) return total;
      }
    },

    close() {
      closing ??= (async () => {
        clearTimeout(timer);
        await pass;
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await Promise.allSettled([...chains.values()]);
        await agent.close();
      })();
      return closing;
    },
  };
}

async function readExcerpt(body: AsyncIterable<Buffer> & { dump(opts?: { limit: number }): Promise<void> }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= errorExcerptBytes) break;
  }
  const text = Buffer.concat(chunks).subarray(0, errorExcerptBytes).toString('utf8');
  return text.replace(/\s+/g, ' ').trim();
}

const transportCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
};

function classifyTransportError(error: unknown, signal: AbortSignal, timeoutMs: number): { errorCode: string; errorMessage: string } {
  if (signal.aborted) return { errorCode: 'timeout', errorMessage: `no answer within ${timeoutMs} ms` };
  const codes: string[] = [];
  // undici wraps the socket's error: look through the causes (and AggregateErrors of happy eyeballs).
  const visit = (e: unknown, depth: number): void => {
    if (depth > 4 || e === null || typeof e !== 'object') return;
    if ('code' in e && typeof e.code === 'string') codes.push(e.code);
    if ('errors' in e && Array.isArray(e.errors)) for (const inner of e.errors) visit(inner, depth + 1);
    if ('cause' in e) visit(e.cause, depth + 1);
  };
  visit(error, 0);
  const known = codes.map((c) => transportCodes[c]).find((c) => c !== undefined);
  const message = error instanceof Error ? error.message : String(error);
  return { errorCode: known ?? 'network', errorMessage: codes.length > 0 ? `${codes[0]}: ${message}` : message };
}
