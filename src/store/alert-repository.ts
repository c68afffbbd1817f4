// Alerts over Kysely: every change is one transaction through ctx.write, and each transaction writes
// before it reads (SQLite takes the write lock at the first write, so a read-then-write transaction
// could fail with SQLITE_BUSY when the writer thread committed in between).
import type { Kysely, Selectable } from 'kysely';
import { BallastError } from '../errors/index.js';
import type {
  AlertAcknowledgement,
  AlertDeliveryAttempt,
  AlertDeliveryStatus,
  AlertDeliveryWithLog,
  AlertEventType,
  AlertKey,
  AlertState,
  NewAlertDelivery,
  StoredAlert,
  StoredAlertDelivery,
} from './alert-records.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { AlertDeliveriesTable, AlertOutboxTable, AlertsTable, Database } from './schema.js';
import type { PageOptions } from './store.js';

/** A page of alerts ordered by firedAt then id; `since`/`until` bound firedAt. */
export interface AlertListOptions extends PageOptions {
  readonly state?: AlertState;
}

/** What `fire` did: `created` is false when an alert with the same key was already firing (returned instead). */
export interface AlertFireResult {
  readonly alert: StoredAlert;
  readonly created: boolean;
}

/** What `update` may change of a firing alert. */
export interface AlertChange {
  readonly severity?: string;
  readonly summary?: string;
  readonly values?: unknown;
}

/** What `acknowledge` did: `changed` is false when the alert was acknowledged before (that first acknowledgement is returned). */
export interface AlertAckResult {
  readonly alert: StoredAlert;
  readonly changed: boolean;
}

/** A delivery to take for an attempt, with the `nextAttemptAt` it was read with. */
export interface AlertDeliveryClaim {
  readonly id: string;
  readonly nextAttemptAt: string;
}

/** Alerts, their webhook outbox and the delivery log; low-rate, so each change is its own transaction. */
export interface AlertRepository {
  /**
   * Records a firing alert and enqueues its deliveries in one transaction, unless an alert with the
   * same key (rule, service, monitor, version, segment) is firing already: then nothing is written
   * and the firing one is returned with `created: false`.
   */
  fire(alert: StoredAlert, deliveries: readonly NewAlertDelivery[]): Promise<AlertFireResult>;
  /**
   * Resolves a firing alert and enqueues its deliveries in one transaction; undefined, and nothing written, when it is not firing.
   * If it had escalated (read in that transaction, so an escalation just committed by another process counts), the
   * delivery `escalated` builds from the resolved alert goes in too: the escalation route hears it resolved.
   */
  resolve(
    alertId: string,
    resolvedAt: string,
    deliveries: readonly NewAlertDelivery[],
    escalated?: (alert: StoredAlert) => NewAlertDelivery | undefined,
  ): Promise<StoredAlert | undefined>;
  /**
   * Changes a firing alert (its severity, summary or values, as a group's members change) and enqueues
   * deliveries (its notifications) in one transaction; undefined, and nothing written, when it is not firing.
   */
  update(alertId: string, change: AlertChange, deliveries: readonly NewAlertDelivery[]): Promise<StoredAlert | undefined>;
  /**
   * Records the first acknowledgement of a firing alert with its audit event, in one transaction.
   * Acknowledged before: nothing written, the first one returned with `changed: false`. Resolved and never
   * acknowledged: ALERT_RESOLVED, nothing written. Unknown: undefined.
   */
  acknowledge(alertId: string, ack: AlertAcknowledgement, audit: StoredAuditEvent): Promise<AlertAckResult | undefined>;
  /**
   * Marks a firing alert that nobody acknowledged as escalated at `at` and enqueues the delivery that
   * `delivery` builds from it (escalatedAt set), in one transaction guarded on "firing, unacknowledged,
   * not escalated, notified (an `alert.firing` delivery enqueued)": undefined, and nothing written, when that no longer holds (another process escalated
   * it, someone acknowledged it, it resolved). So an alert escalates at most once, whoever asks.
   */
  escalate(alertId: string, at: string, delivery: (alert: StoredAlert) => NewAlertDelivery): Promise<StoredAlert | undefined>;
  /**
   * Firing alerts of a service's `rules` that nobody acknowledged and have not escalated, whose first
   * `alert.firing` notification was enqueued at or before `notifiedBy`, oldest first (at most `limit`).
   * An alert never notified (within group.wait, held back by the rate limit) is never a candidate: the
   * on-call route is paged before the escalation route is.
   */
  listEscalationCandidates(service: string, rules: readonly string[], notifiedBy: string, limit: number): Promise<StoredAlert[]>;
  /**
   * The `createdAt` of the deliveries of one rule of a service enqueued after `since`, oldest first (a rate limit's window);
   * neither `alert.escalated` nor any delivery to `exceptUrl` (the escalation route, which also hears an escalated alert resolve).
   */
  listDeliveryTimes(service: string, rule: string, since: string, exceptUrl?: string): Promise<string[]>;
  /** The firing alert with this key, if any. */
  getActive(key: AlertKey): Promise<StoredAlert | undefined>;
  /** Every firing alert (of one service), oldest first. */
  listActive(service?: string): Promise<StoredAlert[]>;
  get(id: string): Promise<StoredAlert | undefined>;
  /** A page of alerts; an unknown `after` rejects with REQUEST_INVALID. */
  list(options: AlertListOptions): Promise<StoredAlert[]>;
  /**
   * Pending deliveries with `nextAttemptAt <= now`, soonest first. A delivery waits while an older
   * delivery of the same alert to the same URL is pending, so a receiver gets `alert.firing` before
   * `alert.resolved` (and an escalation route does not wait for an on-call route that is down).
   */
  dueDeliveries(now: string, limit: number): Promise<StoredAlertDelivery[]>;
  /**
   * Takes deliveries for an attempt, in one transaction: each one still pending with the
   * `nextAttemptAt` it was read with gets `nextAttemptAt = until` (a lease: if the process dies
   * mid-attempt, the delivery is due again then). Returns the ids taken; the others were taken by
   * another process or changed meanwhile.
   */
  claimDeliveries(claims: readonly AlertDeliveryClaim[], until: string, now: string): Promise<string[]>;
  /**
   * Appends an attempt to the delivery log and updates its pending delivery (status = the
   * attempt's outcome, attempts, nextAttemptAt) in one transaction.
   */
  recordAttempt(attempt: AlertDeliveryAttempt, nextAttemptAt: string): Promise<void>;
  getDelivery(id: string): Promise<StoredAlertDelivery | undefined>;
  /** The deliveries of an alert with their attempts, oldest first. */
  listDeliveries(alertId: string): Promise<AlertDeliveryWithLog[]>;
}

