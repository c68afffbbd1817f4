// The alert repository on real SQLite: atomic fire/resolve with their outbox rows, one firing alert
// per key, due deliveries in order, claims, the delivery log, and durability across a reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewAlertDelivery, StoredAlert } from './alert-records.js';
import { newId } from './ids.js';
import { openStore, type StoreConfig } from './open-store.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const dialects: readonly { readonly name: string; config(dbPath: string): StoreConfig }[] = [
  { name: 'sqlite (file, writer thread)', config: (dbPath) => ({ kind: 'sqlite', path: dbPath }) },
  { name: 'sqlite (:memory:, same thread)', config: () => ({ kind: 'sqlite', path: ':memory:' }) },
];

const at = (minute: number): string => new Date(Date.UTC(2025, 0, 31, 12, minute)).toISOString();

function makeAlert(overrides: Partial<StoredAlert> = {}): StoredAlert {
  return {
    id: newId('alt'),
    rule: 'oncall',
    service: 'spam-filter',
    monitor: 'feature_drift/body',
    version: 'v1',
    segment: '',
    severity: 'alert',
    state: 'firing',
    firedAt: at(0),
    resolvedAt: null,
    summary: 'PSI 0.31 above 0.25',
    values: { psi: 0.31, threshold: 0.25, note: 'Grüße 👋' },
    ...overrides,
  };
}

function makeDelivery(overrides: Partial<NewAlertDelivery> = {}): NewAlertDelivery {
  return {
    id: newId('whd'),
    type: 'alert.firing',
    url: 'http://127.0.0.1:9/hook',
    secretName: 'ONCALL_SECRET',
    timeoutMs: 5000,
    body: '{"type":"alert.firing"}',
    createdAt: at(0),
    ...overrides,
  };
}

