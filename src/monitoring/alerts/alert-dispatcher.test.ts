// The dispatcher on real parts: SQLite files in a temp dir, a node:http receiver on loopback that
// verifies every signature, undici for the requests. Retries run on a fake clock (deliverDue) or on
// a tiny backoff (start); no assertion is about how long anything took.
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { resolveAlertRule, type AlertRuleConfig } from './alert-config.js';
import {
  alertGroupKey,
  createAlertDispatcher,
  parseRetryAfterMs,
  retryDelayMs,
  ruleMatchesMonitor,
  type AlertDispatcher,
  type AlertDispatcherOptions,
  type AlertGroupValues,
  type AlertTransition,
  type AlertWebhookPayload,
} from './alert-dispatcher.js';
import { closedPort, startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver.js';

const secretValue = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const start = Date.UTC(2025, 0, 31, 12, 0, 0);

/** The default grouping and rate limit, except group.wait 0 (a notification at once) unless `group` says otherwise. */
function rule(overrides: Partial<AlertRuleConfig> & { url?: string } = {}): AlertRuleConfig {
  const { url = 'http://127.0.0.1:9/unused', ...rest } = overrides;
  const defaults = resolveAlertRule({ name: 'oncall', webhook: { url, secret: 'ONCALL_SECRET', timeoutMs: 2000 } });
  return { ...defaults, group: { ...defaults.group, waitMs: 0 }, ...rest };
}

const minute = 60_000;
const hour = 60 * minute;
const none = { fired: [], updated: [], resolved: [] };

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

  it('keys a group by the labels of group.by and collects the others', () => {
    const t = { service: 's', monitor: 'feature_drift/body', version: 'v1', segment: 'country=fr' };
    const by = (labels: AlertRuleConfig['group']['by']) => alertGroupKey({ name: 'r', group: { ...rule().group, by: labels } }, t);
    expect(by(['version', 'monitor'])).toEqual({ rule: 'r', service: 's', monitor: 'feature_drift', version: 'v1', segment: '*' });
    expect(by(['feature', 'segment'])).toEqual({ rule: 'r', service: 's', monitor: 'feature_drift/body', version: '*', segment: 'country=fr' });
    expect(by([])).toEqual({ rule: 'r', service: 's', monitor: '*', version: '*', segment: '*' });
    expect(alertGroupKey(rule(), { ...t, monitor: 'input_drift', segment: undefined }).monitor).toBe('input_drift');
    expect(alertGroupKey({ name: 'r', group: { ...rule().group, by: ['segment'] } }, { ...t, segment: undefined }).segment).toBe('');
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

  const bodies = () => receiver.received.map((r) => r.json as AlertWebhookPayload);
  const groupOf = (alert: { values: unknown } | undefined) => alert?.values as AlertGroupValues;
  /** The transitions of one drifted window over three features × three segments, plus the input's drift in each segment. */
  const storm = (overrides: Partial<AlertTransition> = {}): AlertTransition[] =>
    ['', 'country=DE', 'country=FR'].flatMap((segment) => [
      ...['amount', 'text', 'country'].map((f) =>
        transition({ monitor: `feature_drift/${f}`, segment, to: 'warning', message: `feature \`${f}\` drifted: KS p 0.001 < 0.05`, values: { value: 0.001, window: { start: '2002-09-02T10:00:00.000Z', end: '2002-09-02T11:00:00.000Z' } }, ...overrides }),
      ),
      transition({ monitor: 'input_drift', segment, to: 'alert', message: 'input drifted: 3 of 3 features drifted (100.0% ≥ 30.0%)', values: { value: 1, window: { start: '2002-09-02T10:00:00.000Z', end: '2002-09-02T11:00:00.000Z' } }, ...overrides }),
    ]);
  const grouped = (overrides: Partial<AlertRuleConfig['group']> = {}, rest: Partial<AlertRuleConfig> = {}) => {
    const base = rule({ url: receiver.url, minState: 'warning', ...rest });
    return { ...base, group: { ...resolveAlertRule({ name: 'x', webhook: { url: 'http://x', secret: 'S' } }).group, ...overrides } };
  };

  describe('rules and states', () => {
    it('fires at minState, once per group, and resolves when the state falls below it', async () => {
      const d = dispatcher([rule({ minState: 'alert' })]);
      const fired = await d.onTransition(transition({ from: 'ok', to: 'alert' }));
      expect(fired.fired).toHaveLength(1);
      expect(fired.fired[0]).toMatchObject({ rule: 'oncall', service: 'spam-filter', monitor: 'feature_drift', version: 'v1', segment: '*', severity: 'alert', state: 'firing', summary: 'PSI 0.31 above 0.25' });
      expect(groupOf(fired.fired[0])).toMatchObject({
        by: ['version', 'monitor'],
        monitors: ['feature_drift/body'],
        features: ['body'],
        segments: [null],
        members: [{ monitor: 'feature_drift/body', segment: null, state: 'alert', since: new Date(start).toISOString(), message: 'PSI 0.31 above 0.25', values: { value: 0.31, threshold: 0.25 } }],
      });
      // Still alert (e.g. after a restart of the hub): nothing new.
      expect(await d.onTransition(transition({ from: 'unknown', to: 'alert' }))).toEqual(none);
      // warning is below minState alert: resolves.
      const later = new Date(start + 60_000).toISOString();
      const resolved = await d.onTransition(transition({ from: 'alert', to: 'warning', at: later }));
      expect(resolved.resolved).toEqual([{ ...fired.fired[0], state: 'resolved', resolvedAt: later }]);
      expect(await store.alerts.listActive('spam-filter')).toEqual([]);
      expect(await d.onTransition(transition({ from: 'warning', to: 'ok' }))).toEqual(none);
      // And it can fire again, as a new alert.
      const again = await d.onTransition(transition({ to: 'alert', at: new Date(start + 120_000).toISOString() }));
      expect(again.fired[0]?.id).not.toBe(fired.fired[0]?.id);
    });

    it('fires a warning rule at warning and at alert, raises its severity with its members, and ignores unknown', async () => {
      const d = dispatcher([rule({ name: 'early', minState: 'warning' })]);
      expect(await d.onTransition(transition({ from: 'ok', to: 'unknown' }))).toEqual(none);
      const warned = await d.onTransition(transition({ from: 'ok', to: 'warning' }));
      expect(warned.fired.map((a) => a.severity)).toEqual(['warning']);
      // Escalating to alert keeps the same alert, now of severity alert; unknown neither joins nor leaves.
      const raised = await d.onTransition(transition({ from: 'warning', to: 'alert' }));
      expect(raised.updated.map((a) => [a.id, a.severity])).toEqual([[warned.fired[0]?.id, 'alert']]);
      expect(await d.onTransition(transition({ from: 'alert', to: 'unknown' }))).toEqual(none);
      expect((await store.alerts.listActive()).map((a) => a.id)).toEqual([warned.fired[0]?.id]);
      expect((await d.onTransition(transition({ from: 'alert', to: 'ok' }))).resolved).toHaveLength(1);
    });

    it('applies only the rules whose monitors match, each as its own alert; segments join, versions split', async () => {
      const d = dispatcher([
        rule({ name: 'features', monitors: ['feature_drift/*'] }),
        rule({ name: 'input', monitors: ['input_drift'] }),
        rule({ name: 'everything' }),
      ]);
      expect((await d.onTransition(transition({ monitor: 'feature_drift/body' }))).fired.map((a) => a.rule).sort()).toEqual(['everything', 'features']);
      expect((await d.onTransition(transition({ monitor: 'input_drift' }))).fired.map((a) => a.rule).sort()).toEqual(['everything', 'input']);
      expect((await d.onTransition(transition({ monitor: 'latency' }))).fired.map((a) => a.rule)).toEqual(['everything']);
      expect((await d.onTransition(transition({ service: 'loans' }))).fired).toEqual([]);
      // A segment joins its monitor's alert; another version is another alert (group.by [version, monitor]).
      const segment = await d.onTransition(transition({ monitor: 'latency', segment: 'country=fr' }));
      expect(segment.fired).toEqual([]);
      expect(groupOf(segment.updated[0]).segments).toEqual([null, 'country=fr']);
      expect((await d.onTransition(transition({ monitor: 'latency', version: 'v2' }))).fired.map((a) => [a.monitor, a.version])).toEqual([['latency', 'v2']]);
    });

    it('keeps one alert per monitor and segment when group.by names every label', async () => {
      const d = dispatcher([rule({ group: { ...rule().group, by: ['version', 'monitor', 'feature', 'segment'] } })]);
      const fr = await d.onTransition(transition({ segment: 'country=fr' }));
      const all = await d.onTransition(transition());
      const text = await d.onTransition(transition({ monitor: 'feature_drift/text' }));
      expect([fr, all, text].map((r) => r.fired.map((a) => [a.monitor, a.segment]))).toEqual([[['feature_drift/body', 'country=fr']], [['feature_drift/body', '']], [['feature_drift/text', '']]]);
    });

    it('fires once when the same transition arrives twice at the same time', async () => {
      const d = dispatcher([rule()]);
      const [a, b] = await Promise.all([d.onTransition(transition()), d.onTransition(transition())]);
      expect(a.fired.length + b.fired.length).toBe(1);
      expect(a.updated.length + b.updated.length).toBe(0);
      expect(await store.alerts.listActive()).toHaveLength(1);
    });

    it('never loses a notification: a failing outbox insert enqueues nothing, and the next look sends it', async () => {
      const d = dispatcher([rule({ group: { ...rule().group, waitMs: 30_000 } })]);
      const { fired } = await d.onTransition(transition());
      // A real fault inside the transaction: a trigger makes the outbox insert fail after the alert update ran.
      const raw = new SqliteDatabase(tmp.dbPath);
      try {
        raw.exec("create trigger refuse_outbox before insert on alert_outbox begin select raise(abort, 'outbox refused'); end;");
        clock += 30_000;
        await expect(d.deliverDue()).rejects.toMatchObject({ code: 'INTERNAL' });
        expect(await store.alerts.listDeliveries(fired[0]?.id ?? '')).toEqual([]);
        raw.exec('drop trigger refuse_outbox');
      } finally {
        raw.close();
      }
      await d.deliverDue();
      expect((await store.alerts.listDeliveries(fired[0]?.id ?? '')).map((x) => x.type)).toEqual(['alert.firing']);
    });
  });

  describe('grouping', () => {
    it('turns a drifted window over 3 features × 3 segments into one alert per monitor, listing them, notified once after group.wait', async () => {
      const d = dispatcher([grouped()]);
      const results = [];
      for (const t of storm()) results.push(await d.onTransition(t));
      expect(results.flatMap((r) => r.fired).map((a) => a.monitor)).toEqual(['feature_drift', 'input_drift']);
      expect(results.flatMap((r) => r.updated)).toHaveLength(12 - 2);
      const active = await store.alerts.listActive('spam-filter');
      expect(active.map((a) => [a.monitor, a.version, a.segment, a.severity])).toEqual([
        ['feature_drift', 'v1', '*', 'warning'],
        ['input_drift', 'v1', '*', 'alert'],
      ]);
      const features = groupOf(active[0]);
      expect(features.features).toEqual(['amount', 'country', 'text']);
      expect(features.segments).toEqual([null, 'country=DE', 'country=FR']);
      expect(features.members).toHaveLength(9);
      expect(features.windows).toEqual([{ start: '2002-09-02T10:00:00.000Z', end: '2002-09-02T11:00:00.000Z' }]);
      expect(active[0]?.summary).toBe(
        'feature_drift warning on 9 monitors × segments: 3 features (amount, country, text) in 3 segments (all traffic, country=DE, country=FR); e.g. feature `amount` drifted: KS p 0.001 < 0.05',
      );
      expect(groupOf(active[1]).segments).toEqual([null, 'country=DE', 'country=FR']);

      // Nothing before group.wait (30 s); then one notification per alert, with every member.
      clock += 29_999;
      expect(await d.deliverDue()).toBe(0);
      clock += 1;
      expect(await d.deliverDue()).toBe(2);
      expect(bodies().map((b) => [b.type, b.reason, b.monitor, b.segment, b.members.length])).toEqual([
        ['alert.firing', 'new', 'feature_drift', '*', 9],
        ['alert.firing', 'new', 'input_drift', '*', 3],
      ]);
      expect(bodies()[0]).toMatchObject({ features: ['amount', 'country', 'text'], segments: [null, 'country=DE', 'country=FR'], severity: 'warning', timestamp: active[0]?.firedAt });
      expect(receiver.received.every((r) => r.verification.valid)).toBe(true);
    });

    it('does not re-send within group.repeat: the same states again, or a member leaving and coming back, send nothing; after it, one reminder', async () => {
      const d = dispatcher([grouped({ waitMs: 0 })]);
      for (const t of storm()) await d.onTransition(t);
      await d.deliverDue();
      // wait 0: the first member is notified at once, the other members in one change group.interval later.
      expect(bodies().map((b) => [b.monitor, b.reason, b.members.length])).toEqual([
        ['feature_drift', 'new', 1],
        ['input_drift', 'new', 1],
      ]);
      clock += 5 * minute;
      expect(await d.deliverDue()).toBe(2);
      expect(bodies().slice(2).map((b) => [b.monitor, b.reason, b.members.length])).toEqual([
        ['feature_drift', 'changed', 9],
        ['input_drift', 'changed', 3],
      ]);
      // The hub hands every state over again (a restart), and one member leaves and comes back between two looks.
      for (const t of storm({ from: 'warning' })) await d.onTransition(t);
      await d.onTransition(transition({ monitor: 'feature_drift/text', segment: 'country=DE', from: 'warning', to: 'ok' }));
      await d.onTransition(transition({ monitor: 'feature_drift/text', segment: 'country=DE', from: 'ok', to: 'warning' }));
      for (const step of [1, 10, 60, 120, 230]) {
        clock = start + 5 * minute + step * minute;
        expect(await d.deliverDue(), `${step} min after the change`).toBe(0);
      }
      clock = start + 5 * minute + 4 * hour;
      expect(await d.deliverDue()).toBe(2);
      expect(bodies().slice(4).map((b) => [b.monitor, b.reason, b.members.length, b.timestamp]).sort()).toEqual([
        ['feature_drift', 'repeat', 9, new Date(clock).toISOString()],
        ['input_drift', 'repeat', 3, new Date(clock).toISOString()],
      ]);
      expect(await d.deliverDue()).toBe(0);
      expect(receiver.received).toHaveLength(6);
    });

    it('notifies a change of the members group.interval after the last notification, with the members as they are then', async () => {
      const d = dispatcher([grouped({ waitMs: 0 })]);
      await d.onTransition(transition({ to: 'warning' }));
      await d.deliverDue();
      clock += minute;
      await d.onTransition(transition({ monitor: 'feature_drift/text', to: 'warning' }));
      await d.onTransition(transition({ monitor: 'feature_drift/text', segment: 'country=FR', to: 'alert' }));
      clock += 3 * minute;
      expect(await d.deliverDue()).toBe(0);
      clock += minute; // 5 minutes after the first
      expect(await d.deliverDue()).toBe(1);
      expect(bodies().map((b) => [b.reason, b.severity, b.members.map((m) => `${m.monitor}@${m.segment ?? '-'}:${m.state}`)])).toEqual([
        ['new', 'warning', ['feature_drift/body@-:warning']],
        ['changed', 'alert', ['feature_drift/body@-:warning', 'feature_drift/text@-:warning', 'feature_drift/text@country=FR:alert']],
      ]);
    });

    it('resolves as a group: one alert.resolved when the last member leaves, none for an alert never announced', async () => {
      const d = dispatcher([grouped({ waitMs: 0 })]);
      for (const t of storm()) await d.onTransition(t);
      clock += 5 * minute;
      await d.deliverDue();
      const sent = receiver.received.length;
      const leave = storm({ from: 'warning', to: 'ok', message: 'stable' }).filter((t) => t.monitor.startsWith('feature_drift/'));
      const results = [];
      for (const t of leave) results.push(await d.onTransition(t));
      expect(results.slice(0, -1).every((r) => r.resolved.length === 0)).toBe(true);
      expect(results.at(-1)?.resolved.map((a) => a.monitor)).toEqual(['feature_drift']);
      await d.deliverDue();
      const resolved = bodies().slice(sent);
      expect(resolved.map((b) => [b.type, b.reason, b.monitor, b.state, b.members.length])).toEqual([['alert.resolved', 'resolved', 'feature_drift', 'resolved', 1]]);
      expect(resolved[0]?.transition).toMatchObject({ monitor: 'feature_drift/country', segment: 'country=FR', from: 'warning', to: 'ok' });
      expect((await store.alerts.listActive()).map((a) => a.monitor)).toEqual(['input_drift']);

      // An alert that ends within group.wait was never announced: it resolves in the store, silently.
      const quiet = dispatcher([{ ...grouped(), name: 'quiet' }]);
      const { fired } = await quiet.onTransition(transition({ monitor: 'calibration', to: 'alert', at: new Date(clock).toISOString() }));
      clock += 10_000;
      await quiet.onTransition(transition({ monitor: 'calibration', from: 'alert', to: 'ok', at: new Date(clock).toISOString() }));
      clock += hour;
      await quiet.deliverDue();
      expect(await store.alerts.get(fired[0]?.id ?? '')).toMatchObject({ state: 'resolved' });
      expect(await store.alerts.listDeliveries(fired[0]?.id ?? '')).toEqual([]);
    });

    it('holds a rule to rateLimit.max notifications in any rateLimit.per, deferring the rest (resolved ones included) to free slots', async () => {
      const limited = grouped({ waitMs: 0, by: ['version', 'monitor', 'feature', 'segment'] }, { rateLimit: { max: 2, perMs: hour } });
      const d = dispatcher([limited]);
      const transitions = storm().slice(0, 5);
      for (const t of transitions) await d.onTransition(t);
      expect(await store.alerts.listActive()).toHaveLength(5);
      expect(await d.deliverDue()).toBe(2);
      clock += hour - 1;
      expect(await d.deliverDue()).toBe(0);
      clock += 1;
      expect(await d.deliverDue()).toBe(2);
      // The first two end now: their alert.resolved waits for the next free slot, an hour after the last two.
      for (const t of transitions.slice(0, 2)) await d.onTransition({ ...t, from: t.to, to: 'ok' });
      clock += hour;
      expect(await d.deliverDue()).toBe(2);
      clock += hour;
      expect(await d.deliverDue()).toBe(1);
      clock += 10 * hour;
      // The two still firing get reminders after group.repeat, within the limit too.
      expect(await d.deliverDue()).toBe(2);
      const times = receiver.received.map((r) => Number(r.headers['webhook-timestamp']) * 1000);
      for (const t of times) expect(times.filter((u) => u > t - hour && u <= t).length).toBeLessThanOrEqual(2);
      expect(bodies().map((b) => b.reason)).toEqual(['new', 'new', 'new', 'new', 'resolved', 'resolved', 'new', 'repeat', 'repeat']);
      // Every notification enqueued is in the store's count of the rule.
      expect(await store.alerts.listDeliveryTimes('spam-filter', limited.name, new Date(start - 1).toISOString())).toHaveLength(9);
    });

    it('neither fires a second alert nor notifies twice after a restart, and sends after a restart what group.wait held when it stopped', async () => {
      const rules = [grouped()];
      const first = dispatcher(rules);
      for (const t of storm()) await first.onTransition(t);
      clock += 30_000;
      await first.deliverDue();
      expect(receiver.received).toHaveLength(2);
      // A monitor joins; the process stops before group.interval.
      await first.onTransition(transition({ monitor: 'feature_drift/subject', to: 'warning' }));
      await first.close();
      await store.close();

      store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
      const second = dispatcher(rules);
      // The hub hands every known state over at start (from = to).
      for (const t of [...storm(), transition({ monitor: 'feature_drift/subject', to: 'warning' })]) {
        expect(await second.onTransition({ ...t, from: t.to })).toEqual(none);
      }
      expect((await store.alerts.listActive()).map((a) => a.monitor)).toEqual(['feature_drift', 'input_drift']);
      clock += 4 * minute;
      expect(await second.deliverDue()).toBe(0);
      clock += minute; // group.interval after the first notification: the change made before the stop
      expect(await second.deliverDue()).toBe(1);
      expect(bodies().at(-1)).toMatchObject({ reason: 'changed', monitor: 'feature_drift', features: ['amount', 'country', 'subject', 'text'] });
      await second.close();

      // Another start with nothing handed over still knows the reminder is due after group.repeat, and only once.
      const third = dispatcher(rules);
      clock += hour;
      expect(await third.deliverDue()).toBe(0);
      clock += 3 * hour - 2 * minute; // after input_drift's reminder is due, before feature_drift's
      expect(await third.deliverDue()).toBe(1);
      expect(bodies().at(-1)).toMatchObject({ reason: 'repeat', monitor: 'input_drift' });
      expect(await third.deliverDue()).toBe(0);
    });

    it('resolves, at the next start, the alerts of a rule that was removed (silently) or whose group.by changed (announced)', async () => {
      const first = dispatcher([grouped({ waitMs: 0 }), grouped({ waitMs: 0 }, { name: 'gone' })]);
      for (const t of storm()) await first.onTransition(t);
      await first.deliverDue();
      const firing = await store.alerts.listActive();
      expect(firing.map((a) => `${a.rule} ${a.monitor} ${a.version} ${a.segment}`).sort()).toEqual(['gone feature_drift v1 *', 'gone input_drift v1 *', 'oncall feature_drift v1 *', 'oncall input_drift v1 *']);
      await first.close();
      const sent = receiver.received.length;

      // The config now has only 'oncall', grouped by segment as well; nothing is handed over yet.
      const second = dispatcher([grouped({ waitMs: 0, by: ['version', 'monitor', 'segment'] })]);
      clock += minute;
      await second.deliverDue();
      expect(await store.alerts.listActive()).toEqual([]);
      const resolved = bodies().slice(sent);
      // Two alert.resolved on the webhook of the rule that still exists; none for the removed rule's alerts.
      expect(resolved.map((b) => `${b.type} ${b.rule} ${b.monitor}`).sort()).toEqual(['alert.resolved oncall feature_drift', 'alert.resolved oncall input_drift']);
      // The same storm under the new grouping fires alerts per segment.
      for (const t of storm()) await second.onTransition({ ...t, from: 'ok' });
      expect((await store.alerts.listActive()).map((a) => a.segment).sort()).toEqual(['', '', 'country=DE', 'country=DE', 'country=FR', 'country=FR']);
    });

    it('resolves an alert fired before grouping, keyed by its exact monitor and segment, as before', async () => {
      const d = dispatcher([rule({ url: receiver.url })]);
      const old = { id: 'alt_01JJY3PWG06DG6R9F9TW0VY3QD', rule: 'oncall', service: 'spam-filter', monitor: 'input_drift', version: 'v1', segment: '', severity: 'alert', state: 'firing' as const, firedAt: new Date(start - hour).toISOString(), resolvedAt: null, summary: 'input drifted', values: { value: 1 } };
      await store.alerts.fire(old, []);
      const { resolved } = await d.onTransition(transition({ monitor: 'input_drift', from: 'alert', to: 'ok', message: 'input stable' }));
      expect(resolved.map((a) => a.id)).toEqual([old.id]);
      await d.deliverDue();
      expect(bodies().map((b) => [b.type, b.id, b.monitor, b.members.length, b.transition?.to])).toEqual([['alert.resolved', old.id, 'input_drift', 0, 'ok']]);
    });
  });

  describe('delivery', () => {
    it('looks at the outbox at once when woken, not at the next poll, for a delivery written outside an alert change', async () => {
      const d = dispatcher([], { pollMs: 600_000 });
      d.start();
      // Let the first pass (at start) find the outbox empty; the next poll is ten minutes away.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const at = new Date(clock).toISOString();
      const alert = { id: 'alt_woken', rule: 'review-sla', service: 'loans', monitor: 'review_sla', version: '*', segment: 'rvw_1', severity: 'alert', state: 'firing' as const, firedAt: at, resolvedAt: null, summary: 's', values: {} };
      await store.alerts.fire(alert, [{ id: 'whd_woken', type: 'review.sla_breached', url: receiver.url, secretName: 'ONCALL_SECRET', timeoutMs: 2000, body: '{"type":"review.sla_breached"}', createdAt: at }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(receiver.received).toHaveLength(0);
      d.wake();
      for (let waited = 0; receiver.received.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(receiver.received.map((r) => [r.verification.valid, (r.json as { type: string }).type])).toEqual([[true, 'review.sla_breached']]);
    });

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
      const member = { monitor: 'feature_drift/body', segment: 'country=fr', state: 'alert', since: alert.firedAt, message: 'PSI 0.31 above 0.25', values: { value: 0.31, threshold: 0.25 } };
      const common = {
        id: alert.id,
        rule: 'oncall',
        service: 'spam-filter',
        monitor: 'feature_drift',
        version: 'v1',
        segment: '*',
        severity: 'alert',
        firedAt: alert.firedAt,
        summary: 'PSI 0.31 above 0.25 [country=fr]',
        monitors: ['feature_drift/body'],
        features: ['body'],
        segments: ['country=fr'],
        windows: [],
        members: [member],
        // No ownership given to this dispatcher: nobody named, no runbook, no escalation, not acknowledged.
        owners: [],
        runbook: null,
        escalation: null,
        acknowledged: null,
      };
      expect(receiver.received[0]?.json).toEqual({
        ...common,
        type: 'alert.firing',
        reason: 'new',
        timestamp: alert.firedAt,
        state: 'firing',
        resolvedAt: null,
        transition: { monitor: 'feature_drift/body', segment: 'country=fr', from: 'ok', to: 'alert', at: alert.firedAt, message: 'PSI 0.31 above 0.25', values: { value: 0.31, threshold: 0.25 } },
      });
      expect(receiver.received[1]?.json).toEqual({
        ...common,
        type: 'alert.resolved',
        reason: 'resolved',
        timestamp: resolvedAt,
        state: 'resolved',
        resolvedAt,
        transition: { monitor: 'feature_drift/body', segment: 'country=fr', from: 'alert', to: 'ok', at: resolvedAt, message: 'PSI 0.05', values: { value: 0.05 } },
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