/** The value of `active_key` for an alert key: JSON text, so no separator can be forged by a name. */
export function activeKey(key: AlertKey): string {
  return JSON.stringify([key.rule, key.service, key.monitor, key.version, key.segment]);
}

/** Creates the alert repository of a store. */
export function createAlertRepository(ctx: RepositoryContext): AlertRepository {
  return {
    async fire(alert, deliveries) {
      const row = encodeAlert(alert);
      if (alert.state !== 'firing' || alert.resolvedAt !== null) {
        throw new BallastError('INTERNAL', { detail: `a fired alert must be firing and unresolved, got state '${alert.state}'` });
      }
      const outbox = deliveries.map((d) => encodeDelivery(d, alert.id, alert.rule));
      return ctx.write(async (tx) => {
        const inserted = await tx
          .insertInto('alerts')
          .values({ ...row, active_key: activeKey(alert) })
          .onConflict((oc) => oc.column('active_key').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
          const firing = await selectActive(tx, alert);
          if (firing === undefined) throw new BallastError('INTERNAL', { detail: 'alert insert was refused but no alert with its key is firing' });
          return { alert: firing, created: false };
        }
        if (outbox.length > 0) await tx.insertInto('alert_outbox').values(outbox).execute();
        return { alert, created: true };
      });
    },

    async resolve(alertId, resolvedAt, deliveries, escalated) {
      checkInstant(resolvedAt, 'resolvedAt');
      return ctx.write(async (tx) => {
        const updated = await tx
          .updateTable('alerts')
          .set({ state: 'resolved', resolved_at: resolvedAt, active_key: null })
          .where('id', '=', alertId)
          .where('state', '=', 'firing')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return undefined;
        const row = await tx.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirstOrThrow();
        const alert = decodeAlert(row);
        const outbox = deliveries.map((d) => encodeDelivery(d, alertId, row.rule));
        const toEscalation = alert.escalatedAt === undefined ? undefined : escalated?.(alert);
        if (toEscalation !== undefined) outbox.push(encodeDelivery(toEscalation, alertId, row.rule));
        if (outbox.length > 0) await tx.insertInto('alert_outbox').values(outbox).execute();
        return alert;
      });
    },

    async update(alertId, change, deliveries) {
      const set: { state: string; severity?: string; summary?: string; values?: string } = { state: 'firing' };
      if (change.severity !== undefined) set.severity = change.severity;
      if (change.summary !== undefined) set.summary = change.summary;
      if ('values' in change) set.values = encodeValues(change.values);
      return ctx.write(async (tx) => {
        const updated = await tx.updateTable('alerts').set(set).where('id', '=', alertId).where('state', '=', 'firing').executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return undefined;
        const row = await tx.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirstOrThrow();
        const outbox = deliveries.map((d) => encodeDelivery(d, alertId, row.rule));
        if (outbox.length > 0) await tx.insertInto('alert_outbox').values(outbox).execute();
        return decodeAlert(row);
      });
    },

    async acknowledge(alertId, ack, audit) {
      checkInstant(ack.at, 'at');
      return ctx.write(async (tx) => {
        const updated = await tx
          .updateTable('alerts')
          .set({ acknowledged_by: ack.by, acknowledged_at: ack.at, ack_note: ack.note })
          .where('id', '=', alertId)
          .where('state', '=', 'firing')
          .where('acknowledged_at', 'is', null)
          .executeTakeFirst();
        const row = await tx.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirst();
        if (row === undefined) return undefined;
        const alert = decodeAlert(row);
        if (Number(updated.numUpdatedRows) === 1) {
          await appendAuditInTransaction(tx, [audit]);
          return { alert, changed: true };
        }
        if (alert.acknowledged !== undefined) return { alert, changed: false };
        throw new BallastError('ALERT_RESOLVED', { detail: `alert ${alertId} resolved at ${alert.resolvedAt ?? '?'}: there is nothing left to acknowledge` });
      });
    },

    async escalate(alertId, at, delivery) {
      checkInstant(at, 'at');
      return ctx.write(async (tx) => {
        const updated = await tx
          .updateTable('alerts')
          .set({ escalated_at: at })
          .where('id', '=', alertId)
          .where('state', '=', 'firing')
          .where('escalated_at', 'is', null)
          .where('acknowledged_at', 'is', null)
          // Never before the on-call route was notified.
          .where(({ exists, selectFrom }) =>
            exists(selectFrom('alert_outbox as o').select('o.id').whereRef('o.alert_id', '=', 'alerts.id').where('o.event_type', '=', 'alert.firing')),
          )
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return undefined;
        const alert = decodeAlert(await tx.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirstOrThrow());
        await tx.insertInto('alert_outbox').values(encodeDelivery(delivery(alert), alertId, alert.rule)).execute();
        return alert;
      });
    },

    listEscalationCandidates: (service, rules, notifiedBy, limit) =>
      ctx.read(async (db) => {
        checkInstant(notifiedBy, 'notifiedBy');
        const size = pageSize(limit);
        if (size === 0 || rules.length === 0) return [];
        const rows = await db
          .selectFrom('alerts')
          .selectAll()
          .where('service', '=', service)
          .where('rule', 'in', [...rules])
          .where('active_key', 'is not', null)
          .where('escalated_at', 'is', null)
          .where('acknowledged_at', 'is', null)
          // Notified by then: some `alert.firing` delivery of it enqueued at or before (so its first one was).
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('alert_outbox as o')
                .select('o.id')
                .whereRef('o.alert_id', '=', 'alerts.id')
                .where('o.event_type', '=', 'alert.firing')
                .where('o.created_at', '<=', notifiedBy),
            ),
          )
          .orderBy('fired_at')
          .orderBy('id')
          .limit(size)
          .execute();
        return rows.map(decodeAlert);
      }),

    listDeliveryTimes: (service, rule, since, exceptUrl) =>
      ctx.read(async (db) => {
        checkInstant(since, 'since');
        let query = db
          .selectFrom('alert_outbox as o')
          .innerJoin('alerts as a', 'a.id', 'o.alert_id')
          .select('o.created_at')
          .where('a.service', '=', service)
          .where('o.rule', '=', rule)
          // An escalation goes to another route, outside the rule's rate limit.
          .where('o.event_type', '!=', 'alert.escalated')
          .where('o.created_at', '>', since)
          .orderBy('o.created_at');
        if (exceptUrl !== undefined) query = query.where('o.url', '!=', exceptUrl);
        const rows = await query.execute();
        return rows.map((r) => r.created_at);
      }),

    getActive: (key) => ctx.read((db) => selectActive(db, key)),

    listActive: (service) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('alerts').selectAll().where('active_key', 'is not', null).orderBy('fired_at').orderBy('id');
        if (service !== undefined) query = query.where('service', '=', service);
        return (await query.execute()).map(decodeAlert);
      }),

    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decodeAlert(row);
      }),

    list: (options) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db.selectFrom('alerts').selectAll().orderBy('fired_at').orderBy('id').limit(limit);
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        if (options.state !== undefined) query = query.where('state', '=', options.state);
        if (options.since !== undefined) query = query.where('fired_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('fired_at', '<', options.until);
        if (options.after !== undefined) {
          const after = options.after;
          const cursor = await db.selectFrom('alerts').select('fired_at').where('id', '=', after).executeTakeFirst();
          if (cursor === undefined) throw new BallastError('REQUEST_INVALID', { detail: `unknown cursor '${after}'` });
          query = query.where((eb) =>
            eb.or([eb('fired_at', '>', cursor.fired_at), eb.and([eb('fired_at', '=', cursor.fired_at), eb('id', '>', after)])]),
          );
        }
        return (await query.execute()).map(decodeAlert);
      }),

    dueDeliveries: (now, limit) =>
      ctx.read(async (db) => {
        checkInstant(now, 'now');
        const size = pageSize(limit);
        if (size === 0) return [];
        const rows = await db
          .selectFrom('alert_outbox as o')
          .selectAll('o')
          .where('o.status', '=', 'pending')
          .where('o.next_attempt_at', '<=', now)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('alert_outbox as p')
                  .select('p.id')
                  .whereRef('p.alert_id', '=', 'o.alert_id')
                  // In order per receiver: an on-call route that is down holds back its own deliveries, not the escalation's.
                  .whereRef('p.url', '=', 'o.url')
                  .where('p.status', '=', 'pending')
                  .whereRef('p.id', '<', 'o.id'),
              ),
            ),
          )
          .orderBy('o.next_attempt_at')
          .orderBy('o.id')
          .limit(size)
          .execute();
        return rows.map(decodeDelivery);
      }),

    async claimDeliveries(claims, until, now) {
      checkInstant(until, 'until');
      checkInstant(now, 'now');
      if (claims.length === 0) return [];
      return ctx.write(async (tx) => {
        const taken: string[] = [];
        for (const claim of claims) {
          const result = await tx
            .updateTable('alert_outbox')
            .set({ next_attempt_at: until, updated_at: now })
            .where('id', '=', claim.id)
            .where('status', '=', 'pending')
            .where('next_attempt_at', '=', claim.nextAttemptAt)
            .executeTakeFirst();
          if (Number(result.numUpdatedRows) === 1) taken.push(claim.id);
        }
        return taken;
      });
    },

    async recordAttempt(attempt, nextAttemptAt) {
      const row = encodeAttempt(attempt);
      checkInstant(nextAttemptAt, 'nextAttemptAt');
      await ctx.write(async (tx) => {
        await tx
          .updateTable('alert_outbox')
          .set({ status: attempt.outcome, attempts: attempt.attempt, next_attempt_at: nextAttemptAt, updated_at: attempt.at })
          .where('id', '=', attempt.deliveryId)
          .where('status', '=', 'pending')
          .execute();
        // Two processes can make the same attempt only if a lease ran out mid-attempt: keep the first.
        await tx
          .insertInto('alert_deliveries')
          .values(row)
          .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
          .execute();
      });
    },

    getDelivery: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('alert_outbox').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decodeDelivery(row);
      }),

    listDeliveries: (alertId) =>
      ctx.read(async (db) => {
        const deliveries = await db.selectFrom('alert_outbox').selectAll().where('alert_id', '=', alertId).orderBy('id').execute();
        if (deliveries.length === 0) return [];
        const attempts = await db
          .selectFrom('alert_deliveries')
          .selectAll()
          .where(
            'delivery_id',
            'in',
            deliveries.map((d) => d.id),
          )
          .orderBy('delivery_id')
          .orderBy('attempt')
          .execute();
        return deliveries.map((d) => ({
          ...decodeDelivery(d),
          log: attempts.filter((a) => a.delivery_id === d.id).map(decodeAttempt),
        }));
      }),
  };
}

