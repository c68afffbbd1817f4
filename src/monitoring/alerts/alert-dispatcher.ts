// From "a monitor changed state" to "a signed webhook arrived". onTransition turns state changes into
// alerts and writes each alert change together with its outbox rows in one transaction; the delivery
// loop POSTs due outbox rows (Standard Webhooks signatures, undici), records every attempt in the
// delivery log and retries with exponential backoff and full jitter. Everything that must survive a
// restart is in the store, so a new dispatcher on the same database carries on where the last stopped.
//
// Delivery is at least once: the `webhook-id` header (the delivery id) is the same on every attempt,
// so a receiver deduplicates on it.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { BallastError } from '../../errors/index.js';
import { createIdGenerator, type AlertEventType, type NewAlertDelivery, type Store, type StoredAlert, type StoredAlertDelivery } from '../../store/index.js';
import type { AlertRuleConfig } from './alert-config.js';
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

/** What one transition did. */
export interface AlertTransitionResult {
  readonly fired: readonly StoredAlert[];
  readonly resolved: readonly StoredAlert[];
}

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
  /** Milliseconds since the epoch (default Date.now): timestamps, due times, signatures. */
  readonly now?: () => number;
  /** Uniform in [0, 1) (default Math.random): the jitter. */
  readonly random?: () => number;
  readonly backoff?: Partial<AlertBackoff>;
  readonly logger?: AlertLogger;
  /** Milliseconds between looks at the outbox while started (default 1000); an alert change looks at once. */
  readonly pollMs?: number;
  /** Attempts in flight at once (default 8). */
  readonly concurrency?: number;
}

/** The JSON body of every delivery (`type` tells which event). */
export interface AlertWebhookPayload {
  readonly type: AlertEventType;
  /** When the event happened: firedAt for `alert.firing`, resolvedAt for `alert.resolved`. */
  readonly timestamp: string;
  /** The alert id: the same for the firing and the resolved event of one alert. */
  readonly id: string;
  readonly rule: string;
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  /** null when the traffic is not segmented. */
  readonly segment: string | null;
  /** The monitor state that fired the alert. */
  readonly severity: string;
  readonly state: 'firing' | 'resolved';
  readonly firedAt: string;
  readonly resolvedAt: string | null;
  /** The monitor's message when the alert fired. */
  readonly summary: string;
  /** The monitor's numbers when the alert fired. */
  readonly values: unknown;
  /** The state change that caused this event. */
  readonly transition: { readonly from: string; readonly to: string; readonly at: string; readonly message: string; readonly values: unknown };
}

export interface AlertDispatcher {
  /** Fires or resolves the alerts of every matching rule; resolves once the changes and their outbox rows are durable. */
  onTransition(transition: AlertTransition): Promise<AlertTransitionResult>;
  /** Starts the delivery loop (idempotent). */
  start(): void;
  /** Attempts every delivery due now, waits for the attempts, and repeats while any were made; returns how many. */
  deliverDue(): Promise<number>;
  /** Stops the loop and waits for the attempts in flight (they are recorded); idempotent. Close it before the store. */
  close(): Promise<void>;
}

const stateRank: Readonly<Record<AlertMonitorState, number>> = { unknown: -1, ok: 0, warning: 1, alert: 2 };
/** Extra lease beyond a delivery's timeout: if the process dies mid-attempt, the delivery is due again after it. */
const leaseMarginMs = 60_000;
const errorExcerptBytes = 512;
const userAgent = 'Ballast-Webhooks/1';

