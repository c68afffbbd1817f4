// The dispatcher on real parts: SQLite files in a temp dir, a node:http receiver on loopback that
// verifies every signature, undici for the requests. Retries run on a fake clock (deliverDue) or on
// a tiny backoff (start); no assertion is about how long anything took.
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import type { AlertRuleConfig } from './alert-config.js';
import { createAlertDispatcher, parseRetryAfterMs, retryDelayMs, ruleMatchesMonitor, type AlertDispatcher, type AlertDispatcherOptions, type AlertTransition } from './alert-dispatcher.js';
import { closedPort, startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver.js';

const secretValue = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const start = Date.UTC(2025, 0, 31, 12, 0, 0);

function rule(overrides: Partial<AlertRuleConfig> & { url?: string } = {}): AlertRuleConfig {
  const { url = 'http://127.0.0.1:9/unused', ...rest } = overrides;
  return { name: 'oncall', monitors: ['*'], minState: 'alert', webhook: { url, secret: 'ONCALL_SECRET', timeoutMs: 2000 }, ...rest };
}

function transition(overrides: Partial<AlertTransition> = {}): AlertTransition {
  return {
    service: 'spam-filter',
    monitor: 'feature_drift/body',
    version: 'v1',
    from: 'ok',
    to: 'alert',
    at: new Date(start).toISOString(),
    message: 'PSI 0.31 above 0.25',
    values: { value: 0.31, threshold: 0.25 },
    ...overrides,
  };
}

/** Waits for a condition checked every 20 ms; fails (rather than hangs) after 20 s. */
async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('pure parts', () => {
  it('matches monitors exactly or by a trailing-* prefix', () => {
    expect(ruleMatchesMonitor(['*'], 'input_drift')).toBe(true);
    expect(ruleMatchesMonitor(['feature_drift/*'], 'feature_drift/body')).toBe(true);
    expect(ruleMatchesMonitor(['feature_drift/*'], 'feature_drift')).toBe(false);
    expect(ruleMatchesMonitor(['feature_drift/*'], 'input_drift')).toBe(false);
    expect(ruleMatchesMonitor(['input_drift'], 'input_drift')).toBe(true);
    expect(ruleMatchesMonitor(['input_drift'], 'input_drift/x')).toBe(false);
    expect(ruleMatchesMonitor(['latency', 'input_*'], 'input_drift')).toBe(true);
  });

  it('backs off exponentially with full jitter under a cap', () => {
    const b = { baseMs: 1000, maxMs: 5000, maxAttempts: 10 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, b, () => 0.5))).toEqual([500, 1000, 2000, 2500, 2500]);
    expect(retryDelayMs(3, b, () => 0)).toBe(0);
    expect(retryDelayMs(3, b, () => 0.999999)).toBe(3999);
    expect(retryDelayMs(1000, b, () => 0.5)).toBe(2500);
  });

  it('reads Retry-After as seconds or an HTTP date, clamped', () => {
    const now = Date.parse('Fri, 31 Jan 2025 12:00:00 GMT');
    expect(parseRetryAfterMs('7', now, 60_000)).toBe(7000);
    expect(parseRetryAfterMs('Fri, 31 Jan 2025 12:00:30 GMT', now, 60_000)).toBe(30_000);
    expect(parseRetryAfterMs('Fri, 31 Jan 2025 11:00:00 GMT', now, 60_000)).toBe(0);
    expect(parseRetryAfterMs('999999', now, 60_000)).toBe(60_000);
    for (const bad of [undefined, '', 'soon', '-5', '1.5']) expect(parseRetryAfterMs(bad, now, 60_000)).toBeUndefined();
  });

  it('refuses a backoff that makes no sense', () => {
    const options = { store: {} as Store, rules: () => [], secret: () => undefined };
    expect(() => createAlertDispatcher({ ...options, backoff: { baseMs: 10, maxMs: 5 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createAlertDispatcher({ ...options, backoff: { maxAttempts: 0 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('alert dispatcher', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let receiver: WebhookReceiver;
  let clock: number;
  const dispatchers: AlertDispatcher[] = [];
  let secrets: Record<string, string>;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    clock = start;
    secrets = { ONCALL_SECRET: secretValue };
    receiver = await startWebhookReceiver(secretValue, { now: () => clock });
  });

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.close();
    await receiver.close();
    await store.close();
    tmp.remove();
  });

  function dispatcher(rules: readonly AlertRuleConfig[], overrides: Partial<AlertDispatcherOptions> = {}): AlertDispatcher {
    const d = createAlertDispatcher({
      store,
      rules: (service) => (service === 'spam-filter' ? rules : []),
      secret: (name) => secrets[name],
      now: () => clock,
      random: () => 0.5,
      backoff: { baseMs: 1000, maxMs: 4000, maxAttempts: 5 },
      ...overrides,
    });
    dispatchers.push(d);
    return d;
  }

  const logOf = async (alertId: string) => (await store.alerts.listDeliveries(alertId)).map((d) => ({ type: d.type, status: d.status, log: d.log.map((l) => [l.httpStatus, l.errorCode, l.outcome]) }));

  describe('rules and states', () => {
    it('fires at minState, once per key, and resolves when the state falls below it', async () => {
      const d = dispatcher([rule({ minState: 'alert' })]);
      const fired = await d.onTransition(transition({ from: 'ok', to: 'alert' }));
      expect(fired.fired).toHaveLength(1);
      expect(fired.fired[0]).toMatchObject({ rule: 'oncall', service: 'spam-filter', monitor: 'feature_drift/body', version: 'v1', segment: '', severity: 'alert', state: 'firing', summary: 'PSI 0.31 above 0.25', values: { value: 0.31, threshold: 0.25 } });
      // Still alert (e.g. after a restart of the hub): nothing new.
      expect(await d.onTransition(transition({ from: 'unknown', to: 'alert' }))).toEqual({ fired: [], resolved: [] });
      // warning is below minState alert: resolves.
      const later = new Date(start + 60_000).toISOString();
      const resolved = await d.onTransition(transition({ from: 'alert', to: 'warning', at: later }));
      expect(resolved.resolved).toEqual([{ ...fired.fired[0], state: 'resolved', resolvedAt: later }]);
      expect(await store.alerts.listActive('spam-filter')).toEqual([]);
      expect(await d.onTransition(transition({ from: 'warning', to: 'ok' }))).toEqual({ fired: [], resolved: [] });
      // And it can fire again, as a new alert.
      const again = await d.onTransition(transition({ to: 'alert', at: new Date(start + 120_000).toISOString() }));
      expect(again.fired[0]?.id).not.toBe(fired.fired[0]?.id);
    });

    it('fires a warning rule at warning and at alert, and ignores unknown', async () => {
      const d = dispatcher([rule({ name: 'early', minState: 'warning' })]);
      expect(await d.onTransition(transition({ from: 'ok', to: 'unknown' }))).toEqual({ fired: [], resolved: [] });
      const warned = await d.onTransition(transition({ from: 'ok', to: 'warning' }));
      expect(warned.fired.map((a) => a.severity)).toEqual(['warning']);
      // Escalating to alert keeps the same alert; unknown neither fires nor resolves.
      expect(await d.onTransition(transition({ from: 'warning', to: 'alert' }))).toEqual({ fired: [], resolved: [] });
      expect(await d.onTransition(transition({ from: 'alert', to: 'unknown' }))).toEqual({ fired: [], resolved: [] });
      expect((await store.alerts.listActive()).map((a) => a.id)).toEqual([warned.fired[0]?.id]);
      expect((await d.onTransition(transition({ from: 'alert', to: 'ok' }))).resolved).toHaveLength(1);
    });

    it('applies only the rules whose monitors match, each as its own alert', async () => {
      const d = dispatcher([
        rule({ name: 'features', monitors: ['feature_drift/*'] }),
        rule({ name: 'input', monitors: ['input_drift'] }),
        rule({ name: 'everything' }),
      ]);
      expect((await d.onTransition(transition({ monitor: 'feature_drift/body' }))).fired.map((a) => a.rule).sort()).toEqual(['everything', 'features']);
      expect((await d.onTransition(transition({ monitor: 'input_drift' }))).fired.map((a) => a.rule).sort()).toEqual(['everything', 'input']);
      expect((await d.onTransition(transition({ monitor: 'latency' }))).fired.map((a) => a.rule)).toEqual(['everything']);
      expect((await d.onTransition(transition({ service: 'loans' }))).fired).toEqual([]);
      // Segments and versions are separate alerts.
      expect((await d.onTransition(transition({ monitor: 'latency', segment: 'country=fr' }))).fired.map((a) => a.segment)).toEqual(['country=fr']);
      expect((await d.onTransition(transition({ monitor: 'latency', version: 'v2' }))).fired).toHaveLength(1);
    });

    it('fires once when the same transition arrives twice at the same time', async () => {
      const d = dispatcher([rule()]);
      const [a, b] = await Promise.all([d.onTransition(transition()), d.onTransition(transition())]);
      expect(a.fired.length + b.fired.length).toBe(1);
      expect(await store.alerts.listActive()).toHaveLength(1);
    });

    it('never leaves an alert without its outbox row: a failing outbox insert undoes the alert', async () => {
      const d = dispatcher([rule()]);
      // A real fault inside the transaction: a trigger makes the outbox insert fail after the alert insert ran.
      const raw = new SqliteDatabase(tmp.dbPath);
      try {
        raw.exec("create trigger refuse_outbox before insert on alert_outbox begin select raise(abort, 'outbox refused'); end;");
        await expect(d.onTransition(transition())).rejects.toMatchObject({ code: 'INTERNAL' });
        expect(await store.alerts.list({ limit: 10 })).toEqual([]);
        raw.exec('drop trigger refuse_outbox');
      } finally {
        raw.close();
      }
      const fired = await d.onTransition(transition());
      expect(fired.fired).toHaveLength(1);
      for (const alert of await store.alerts.list({ limit: 10 })) {
        expect((await store.alerts.listDeliveries(alert.id)).map((x) => x.type)).toEqual(['alert.firing']);
      }
    });
  });

  describe('delivery', () => {
    it('delivers firing then resolved, signed, with the documented body, once each', async () => {
      const d = dispatcher([rule({ url: receiver.url })]);
      const { fired } = await d.onTransition(transition({ segment: 'country=fr' }));
      const resolvedAt = new Date(start + 90_000).toISOString();
      await d.onTransition(transition({ segment: 'country=fr', from: 'alert', to: 'ok', at: resolvedAt, message: 'PSI 0.05', values: { value: 0.05 } }));
      expect(await d.deliverDue()).toBe(2);
      expect(await d.deliverDue()).toBe(0);

      const alert = fired[0];
      if (alert === undefined) throw new Error('no alert');
      const deliveries = await store.alerts.listDeliveries(alert.id);
      expect(receiver.received.map((r) => r.verification)).toEqual([
        { valid: true, id: deliveries[0]?.id, timestamp: start / 1000 },
        { valid: true, id: deliveries[1]?.id, timestamp: start / 1000 },
      ]);
      expect(receiver.received.map((r) => r.headers['content-type'])).toEqual(['application/json', 'application/json']);
      const common = {
        id: alert.id,
        rule: 'oncall',
        service: 'spam-filter',
        monitor: 'feature_drift/body',
        version: 'v1',
        segment: 'country=fr',
        severity: 'alert',
        firedAt: alert.firedAt,
        summary: 'PSI 0.31 above 0.25',
        values: { value: 0.31, threshold: 0.25 },
      };
      expect(receiver.received[0]?.json).toEqual({
        ...common,
        type: 'alert.firing',
        timestamp: alert.firedAt,
        state: 'firing',
        resolvedAt: null,
        transition: { from: 'ok', to: 'alert', at: alert.firedAt, message: 'PSI 0.31 above 0.25', values: { value: 0.31, threshold: 0.25 } },
      });
      expect(receiver.received[1]?.json).toEqual({
        ...common,
        type: 'alert.resolved',
        timestamp: resolvedAt,
        state: 'resolved',
        resolvedAt,
        transition: { from: 'alert', to: 'ok', at: resolvedAt, message: 'PSI 0.05', values: { value: 0.05 } },
      });
      expect(await logOf(alert.id)).toEqual([
        { type: 'alert.firing', status: 'delivered', log: [[204, null, 'delivered']] },
        { type: 'alert.resolved', status: 'delivered', log: [[204, null, 'delivered']] },
      ]);
    });

    it('retries a 500 with backoff, the same webhook-id and a fresh timestamp each time', async () => {
      const d = dispatcher([rule({ url: receiver.url })]);
      const { fired } = await d.onTransition(transition());
      receiver.script(500, { status: 502, body: 'bad gateway\n  upstream' }, 200);
      expect(await d.deliverDue()).toBe(1);
      // Not due before the backoff (random 0.5 → 500 ms after attempt 1).
      clock += 499;
      expect(await d.deliverDue()).toBe(0);
      clock += 1;
      expect(await d.deliverDue()).toBe(1);
      clock += 1000; // 0.5 · 2000 after attempt 2
      expect(await d.deliverDue()).toBe(1);
      clock += 60_000;
      expect(await d.deliverDue()).toBe(0);

      const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      expect(receiver.received.map((r) => r.headers['webhook-timestamp'])).toEqual([start, start + 500, start + 1500].map((ms) => String(Math.floor(ms / 1000))));
      expect(receiver.received.every((r) => r.verification.valid)).toBe(true);
      const [delivery] = await store.alerts.listDeliveries(fired[0]?.id ?? '');
      expect(delivery?.log.map((l) => [l.attempt, l.httpStatus, l.errorCode, l.errorMessage, l.outcome])).toEqual([
        [1, 500, 'http_status', 'HTTP 500', 'pending'],
        [2, 502, 'http_status', 'HTTP 502: bad gateway upstream', 'pending'],
        [3, 200, null, null, 'delivered'],
      ]);
      expect(delivery?.status).toBe('delivered');
    });

    it('retries a timeout and a refused connection, and gives up after maxAttempts with every attempt in the log', async () => {
      const port = await closedPort();
      const d = dispatcher([rule({ name: 'slow', url: receiver.url, webhook: { url: receiver.url, secret: 'ONCALL_SECRET', timeoutMs: 200 } }), rule({ name: 'down', url: `http://127.0.0.1:${port}/hook` })], {
        backoff: { baseMs: 0, maxMs: 0, maxAttempts: 3 },
      });
      receiver.script('hang');
      const { fired } = await d.onTransition(transition());
      // baseMs 0: every retry is due at once, so one call runs them all.
      expect(await d.deliverDue()).toBe(2 + 3);
      const byRule = new Map(fired.map((a) => [a.rule, a.id]));
      expect(await logOf(byRule.get('slow') ?? '')).toEqual([{ type: 'alert.firing', status: 'delivered', log: [[null, 'timeout', 'pending'], [204, null, 'delivered']] }]);
      expect(await logOf(byRule.get('down') ?? '')).toEqual([
        {
          type: 'alert.firing',
          status: 'failed',
          log: [
            [null, 'connection_refused', 'pending'],
            [null, 'connection_refused', 'pending'],
            [null, 'connection_refused', 'failed'],
          ],
        },
      ]);
      // Failed stays failed: nothing more is attempted, and the log keeps it.
      clock += 3_600_000;
      expect(await d.deliverDue()).toBe(0);
    });

    it('stops at 410 Gone, retries other 4xx, and honours Retry-After on 429 and 503', async () => {
      const d = dispatcher([rule({ url: receiver.url })], { backoff: { baseMs: 1000, maxMs: 30_000, maxAttempts: 10 } });
      receiver.script(404, { status: 429, headers: { 'retry-after': '7' } }, { status: 503, headers: { 'retry-after': new Date(clock + 20_000).toUTCString() } }, { status: 429, headers: { 'retry-after': '86400' } }, 410);
      const { fired } = await d.onTransition(transition());
      const id = fired[0]?.id ?? '';
      const next = async (): Promise<number> => Date.parse((await store.alerts.listDeliveries(id))[0]?.nextAttemptAt ?? '') - clock;
      await d.deliverDue();
      expect(await next()).toBe(500); // 404: backoff, random 0.5 · 1000
      clock += 500;
      await d.deliverDue();
      expect(await next()).toBe(7000); // 429 Retry-After: 7
      clock += 7000;
      await d.deliverDue();
      expect(await next()).toBe(20_000 - 7500); // 503 with an HTTP date 20 s after the start
      clock += 12_500;
      await d.deliverDue();
      expect(await next()).toBe(30_000); // a day, clamped to maxMs
      clock += 30_000;
      await d.deliverDue();
      expect(await logOf(id)).toEqual([
        {
          type: 'alert.firing',
          status: 'failed',
          log: [
            [404, 'http_status', 'pending'],
            [429, 'http_status', 'pending'],
            [503, 'http_status', 'pending'],
            [429, 'http_status', 'pending'],
            [410, 'gone', 'failed'],
          ],
        },
      ]);
    });

    it('keeps a delivery pending while its secret is missing, then delivers', async () => {
      delete secrets.ONCALL_SECRET;
      const d = dispatcher([rule({ url: receiver.url })]);
      const { fired } = await d.onTransition(transition());
      await d.deliverDue();
      expect(receiver.received).toHaveLength(0);
      secrets.ONCALL_SECRET = secretValue;
      clock += 1000;
      await d.deliverDue();
      expect(await logOf(fired[0]?.id ?? '')).toEqual([{ type: 'alert.firing', status: 'delivered', log: [[null, 'secret_missing', 'pending'], [204, null, 'delivered']] }]);
    });

    it('sends the resolved event only after the firing one got through', async () => {
      const d = dispatcher([rule({ url: receiver.url })]);
      receiver.script(500);
      await d.onTransition(transition());
      await d.onTransition(transition({ from: 'alert', to: 'ok', at: new Date(start + 1000).toISOString() }));
      expect(await d.deliverDue()).toBe(1);
      expect(receiver.received.map((r) => (r.json as { type: string }).type)).toEqual(['alert.firing']);
      clock += 10_000;
      expect(await d.deliverDue()).toBe(2);
      expect(receiver.received.map((r) => [(r.json as { type: string }).type, r.status])).toEqual([
        ['alert.firing', 500],
        ['alert.firing', 204],
        ['alert.resolved', 204],
      ]);
    });

    it('runs a delivery loop that retries on its own, and close waits for it', async () => {
      const d = dispatcher([rule({ url: receiver.url })], { now: Date.now, backoff: { baseMs: 5, maxMs: 20, maxAttempts: 10 }, pollMs: 10 });
      receiver.fallback = 500;
      receiver.script(500, 500, 204);
      d.start();
      d.start();
      const { fired } = await d.onTransition(transition());
      const id = fired[0]?.id ?? '';
      await eventually(async () => (await store.alerts.listDeliveries(id))[0]?.status === 'delivered', 'the delivery');
      await d.close();
      await d.close();
      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 204]);
      expect(() => d.start()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    });
  });

  it('delivers after a restart what was fired while the receiver was down, and only once', async () => {
    const port = receiver.port;
    await receiver.close();
    const rules = [rule({ url: `http://127.0.0.1:${port}/hooks/ballast` })];
    const options = { now: Date.now, backoff: { baseMs: 20, maxMs: 100, maxAttempts: 1000 }, pollMs: 10 };

    const first = dispatcher(rules, options);
    first.start();
    const { fired } = await first.onTransition(transition({ at: new Date().toISOString() }));
    const id = fired[0]?.id ?? '';
    await eventually(async () => ((await store.alerts.listDeliveries(id))[0]?.log.length ?? 0) >= 2, 'two refused attempts');
    await first.close();
    await store.close();

    // A new process: the same file, a new dispatcher; the receiver is back on the same port.
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    receiver = await startWebhookReceiver(secretValue, { port });
    const second = dispatcher(rules, options);
    const [pending] = await store.alerts.listDeliveries(id);
    expect(pending?.status).toBe('pending');
    expect(pending?.log.every((l) => l.errorCode === 'connection_refused')).toBe(true);
    second.start();
    await eventually(async () => (await store.alerts.listDeliveries(id))[0]?.status === 'delivered', 'delivery after the restart');
    expect(await second.deliverDue()).toBe(0);
    await second.close();

    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.verification).toMatchObject({ valid: true, id: pending?.id });
    expect(receiver.received[0]?.json).toMatchObject({ type: 'alert.firing', id });
    const [delivered] = await store.alerts.listDeliveries(id);
    expect(delivered?.log.at(-1)).toMatchObject({ attempt: delivered?.attempts, httpStatus: 204, outcome: 'delivered' });
    expect(delivered?.log.map((l) => l.attempt)).toEqual(Array.from({ length: delivered?.attempts ?? 0 }, (_, i) => i + 1));

    // Yet another start changes nothing: delivered is delivered.
    const third = dispatcher(rules, options);
    expect(await third.deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });
});