async function selectActive(db: Kysely<Database>, key: AlertKey): Promise<StoredAlert | undefined> {
  const row = await db.selectFrom('alerts').selectAll().where('active_key', '=', activeKey(key)).executeTakeFirst();
  return row === undefined ? undefined : decodeAlert(row);
}

export function encodeAlert(a: StoredAlert): Omit<AlertsTable, 'active_key'> {
  checkInstant(a.firedAt, 'firedAt');
  if (a.resolvedAt !== null) checkInstant(a.resolvedAt, 'resolvedAt');
  const values = encodeValues(a.values);
  return {
    id: a.id,
    service: a.service,
    monitor: a.monitor,
    version: a.version,
    segment: a.segment,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    fired_at: a.firedAt,
    resolved_at: a.resolvedAt,
    summary: a.summary,
    values,
  };
}

function encodeValues(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new BallastError('INTERNAL', { detail: 'alert values are not JSON-serializable', cause });
  }
  // undefined has no JSON text: stored as null.
  return text ?? 'null';
}

function decodeAlert(row: Selectable<AlertsTable>): StoredAlert {
  return {
    id: row.id,
    rule: row.rule,
    service: row.service,
    monitor: row.monitor,
    version: row.version,
    segment: row.segment,
    severity: row.severity,
    state: row.state as AlertState,
    firedAt: row.fired_at,
    resolvedAt: row.resolved_at,
    summary: row.summary,
    values: JSON.parse(row.values) as unknown,
    // Present once they happened, so an alert nobody touched reads as it always did.
    ...(row.acknowledged_at === null || row.acknowledged_at === undefined ? {} : { acknowledged: { by: row.acknowledged_by ?? '', at: row.acknowledged_at, note: row.ack_note ?? null } }),
    ...(row.escalated_at === null || row.escalated_at === undefined ? {} : { escalatedAt: row.escalated_at }),
  };
}