/** Whether a rule's `monitors` list names a monitor: exactly, or by a prefix ending in `*` (`*` alone is every monitor). */
export function ruleMatchesMonitor(patterns: readonly string[], monitor: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? monitor.startsWith(p.slice(0, -1)) : p === monitor));
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

  function payload(alert: StoredAlert, type: AlertEventType, t: AlertTransition): string {
    const body: AlertWebhookPayload = {
      type,
      timestamp: type === 'alert.firing' ? alert.firedAt : (alert.resolvedAt ?? t.at),
      id: alert.id,
      rule: alert.rule,
      service: alert.service,
      monitor: alert.monitor,
      version: alert.version,
      segment: alert.segment === '' ? null : alert.segment,
      severity: alert.severity,
      state: alert.state,
      firedAt: alert.firedAt,
      resolvedAt: alert.resolvedAt,
      summary: alert.summary,
      values: alert.values,
      transition: { from: t.from, to: t.to, at: t.at, message: t.message, values: t.values },
    };
    return JSON.stringify(body);
  }

  function delivery(rule: AlertRuleConfig, alert: StoredAlert, type: AlertEventType, t: AlertTransition): NewAlertDelivery {
    return {
      id: newId('whd'),
      type,
      url: rule.webhook.url,
      secretName: rule.webhook.secret,
      timeoutMs: rule.webhook.timeoutMs,
      body: payload(alert, type, t),
      createdAt: iso(now()),
    };
  }

  async function applyRule(rule: AlertRuleConfig, t: AlertTransition, segment: string): Promise<{ fired?: StoredAlert; resolved?: StoredAlert }> {
    // `unknown` means "not enough data": it neither fires nor resolves.
    if (t.to === 'unknown') return {};
    const key = { rule: rule.name, service: t.service, monitor: t.monitor, version: t.version, segment };
    if (stateRank[t.to] >= stateRank[rule.minState]) {
      const alert: StoredAlert = { ...key, id: newId('alt'), severity: t.to, state: 'firing', firedAt: t.at, resolvedAt: null, summary: t.message, values: t.values };
      const result = await alerts.fire(alert, [delivery(rule, alert, 'alert.firing', t)]);
      if (!result.created) return {};
      logger.info({ alert: alert.id, rule: rule.name, service: t.service, monitor: t.monitor, version: t.version, segment }, 'alert fired');
      return { fired: alert };
    }
    const active = await alerts.getActive(key);
    if (active === undefined) return {};
    // A transition stamped before the alert fired (clock skew between replicas) resolves it at its firing time.
    const resolvedAt = t.at < active.firedAt ? active.firedAt : t.at;
    const resolved: StoredAlert = { ...active, state: 'resolved', resolvedAt };
    const done = await alerts.resolve(active.id, resolvedAt, [delivery(rule, resolved, 'alert.resolved', t)]);
    if (done === undefined) return {};
    logger.info({ alert: active.id, rule: rule.name, service: t.service, monitor: t.monitor, version: t.version, segment }, 'alert resolved');
    return { resolved: done };
  }

  async function onTransition(t: AlertTransition): Promise<AlertTransitionResult> {
    if (!(t.to in stateRank) || !(t.from in stateRank)) {
      throw new BallastError('INTERNAL', { detail: `a monitor transition must go between ${Object.keys(stateRank).join(', ')}, got ${String(t.from)} → ${String(t.to)}` });
    }
    const segment = t.segment ?? '';
    const rules = options.rules(t.service).filter((rule) => ruleMatchesMonitor(rule.monitors, t.monitor));
    const outcomes = await Promise.all(
      rules.map((rule) => serialized(JSON.stringify([rule.name, t.service, t.monitor, t.version, segment]), () => applyRule(rule, t, segment))),
    );
    const fired = outcomes.flatMap((o) => (o.fired === undefined ? [] : [o.fired]));
    const resolved = outcomes.flatMap((o) => (o.resolved === undefined ? [] : [o.resolved]));
    if (fired.length > 0 || resolved.length > 0) kick();
    return { fired, resolved };
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

    async deliverDue() {
      if (closing !== undefined) throw new BallastError('INTERNAL', { detail: 'the alert dispatcher is closed' });
      let total = 0;
      for (;;) {
        const count = await startDue();
        total += count;
        await Promise.allSettled([...inFlight]);
        if (count === 0) return total;
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