describe.each(dialects)('alerts on $name', (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(dialect.config(tmp.dbPath));
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('fires an alert with its outbox row, and a second fire of the same key writes nothing', async () => {
    const alert = makeAlert();
    const delivery = makeDelivery();
    expect(await store.alerts.fire(alert, [delivery])).toEqual({ alert, created: true });
    expect(await store.alerts.get(alert.id)).toStrictEqual(alert);
    expect(await store.alerts.getActive(alert)).toStrictEqual(alert);

    const again = makeAlert({ firedAt: at(5), summary: 'again' });
    const result = await store.alerts.fire(again, [makeDelivery({ createdAt: at(5) })]);
    expect(result).toEqual({ alert, created: false });
    expect(await store.alerts.get(again.id)).toBeUndefined();

    const deliveries = await store.alerts.listDeliveries(alert.id);
    expect(deliveries).toEqual([
      { ...delivery, alertId: alert.id, rule: 'oncall', attempts: 0, nextAttemptAt: at(0), status: 'pending', updatedAt: at(0), log: [] },
    ]);
    expect(await store.alerts.dueDeliveries(at(10), 100)).toHaveLength(1);
  });

  it('keeps alerts that differ in any part of the key apart', async () => {
    const base = makeAlert();
    const variants = [
      base,
      makeAlert({ rule: 'other' }),
      makeAlert({ service: 'loans' }),
      makeAlert({ monitor: 'input_drift' }),
      makeAlert({ version: 'v2' }),
      makeAlert({ segment: 'eu' }),
    ];
    for (const v of variants) expect((await store.alerts.fire(v, [makeDelivery()])).created).toBe(true);
    expect(await store.alerts.listActive()).toHaveLength(variants.length);
    expect((await store.alerts.listActive('loans')).map((a) => a.id)).toEqual([variants[2]?.id]);
  });

  it('never leaves an alert without its outbox row: a refused outbox row undoes the alert', async () => {
    const first = makeAlert();
    const delivery = makeDelivery();
    await store.alerts.fire(first, [delivery]);
    // A second alert whose delivery reuses an existing delivery id: the outbox insert fails.
    const second = makeAlert({ monitor: 'input_drift' });
    await expect(store.alerts.fire(second, [makeDelivery({ id: delivery.id })])).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await store.alerts.get(second.id)).toBeUndefined();
    expect(await store.alerts.getActive(second)).toBeUndefined();
    // And the key is free: the next fire of that key succeeds.
    expect((await store.alerts.fire(second, [makeDelivery()])).created).toBe(true);
  });

  it('resolves once, with its outbox row, and frees the key for a new alert', async () => {
    const alert = makeAlert();
    const fired = makeDelivery();
    await store.alerts.fire(alert, [fired]);
    const resolvedDelivery = makeDelivery({ type: 'alert.resolved', createdAt: at(30), body: '{"type":"alert.resolved"}' });
    const resolved = await store.alerts.resolve(alert.id, at(30), [resolvedDelivery]);
    expect(resolved).toStrictEqual({ ...alert, state: 'resolved', resolvedAt: at(30) });
    expect(await store.alerts.resolve(alert.id, at(31), [makeDelivery({ type: 'alert.resolved' })])).toBeUndefined();
    expect(await store.alerts.resolve('alt_missing', at(31), [makeDelivery()])).toBeUndefined();
    expect(await store.alerts.getActive(alert)).toBeUndefined();
    expect((await store.alerts.listDeliveries(alert.id)).map((d) => d.type)).toEqual(['alert.firing', 'alert.resolved']);

    const next = makeAlert({ firedAt: at(40) });
    expect((await store.alerts.fire(next, [makeDelivery()])).created).toBe(true);
    expect((await store.alerts.list({ limit: 10 })).map((a) => [a.id, a.state])).toEqual([
      [alert.id, 'resolved'],
      [next.id, 'firing'],
    ]);
    expect((await store.alerts.list({ limit: 10, state: 'firing' })).map((a) => a.id)).toEqual([next.id]);
  });

  it('updates a firing alert with its outbox rows in one transaction, never a resolved one', async () => {
    const alert = makeAlert();
    await store.alerts.fire(alert, []);
    const first = makeDelivery({ createdAt: at(1) });
    const updated = await store.alerts.update(alert.id, { severity: 'warning', summary: 'two members', values: { members: [1, 2] } }, [first]);
    expect(updated).toEqual({ ...alert, severity: 'warning', summary: 'two members', values: { members: [1, 2] } });
    expect(await store.alerts.get(alert.id)).toEqual(updated);
    // An empty change only enqueues.
    expect(await store.alerts.update(alert.id, {}, [makeDelivery({ createdAt: at(2) })])).toEqual(updated);
    expect((await store.alerts.listDeliveries(alert.id)).map((d) => d.createdAt)).toEqual([at(1), at(2)]);
    // A refused outbox row undoes the change.
    await expect(store.alerts.update(alert.id, { summary: 'lost' }, [first])).rejects.toThrow();
    expect((await store.alerts.get(alert.id))?.summary).toBe('two members');
    await store.alerts.resolve(alert.id, at(3), []);
    expect(await store.alerts.update(alert.id, { summary: 'late' }, [makeDelivery()])).toBeUndefined();
    expect(await store.alerts.listDeliveries(alert.id)).toHaveLength(2);
  });

  it('lists the enqueue times of one rule of one service after an instant, oldest first', async () => {
    const a = makeAlert();
    const b = makeAlert({ monitor: 'input_drift' });
    const other = makeAlert({ service: 'loans' });
    const otherRule = makeAlert({ rule: 'audit' });
    await store.alerts.fire(a, [makeDelivery({ createdAt: at(5) })]);
    await store.alerts.fire(b, [makeDelivery({ createdAt: at(1) }), makeDelivery({ createdAt: at(70) })]);
    await store.alerts.fire(other, [makeDelivery({ createdAt: at(2) })]);
    await store.alerts.fire(otherRule, [makeDelivery({ createdAt: at(3) })]);
    expect(await store.alerts.listDeliveryTimes('spam-filter', 'oncall', at(0))).toEqual([at(1), at(5), at(70)]);
    expect(await store.alerts.listDeliveryTimes('spam-filter', 'oncall', at(1))).toEqual([at(5), at(70)]);
    expect(await store.alerts.listDeliveryTimes('loans', 'oncall', at(0))).toEqual([at(2)]);
    // An escalated alert's resolve to the escalation route is outside the rule's rate limit, as its escalation is.
    await store.alerts.update(a.id, {}, [makeDelivery({ type: 'alert.resolved', url: 'http://127.0.0.1:9/escalate', createdAt: at(80) })]);
    expect(await store.alerts.listDeliveryTimes('spam-filter', 'oncall', at(0), 'http://127.0.0.1:9/escalate')).toEqual([at(1), at(5), at(70)]);
    expect(await store.alerts.listDeliveryTimes('spam-filter', 'oncall', at(0))).toEqual([at(1), at(5), at(70), at(80)]);
    await expect(store.alerts.listDeliveryTimes('loans', 'oncall', 'yesterday')).rejects.toThrow();
  });

  it('pages alerts by firedAt then id, with since/until and a cursor', async () => {
    const alerts = [0, 1, 2, 3, 4].map((m) => makeAlert({ monitor: `m${m}`, firedAt: at(m) }));
    for (const a of alerts) await store.alerts.fire(a, []);
    const first = await store.alerts.list({ limit: 2 });
    expect(first.map((a) => a.monitor)).toEqual(['m0', 'm1']);
    const second = await store.alerts.list({ limit: 2, after: first[1]?.id });
    expect(second.map((a) => a.monitor)).toEqual(['m2', 'm3']);
    expect((await store.alerts.list({ limit: 10, since: at(1), until: at(3) })).map((a) => a.monitor)).toEqual(['m1', 'm2']);
    expect((await store.alerts.list({ limit: 10, service: 'loans' })).length).toBe(0);
    await expect(store.alerts.list({ limit: 2, after: 'alt_nope' })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('hands out due deliveries in order, one alert at a time, and records attempts in the log', async () => {
    const alert = makeAlert();
    const firing = makeDelivery({ createdAt: at(0) });
    await store.alerts.fire(alert, [firing]);
    const resolving = makeDelivery({ type: 'alert.resolved', createdAt: at(1) });
    await store.alerts.resolve(alert.id, at(1), [resolving]);
    const other = makeAlert({ monitor: 'input_drift', firedAt: at(2) });
    const otherDelivery = makeDelivery({ createdAt: at(2) });
    await store.alerts.fire(other, [otherDelivery]);

    expect(await store.alerts.dueDeliveries(at(0), 10)).toHaveLength(1);
    // The resolved delivery waits behind the firing one of the same alert.
    expect((await store.alerts.dueDeliveries(at(5), 10)).map((d) => d.id)).toEqual([firing.id, otherDelivery.id]);

    // A claim with a stale nextAttemptAt takes nothing; a fresh one leases the delivery.
    expect(await store.alerts.claimDeliveries([{ id: firing.id, nextAttemptAt: at(9) }], at(20), at(5))).toEqual([]);
    expect(await store.alerts.claimDeliveries([{ id: firing.id, nextAttemptAt: at(0) }], at(20), at(5))).toEqual([firing.id]);
    expect(await store.alerts.claimDeliveries([{ id: firing.id, nextAttemptAt: at(0) }], at(20), at(5))).toEqual([]);
    expect((await store.alerts.dueDeliveries(at(5), 10)).map((d) => d.id)).toEqual([otherDelivery.id]);

    await store.alerts.recordAttempt(
      { deliveryId: firing.id, attempt: 1, at: at(5), httpStatus: 500, errorCode: 'http_status', errorMessage: 'boom', durationMs: 12.5, outcome: 'pending' },
      at(7),
    );
    expect(await store.alerts.getDelivery(firing.id)).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: at(7), updatedAt: at(5) });
    expect((await store.alerts.dueDeliveries(at(6), 10)).map((d) => d.id)).toEqual([otherDelivery.id]);

    await store.alerts.recordAttempt(
      { deliveryId: firing.id, attempt: 2, at: at(7), httpStatus: 204, errorCode: null, errorMessage: null, durationMs: 3, outcome: 'delivered' },
      at(7),
    );
    // Now the resolved delivery is next.
    expect((await store.alerts.dueDeliveries(at(8), 10)).map((d) => d.id)).toEqual([resolving.id, otherDelivery.id]);
    // A late record for a delivered delivery does not change its status.
    await store.alerts.recordAttempt(
      { deliveryId: firing.id, attempt: 3, at: at(8), httpStatus: null, errorCode: 'timeout', errorMessage: 'late', durationMs: 3, outcome: 'failed' },
      at(8),
    );
    const log = await store.alerts.listDeliveries(alert.id);
    expect(log[0]).toMatchObject({ id: firing.id, status: 'delivered', attempts: 2 });
    expect(log[0]?.log.map((l) => [l.attempt, l.httpStatus, l.errorCode, l.outcome, l.durationMs])).toEqual([
      [1, 500, 'http_status', 'pending', 12.5],
      [2, 204, null, 'delivered', 3],
      [3, null, 'timeout', 'failed', 3],
    ]);
    expect(log[1]).toMatchObject({ id: resolving.id, status: 'pending', log: [] });
  });

  it('acknowledges once with its audit event, escalates once, never an acknowledged or resolved alert, and lists the candidates of given rules', async () => {
    const audit = (id: string) => ({ id: newId('aud'), at: at(3), actor: { principal: 'ana', keyId: null, role: 'operator' }, action: 'alert.acknowledged', resource: { kind: 'alert', id }, service: 'spam-filter', beforeDigest: null, afterDigest: null, before: null, after: null, requestId: null, detail: null });
    const escalation = (a: StoredAlert) => makeDelivery({ type: 'alert.escalated', url: 'http://127.0.0.1:9/escalate', body: JSON.stringify({ id: a.id, escalatedAt: a.escalatedAt }), createdAt: at(20) });
    const early = makeAlert({ firedAt: at(0) });
    const late = makeAlert({ monitor: 'input_drift', firedAt: at(10) });
    const breach = makeAlert({ rule: 'review-sla', monitor: 'review_sla', firedAt: at(0) });
    // Fired first of all but never notified (ended within group.wait, held back by the rate limit): on call was never paged.
    const silent = makeAlert({ monitor: 'latency', firedAt: at(0) });
    await store.alerts.fire(early, [makeDelivery({ createdAt: at(0) })]);
    // Notified 4 minutes after it fired: the delay runs from then, not from firedAt.
    await store.alerts.fire(late, [makeDelivery({ createdAt: at(14) })]);
    await store.alerts.fire(breach, [makeDelivery({ createdAt: at(0) })]);
    await store.alerts.fire(silent, []);
    // Only the named rules, notified by the instant, oldest first; never one that was not notified.
    expect((await store.alerts.listEscalationCandidates('spam-filter', ['oncall'], at(5), 10)).map((a) => a.id)).toEqual([early.id]);
    expect((await store.alerts.listEscalationCandidates('spam-filter', ['oncall'], at(13), 10)).map((a) => a.id)).toEqual([early.id]);
    expect((await store.alerts.listEscalationCandidates('spam-filter', ['oncall'], at(14), 10)).map((a) => a.id)).toEqual([early.id, late.id]);
    expect(await store.alerts.listEscalationCandidates('spam-filter', [], at(15), 10)).toEqual([]);
    expect(await store.alerts.listEscalationCandidates('other', ['oncall'], at(15), 10)).toEqual([]);
    // The guard agrees: an alert with no `alert.firing` delivery does not escalate, whoever asks.
    expect(await store.alerts.escalate(silent.id, at(20), escalation)).toBeUndefined();
    expect(await store.alerts.listDeliveries(silent.id)).toEqual([]);

    const escalated = await store.alerts.escalate(early.id, at(20), escalation);
    expect(escalated).toMatchObject({ id: early.id, escalatedAt: at(20) });
    expect(await store.alerts.escalate(early.id, at(21), escalation)).toBeUndefined();
    const rows = (await store.alerts.listDeliveries(early.id)).filter((d) => d.type === 'alert.escalated');
    // The delivery was built from the alert as escalated.
    expect(rows.map((d) => [d.type, JSON.parse(d.body)])).toEqual([['alert.escalated', { id: early.id, escalatedAt: at(20) }]]);
    expect((await store.alerts.listEscalationCandidates('spam-filter', ['oncall'], at(30), 10)).map((a) => a.id)).toEqual([late.id]);
    // An escalation is outside the rule's rate limit (only the two firing notifications count).
    expect(await store.alerts.listDeliveryTimes('spam-filter', 'oncall', at(0))).toEqual([at(14)]);

    const first = await store.alerts.acknowledge(late.id, { by: 'ana', at: at(3), note: 'on it' }, audit(late.id));
    expect(first).toMatchObject({ changed: true, alert: { acknowledged: { by: 'ana', at: at(3), note: 'on it' } } });
    expect(await store.alerts.acknowledge(late.id, { by: 'bo', at: at(4), note: null }, audit(late.id))).toMatchObject({ changed: false, alert: { acknowledged: { by: 'ana' } } });
    expect(await store.alerts.escalate(late.id, at(20), escalation)).toBeUndefined();
    expect(await store.alerts.listEscalationCandidates('spam-filter', ['oncall'], at(30), 10)).toEqual([]);
    expect((await store.audit.list({ limit: 10 })).map((e) => e.actor.principal)).toEqual(['ana']);

    await store.alerts.resolve(breach.id, at(5), []);
    expect(await store.alerts.escalate(breach.id, at(20), escalation)).toBeUndefined();
    await expect(store.alerts.acknowledge(breach.id, { by: 'ana', at: at(6), note: null }, audit(breach.id))).rejects.toMatchObject({ code: 'ALERT_RESOLVED' });
    expect(await store.alerts.acknowledge('alt_missing', { by: 'ana', at: at(6), note: null }, audit('alt_missing'))).toBeUndefined();
    expect((await store.audit.list({ limit: 10 })).map((e) => e.actor.principal)).toEqual(['ana']);
    // An alert nobody touched reads as before: no acknowledged, no escalatedAt.
    expect(await store.alerts.get(breach.id)).toEqual({ ...breach, state: 'resolved', resolvedAt: at(5) });
  });

  it('hands an escalation out while an older delivery of the alert to another URL is still pending', async () => {
    const alert = makeAlert();
    const firing = makeDelivery({ createdAt: at(0) });
    await store.alerts.fire(alert, [firing]);
    await store.alerts.escalate(alert.id, at(1), () => makeDelivery({ type: 'alert.escalated', url: 'http://127.0.0.1:9/escalate', createdAt: at(1) }));
    const resolving = makeDelivery({ type: 'alert.resolved', createdAt: at(2) });
    await store.alerts.resolve(alert.id, at(2), [resolving]);
    // The firing delivery never got through: the resolution to the same URL waits for it, the escalation does not.
    expect((await store.alerts.dueDeliveries(at(5), 10)).map((d) => d.type)).toEqual(['alert.firing', 'alert.escalated']);
  });

  it('resolving an escalated alert also enqueues what the escalation route hears, in the same transaction; a never escalated one not', async () => {
    const toEscalation = (a: StoredAlert) => makeDelivery({ type: 'alert.resolved', url: 'http://127.0.0.1:9/escalate', body: JSON.stringify({ id: a.id, state: a.state, escalatedAt: a.escalatedAt }), createdAt: at(30) });
    const escalated = makeAlert();
    const quiet = makeAlert({ monitor: 'input_drift' });
    for (const a of [escalated, quiet]) await store.alerts.fire(a, [makeDelivery({ createdAt: at(0) })]);
    await store.alerts.escalate(escalated.id, at(20), () => makeDelivery({ type: 'alert.escalated', url: 'http://127.0.0.1:9/escalate', createdAt: at(20) }));
    expect(await store.alerts.resolve(escalated.id, at(30), [makeDelivery({ type: 'alert.resolved', createdAt: at(30) })], toEscalation)).toMatchObject({ state: 'resolved', escalatedAt: at(20) });
    const rows = await store.alerts.listDeliveries(escalated.id);
    expect(rows.map((d) => [d.type, d.url])).toEqual([
      ['alert.firing', 'http://127.0.0.1:9/hook'],
      ['alert.escalated', 'http://127.0.0.1:9/escalate'],
      ['alert.resolved', 'http://127.0.0.1:9/hook'],
      ['alert.resolved', 'http://127.0.0.1:9/escalate'],
    ]);
    // Built from the alert as resolved.
    expect(JSON.parse(rows[3]!.body)).toEqual({ id: escalated.id, state: 'resolved', escalatedAt: at(20) });
    await store.alerts.resolve(quiet.id, at(30), [], toEscalation);
    expect((await store.alerts.listDeliveries(quiet.id)).map((d) => d.type)).toEqual(['alert.firing']);
    // Resolved already: nothing more for either route.
    expect(await store.alerts.resolve(escalated.id, at(31), [], toEscalation)).toBeUndefined();
    expect(await store.alerts.listDeliveries(escalated.id)).toHaveLength(4);
  });

  it('refuses malformed instants and non-JSON values without writing', async () => {
    await expect(store.alerts.fire(makeAlert({ firedAt: '2025-01-31' }), [])).rejects.toMatchObject({ code: 'INTERNAL' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(store.alerts.fire(makeAlert({ values: cyclic }), [])).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.alerts.fire(makeAlert(), [makeDelivery({ createdAt: 'yesterday' })])).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await store.alerts.list({ limit: 10 })).toEqual([]);
  });
});

describe('alerts across a reopen', () => {
  it('keeps alerts, outbox rows and the log in the file', async () => {
    const tmp = tempDir();
    try {
      let store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
      const alert = makeAlert();
      const delivery = makeDelivery();
      await store.alerts.fire(alert, [delivery]);
      await store.alerts.recordAttempt(
        { deliveryId: delivery.id, attempt: 1, at: at(1), httpStatus: null, errorCode: 'connection_refused', errorMessage: 'ECONNREFUSED', durationMs: 1, outcome: 'pending' },
        at(2),
      );
      await store.close();
      store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
      expect(await store.alerts.getActive(alert)).toStrictEqual(alert);
      expect((await store.alerts.dueDeliveries(at(2), 10)).map((d) => [d.id, d.attempts])).toEqual([[delivery.id, 1]]);
      expect((await store.alerts.listDeliveries(alert.id))[0]?.log.map((l) => l.errorCode)).toEqual(['connection_refused']);
      await store.close();
    } finally {
      tmp.remove();
    }
  });
});