/** An outbox row for `d`, announcing `alertId` (an alert, or a review item: the outbox delivers both) under `rule`. */
export function encodeDelivery(d: NewAlertDelivery, alertId: string, rule: string): AlertOutboxTable {
  checkInstant(d.createdAt, 'createdAt');
  if (!Number.isSafeInteger(d.timeoutMs) || d.timeoutMs <= 0) {
    throw new BallastError('INTERNAL', { detail: `timeoutMs must be a positive integer, got ${d.timeoutMs}` });
  }
  return {
    id: d.id,
    alert_id: alertId,
    rule,
    event_type: d.type,
    url: d.url,
    secret_name: d.secretName,
    timeout_ms: d.timeoutMs,
    body: d.body,
    attempts: 0,
    next_attempt_at: d.createdAt,
    status: 'pending',
    created_at: d.createdAt,
    updated_at: d.createdAt,
  };
}

function decodeDelivery(row: Selectable<AlertOutboxTable>): StoredAlertDelivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    rule: row.rule,
    type: row.event_type as AlertEventType,
    url: row.url,
    secretName: row.secret_name,
    timeoutMs: row.timeout_ms,
    body: row.body,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    status: row.status as AlertDeliveryStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function encodeAttempt(a: AlertDeliveryAttempt): AlertDeliveriesTable {
  checkInstant(a.at, 'at');
  if (!Number.isSafeInteger(a.attempt) || a.attempt < 1) throw new BallastError('INTERNAL', { detail: `attempt must be a positive integer, got ${a.attempt}` });
  if (!Number.isFinite(a.durationMs)) throw new BallastError('INTERNAL', { detail: `durationMs must be finite, got ${a.durationMs}` });
  return {
    delivery_id: a.deliveryId,
    attempt: a.attempt,
    at: a.at,
    http_status: a.httpStatus,
    error_code: a.errorCode,
    error_message: a.errorMessage,
    duration_ms: a.durationMs,
    outcome: a.outcome,
  };
}

function decodeAttempt(row: Selectable<AlertDeliveriesTable>): AlertDeliveryAttempt {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    at: row.at,
    httpStatus: row.http_status,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    durationMs: row.duration_ms,
    outcome: row.outcome as AlertDeliveryStatus,
  };
}
