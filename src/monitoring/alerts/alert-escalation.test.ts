// Escalation on real parts: SQLite files in a temp dir, signed deliveries to two loopback receivers
// (the on-call route and the escalation route), a fake clock. A restart is what a crash or a deploy
// leaves: the store closed and opened again on the same file, and a new dispatcher on it. Every
// sequence ends by asking how many `alert.escalated` deliveries the store holds and the escalation
// receiver heard: one, or none.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredAuditEvent } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { resolveAlertRule, type AlertRuleConfig } from './alert-config.js';
import { createAlertDispatcher, type AlertDispatcher, type AlertTransition, type AlertWebhookPayload } from './alert-dispatcher.js';
import type { AlertOwnership } from './alert-ownership.js';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver.js';

const secretValue = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const start = Date.UTC(2025, 0, 31, 12, 0, 0);
const minute = 60_000;
const after = 15 * minute;

function transition(overrides: Partial<AlertTransition> = {}): AlertTransition {
  return { service: 'spam-filter', monitor: 'input_drift', version: 'v1', from: 'ok', to: 'alert', at: new Date(start).toISOString(), message: 'PSI 0.31 above 0.25', values: { value: 0.31 }, ...overrides };
}

function ackAudit(alertId: string, at: string): StoredAuditEvent {
  return { id: newId('aud'), at, actor: { principal: 'ana', keyId: null, role: 'operator' }, action: 'alert.acknowledged', resource: { kind: 'alert', id: alertId }, service: 'spam-filter', beforeDigest: null, afterDigest: null, before: null, after: null, requestId: null, detail: null };
}

describe('escalation of an alert nobody acknowledged', () => {
  let tmp: ReturnType<typeof tempDir>;
  let stores: Store[];
  let onCall: WebhookReceiver;
  let escalation: WebhookReceiver;
  let clock: number;
  let dispatchers: AlertDispatcher[];
  let ownership: AlertOwnership;
  // The rule names no webhook: its alerts go to the service's on-call route.
  const immediate: AlertRuleConfig = { ...resolveAlertRule({ name: 'drift' }), group: { ...resolveAlertRule({ name: 'drift' }).group, waitMs: 0 } };
  const rules: AlertRuleConfig[] = [];

  beforeEach(async () => {
    rules.splice(0, rules.length, immediate);
    tmp = tempDir();
    stores = [];
    dispatchers = [];
    clock = start;
    onCall = await startWebhookReceiver(secretValue, { now: () => clock });
    escalation = await startWebhookReceiver(secretValue, { now: () => clock });
    ownership = {
      owners: ['team-spam', 'ana'],
      runbook: 'docs/runbooks/spam-filter.md',
      onCall: { url: onCall.url, secret: 'ONCALL_SECRET', timeoutMs: 2000 },
      escalation: { url: escalation.url, secret: 'ONCALL_SECRET', timeoutMs: 2000, after: '15m', afterMs: after },
    };
  });

  afterEach(async () => {
    for (const d of dispatchers) await d.close();
    for (const s of stores) await s.close();
    await onCall.close();
    await escalation.close();
    tmp.remove();
  });

  /** Opens the store file (again) and a dispatcher on it: a process starting. */
  async function boot(): Promise<{ store: Store; dispatcher: AlertDispatcher }> {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    stores.push(store);
    return { store, dispatcher: dispatcherOn(store) };
  }

  function dispatcherOn(store: Pick<Store, 'alerts'>): AlertDispatcher {
    const dispatcher = createAlertDispatcher({
      store,
      rules: (service) => (service === 'spam-filter' ? rules : []),
      secret: (name) => (name === 'ONCALL_SECRET' ? secretValue : undefined),
      ownership: (service) => (service === 'spam-filter' ? ownership : undefined),
      escalatingServices: () => ['spam-filter'],
      now: () => clock,
      random: () => 0.5,
    });
    dispatchers.push(dispatcher);
    return dispatcher;
  }

  /** The process stops: its dispatcher and store close (what a SIGTERM does; a crash leaves less, and the store's guard is the same). */
  async function stop(process: { store: Store; dispatcher: AlertDispatcher }): Promise<void> {
    await process.dispatcher.close();
    await process.store.close();
    dispatchers.splice(dispatchers.indexOf(process.dispatcher), 1);
    stores.splice(stores.indexOf(process.store), 1);
  }

  const escalated = () => escalation.received.map((r) => r.json as AlertWebhookPayload);
  const escalatedRows = async (store: Store, alertId: string) => (await store.alerts.listDeliveries(alertId)).filter((d) => d.type === 'alert.escalated');

  async function fire(dispatcher: AlertDispatcher, overrides: Partial<AlertTransition> = {}): Promise<string> {
    const { fired } = await dispatcher.onTransition(transition(overrides));
    expect(fired).toHaveLength(1);
    return fired[0]!.id;
  }

  it('sends a rule without a webhook to the on-call route, with owners and runbook, and escalates once when due', async () => {
    const p = await boot();
    const id = await fire(p.dispatcher);
    expect(await p.dispatcher.deliverDue()).toBe(1);
    const firing = onCall.received.map((r) => r.json as AlertWebhookPayload);
    expect(firing.map((b) => [b.type, b.id])).toEqual([['alert.firing', id]]);
    expect(firing[0]).toMatchObject({ owners: ['team-spam', 'ana'], runbook: 'docs/runbooks/spam-filter.md', escalation: { after: '15m', escalatesAt: new Date(start + after).toISOString(), escalatedAt: null }, acknowledged: null });
    expect(onCall.received[0]?.verification.valid).toBe(true);

    clock = start + after - 1;
    expect(await p.dispatcher.deliverDue()).toBe(0);
    expect(escalation.received).toHaveLength(0);
    clock = start + after;
    expect(await p.dispatcher.deliverDue()).toBe(1);
    expect(escalated().map((b) => [b.type, b.reason, b.id, b.state])).toEqual([['alert.escalated', 'escalated', id, 'firing']]);
    expect(escalated()[0]).toMatchObject({ owners: ['team-spam', 'ana'], runbook: 'docs/runbooks/spam-filter.md', escalation: { after: '15m', escalatedAt: new Date(start + after).toISOString() }, acknowledged: null });
    expect(escalation.received[0]?.verification.valid).toBe(true);
    expect((await p.store.alerts.get(id))?.escalatedAt).toBe(new Date(start + after).toISOString());
    // Only the on-call route heard the firing; only the escalation route the escalation.
    expect(onCall.received).toHaveLength(1);
  });

  it('escalate → restart → no second escalation, however long it stays unacknowledged', async () => {
    const first = await boot();
    const id = await fire(first.dispatcher);
    clock = start + after + minute;
    await first.dispatcher.deliverDue();
    expect(escalated()).toHaveLength(1);
    await stop(first);

    for (const hours of [1, 5, 30]) {
      const next = await boot();
      clock = start + hours * 60 * minute;
      await next.dispatcher.deliverDue();
      expect(await escalatedRows(next.store, id)).toHaveLength(1);
      await stop(next);
    }
    expect(escalated()).toHaveLength(1);
  });

  it('restart before due → due after the restart → escalates once, from the new process', async () => {
    const first = await boot();
    const id = await fire(first.dispatcher);
    clock = start + after / 2;
    await first.dispatcher.deliverDue();
    expect(escalated()).toHaveLength(0);
    await stop(first);

    const second = await boot();
    clock = start + after + 1;
    await second.dispatcher.deliverDue();
    await second.dispatcher.deliverDue();
    expect(escalated().map((b) => b.id)).toEqual([id]);
    await stop(second);
    const third = await boot();
    clock += 60 * minute;
    await third.dispatcher.deliverDue();
    expect(await escalatedRows(third.store, id)).toHaveLength(1);
    expect(escalated()).toHaveLength(1);
  });

  it('ack before due → never escalates, across restarts; a second ack keeps the first', async () => {
    const first = await boot();
    const id = await fire(first.dispatcher);
    clock = start + 5 * minute;
    const at = new Date(clock).toISOString();
    const ack = await first.store.alerts.acknowledge(id, { by: 'ana', at, note: 'looking at the new mail source' }, ackAudit(id, at));
    expect(ack).toMatchObject({ changed: true, alert: { acknowledged: { by: 'ana', at, note: 'looking at the new mail source' } } });
    const later = new Date(clock + minute).toISOString();
    const again = await first.store.alerts.acknowledge(id, { by: 'bo', at: later, note: null }, ackAudit(id, later));
    expect(again).toMatchObject({ changed: false, alert: { acknowledged: { by: 'ana', at } } });
    // The audit event went in with the first acknowledgement only.
    const events = await first.store.audit.list({ limit: 10 });
    expect(events.filter((e) => e.action === 'alert.acknowledged').map((e) => e.actor.principal)).toEqual(['ana']);
    clock = start + after + minute;
    await first.dispatcher.deliverDue();
    await stop(first);
    const second = await boot();
    clock = start + 10 * after;
    await second.dispatcher.deliverDue();
    expect(await escalatedRows(second.store, id)).toHaveLength(0);
    expect(escalated()).toHaveLength(0);
    expect((await second.store.alerts.get(id))?.escalatedAt).toBeUndefined();
  });

  it('resolved before due → never escalates, and cannot be acknowledged any more (ALERT_RESOLVED)', async () => {
    const first = await boot();
    const id = await fire(first.dispatcher);
    clock = start + 5 * minute;
    const { resolved } = await first.dispatcher.onTransition(transition({ from: 'alert', to: 'ok', at: new Date(clock).toISOString() }));
    expect(resolved.map((a) => a.id)).toEqual([id]);
    await stop(first);
    const second = await boot();
    clock = start + 10 * after;
    await second.dispatcher.deliverDue();
    expect(await escalatedRows(second.store, id)).toHaveLength(0);
    expect(escalated()).toHaveLength(0);
    const at = new Date(clock).toISOString();
    await expect(second.store.alerts.acknowledge(id, { by: 'ana', at, note: null }, ackAudit(id, at))).rejects.toMatchObject({ code: 'ALERT_RESOLVED' });
    expect((await second.store.alerts.get(id))?.acknowledged).toBeUndefined();
    expect((await second.store.audit.list({ limit: 10 })).filter((e) => e.action === 'alert.acknowledged')).toEqual([]);
    expect(await second.store.alerts.acknowledge('alt_unknown', { by: 'ana', at, note: null }, ackAudit('alt_unknown', at))).toBeUndefined();
  });

  // Two stores on one file in one process would wait on each other's lock on the one event loop (better-sqlite3 is
  // synchronous), so the two dispatchers share the file's store here; both see the alert as due before either escalates it.
  it('two dispatchers on one file escalate an alert once between them, though both found it due', async () => {
    const { store, dispatcher: a } = await boot();
    const seenBy: string[] = [];
    const watched = (name: string): Pick<Store, 'alerts'> => ({
      alerts: {
        ...store.alerts,
        listEscalationCandidates: async (...args: Parameters<Store['alerts']['listEscalationCandidates']>) => {
          const found = await store.alerts.listEscalationCandidates(...args);
          if (found.length > 0) seenBy.push(name);
          return found;
        },
      },
    });
    const b = dispatcherOn(watched('b'));
    const c = dispatcherOn(watched('c'));
    const id = await fire(a);
    await a.deliverDue();
    clock = start + after;
    await Promise.all([b.deliverDue(), c.deliverDue()]);
    await Promise.all([a.deliverDue(), b.deliverDue(), c.deliverDue()]);
    expect(seenBy.sort()).toEqual(['b', 'c']);
    expect(await escalatedRows(store, id)).toHaveLength(1);
    expect(escalated().map((x) => x.id)).toEqual([id]);
    // The store's guard on its own: of two escalations of one alert at once, one writes.
    const second = await fire(a, { monitor: 'latency/total' });
    const both = await Promise.all([1, 2].map(() => store.alerts.escalate(second, new Date(clock).toISOString(), (x) => ({ id: newId('whd'), type: 'alert.escalated', url: escalation.url, secretName: 'ONCALL_SECRET', timeoutMs: 2000, body: JSON.stringify({ id: x.id }), createdAt: new Date(clock).toISOString() }))));
    expect(both.filter((x) => x !== undefined)).toHaveLength(1);
    expect(await escalatedRows(store, second)).toHaveLength(1);
  });

  it('counts the delay from the first notification: not while group.wait or the rate limit holds it back, never for one that ended unannounced', async () => {
    const base = resolveAlertRule({ name: 'drift', group: { by: ['monitor'] }, rateLimit: { max: 1, per: '1h' } });
    rules.splice(0, 1, { ...base, group: { ...base.group, waitMs: 30_000 } });
    const p = await boot();
    const first = await fire(p.dispatcher);
    const second = await fire(p.dispatcher, { monitor: 'latency/total' });
    const silent = await fire(p.dispatcher, { monitor: 'label_drift' });
    clock = start + 10_000;
    // Ends within group.wait: on call never hears of it, and so neither does the escalation route.
    await p.dispatcher.onTransition(transition({ monitor: 'label_drift', from: 'alert', to: 'ok', at: new Date(clock).toISOString() }));
    clock = start + 30_000;
    await p.dispatcher.deliverDue();
    // One notification (the rule's rate limit is 1 an hour): the other alert waits for the next free slot.
    expect(onCall.received.map((r) => (r.json as AlertWebhookPayload).id)).toEqual([first]);
    // What on call reads is when it will escalate: `after` from this notification, not from firedAt.
    expect((onCall.received[0]?.json as AlertWebhookPayload).escalation).toEqual({ after: '15m', escalatesAt: new Date(start + 30_000 + after).toISOString(), escalatedAt: null });
    clock = start + after;
    await p.dispatcher.deliverDue();
    expect(escalated()).toEqual([]);
    clock = start + 30_000 + after;
    await p.dispatcher.deliverDue();
    expect(escalated().map((b) => b.id)).toEqual([first]);
    clock = start + 30_000 + 60 * minute;
    await p.dispatcher.deliverDue();
    expect(onCall.received.map((r) => (r.json as AlertWebhookPayload).id)).toEqual([first, second]);
    expect((onCall.received[1]?.json as AlertWebhookPayload).escalation?.escalatesAt).toBe(new Date(clock + after).toISOString());
    clock += after - 1;
    await p.dispatcher.deliverDue();
    expect(escalated().map((b) => b.id)).toEqual([first]);
    clock += 1;
    await p.dispatcher.deliverDue();
    expect(escalated().map((b) => b.id)).toEqual([first, second]);
    expect(await escalatedRows(p.store, silent)).toEqual([]);
    expect(onCall.received.map((r) => (r.json as AlertWebhookPayload).id)).not.toContain(silent);
  });

  it('tells the escalation route when an escalated alert resolves, and only an escalated one', async () => {
    const p = await boot();
    const id = await fire(p.dispatcher);
    const other = await fire(p.dispatcher, { monitor: 'latency/total' });
    await p.dispatcher.deliverDue();
    clock = start + 5 * minute;
    const at = new Date(clock).toISOString();
    await p.store.alerts.acknowledge(other, { by: 'ana', at, note: null }, ackAudit(other, at));
    clock = start + after;
    await p.dispatcher.deliverDue();
    expect(escalated().map((b) => [b.type, b.id])).toEqual([['alert.escalated', id]]);
    clock = start + after + minute;
    for (const monitor of ['input_drift', 'latency/total']) await p.dispatcher.onTransition(transition({ monitor, from: 'alert', to: 'ok', at: new Date(clock).toISOString() }));
    await p.dispatcher.deliverDue();
    expect(escalated().map((b) => [b.type, b.reason, b.id, b.state])).toEqual([
      ['alert.escalated', 'escalated', id, 'firing'],
      ['alert.resolved', 'resolved', id, 'resolved'],
    ]);
    expect(escalated()[1]).toMatchObject({ resolvedAt: new Date(clock).toISOString(), escalation: { escalatedAt: new Date(start + after).toISOString() } });
    expect(escalation.received[1]?.verification.valid).toBe(true);
    // On call hears both resolve, as before.
    expect(onCall.received.map((r) => [(r.json as AlertWebhookPayload).type, (r.json as AlertWebhookPayload).id]).filter(([t]) => t === 'alert.resolved')).toEqual([
      ['alert.resolved', id],
      ['alert.resolved', other],
    ]);
  });

  it('acknowledge and escalate racing on one alert: either it escalated before the ack, or the ack came first and it never escalates', async () => {
    const { store } = await boot();
    // The ack starts at one of three points of the escalation pass: with it, between its read of the candidates and its
    // guarded update, or just after the update started; never awaited before the other is under way.
    let startAck: (() => void) | undefined;
    let hook: 'candidates' | 'escalate' | undefined;
    const watched: Pick<Store, 'alerts'> = {
      alerts: {
        ...store.alerts,
        listEscalationCandidates: async (...args: Parameters<Store['alerts']['listEscalationCandidates']>) => {
          const found = await store.alerts.listEscalationCandidates(...args);
          if (hook === 'candidates' && found.length > 0) startAck?.();
          return found;
        },
        escalate: (...args: Parameters<Store['alerts']['escalate']>) => {
          const escalating = store.alerts.escalate(...args);
          if (hook === 'escalate') startAck?.();
          return escalating;
        },
      },
    };
    const dispatcher = dispatcherOn(watched);
    const outcomes: string[] = [];
    for (let round = 0; round < 9; round++) {
      clock = start + round * 100 * after;
      const id = await fire(dispatcher, { at: new Date(clock).toISOString() });
      await dispatcher.deliverDue();
      clock += after;
      const at = new Date(clock).toISOString();
      let acking: ReturnType<Store['alerts']['acknowledge']> | undefined;
      startAck = () => {
        acking ??= store.alerts.acknowledge(id, { by: 'ana', at, note: null }, ackAudit(id, at));
      };
      hook = (['candidates', 'escalate', undefined] as const)[round % 3];
      if (hook === undefined) startAck();
      await dispatcher.deliverDue();
      startAck();
      const result = await acking;
      await dispatcher.deliverDue();
      expect(result?.changed).toBe(true);
      const alert = await store.alerts.get(id);
      const rows = await escalatedRows(store, id);
      // What the ack's own transaction read says which committed first.
      const escalatedFirst = result?.alert.escalatedAt !== undefined;
      expect(alert?.acknowledged?.at).toBe(at);
      expect([alert?.escalatedAt !== undefined, rows.length]).toEqual(escalatedFirst ? [true, 1] : [false, 0]);
      expect(escalated().filter((b) => b.id === id && b.type === 'alert.escalated')).toHaveLength(escalatedFirst ? 1 : 0);
      outcomes.push(`${hook ?? 'together'}: ${escalatedFirst ? 'escalated' : 'acknowledged first'}`);
      hook = undefined;
      await dispatcher.onTransition(transition({ from: 'alert', to: 'ok', at: new Date(clock).toISOString() }));
    }
    // Both orders happened, so the checks above saw each.
    expect(new Set(outcomes.map((o) => o.split(': ')[1]))).toEqual(new Set(['escalated', 'acknowledged first']));
  });

  it("leaves a review SLA breach's alert to the review block's own escalation", async () => {
    const p = await boot();
    const breach = { id: newId('alt'), rule: 'review-sla', service: 'spam-filter', monitor: 'review_sla', version: '*', segment: 'rvw_1', severity: 'alert', state: 'firing' as const, firedAt: new Date(start).toISOString(), resolvedAt: null, summary: 'review item rvw_1 was not decided in time', values: {} };
    await p.store.alerts.fire(breach, []);
    const id = await fire(p.dispatcher);
    clock = start + 2 * after;
    await p.dispatcher.deliverDue();
    expect(escalated().map((x) => x.id)).toEqual([id]);
    expect(await escalatedRows(p.store, breach.id)).toEqual([]);
  });

  it('an escalation is not held back by an on-call route that is down', async () => {
    const p = await boot();
    ownership = { ...ownership, onCall: { url: 'http://127.0.0.1:9/down', secret: 'ONCALL_SECRET', timeoutMs: 500 } };
    const id = await fire(p.dispatcher);
    await p.dispatcher.deliverDue();
    clock = start + after;
    await p.dispatcher.deliverDue();
    expect(escalated().map((x) => x.id)).toEqual([id]);
    const rows = await p.store.alerts.listDeliveries(id);
    expect(rows.map((r) => [r.type, r.status])).toEqual([
      ['alert.firing', 'pending'],
      ['alert.escalated', 'delivered'],
    ]);
  });
});
