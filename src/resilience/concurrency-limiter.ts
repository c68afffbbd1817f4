// Per-service admission: at most `limit` calls in flight, a short bounded priority queue behind them,
// and everything else refused at once with a Retry-After estimate.

/** How much a request matters: the queue serves high first, and sheds low first. */
export type Priority = 'high' | 'normal' | 'low';

export interface ConcurrencyLimiterConfig {
  /**
   * `fixed`: at most `max` in flight. `gradient`: an adaptive limit between `min` and `max` after Netflix
   * concurrency-limits' Gradient2Limit: each release moves it by the ratio of the long-term RTT (an exponential
   * average over ~600 samples) to the latest RTT, with a tolerance of 1.5, a queue allowance of sqrt(limit) and
   * smoothing 0.2; a dropped request lowers it by 10%.
   */
  readonly limit: { readonly kind: 'fixed'; readonly max: number } | { readonly kind: 'gradient'; readonly initial: number; readonly min: number; readonly max: number };
  /** Requests beyond the limit wait in a bounded queue, at most this many (0 = no queue). */
  readonly queueSize: number;
  /** A queued request waits at most this long, then is refused. */
  readonly maxWaitMs: number;
}

export type Admission =
  | { readonly ok: true; readonly permit: AdmissionPermit }
  | { readonly ok: false; readonly reason: 'queue_full' | 'wait_timeout' | 'shed' | 'aborted'; readonly retryAfterSeconds: number };

export interface AdmissionPermit {
  /** Ends the request; `latencyMs` feeds the adaptive limit; `dropped` (timeout/overload signal) lowers a gradient limit. Idempotent. */
  release(latencyMs: number, dropped?: boolean): void;
}

type Refusal = Extract<Admission, { ok: false }>;

// Gradient2Limit's constants (Netflix concurrency-limits).
const SMOOTHING = 0.2;
const RTT_TOLERANCE = 1.5;
const LONG_WINDOW = 600;
const LONG_FACTOR = 2 / (LONG_WINDOW + 1);
const WARMUP_SAMPLES = 10;
const DROP_BACKOFF = 0.9;
const MAX_RETRY_AFTER_SECONDS = 60;

/** Priority → queue index, served in index order. */
const rank = { high: 0, normal: 1, low: 2 } as const;

/** One queued request: a node of the doubly linked FIFO of its priority. */
interface Waiter {
  readonly rank: 0 | 1 | 2;
  readonly enqueuedAt: number;
  readonly resolve: (admission: Admission) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

type OnRelease = (latencyMs: number, dropped: boolean, inFlightAtStart: number) => void;

/** A granted slot. It is its own `{ ok: true, permit }` admission, so a fast-path acquire allocates one object. */
class Permit implements AdmissionPermit {
  readonly ok = true;
  readonly permit: AdmissionPermit = this;
  private released = false;

  constructor(
    private readonly onRelease: OnRelease,
    private readonly inFlightAtStart: number,
  ) {}

  release(latencyMs: number, dropped = false): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(latencyMs, dropped, this.inFlightAtStart);
  }
}

/**
 * Admission control for one service: a fixed or adaptive concurrency limit with a bounded priority queue,
 * served high, normal, low (FIFO within each). High-priority requests are shed last: when the queue is full,
 * an arriving high request displaces the newest queued low (then normal) one, and a request whose wait runs
 * out takes the lower-priority ones queued behind it along. Each queued request holds one timer, cleared
 * when it is served; the fast path sets none.
 */
export class ConcurrencyLimiter {
  private readonly config: ConcurrencyLimiterConfig;
  private readonly now: () => number;
  private estimate: number;
  private inFlight = 0;
  private queued = 0;
  private readonly counts: [number, number, number] = [0, 0, 0];
  private readonly heads: [Waiter | undefined, Waiter | undefined, Waiter | undefined] = [undefined, undefined, undefined];
  private readonly tails: [Waiter | undefined, Waiter | undefined, Waiter | undefined] = [undefined, undefined, undefined];
  private longRtt = 0;
  private rttSamples = 0;
  /** Exponential average of release latencies, for the Retry-After estimate (0 before any). */
  private averageLatencyMs = 0;
  /** One function shared by all permits. */
  private readonly onRelease: OnRelease = (latencyMs, dropped, inFlightAtStart) => this.end(latencyMs, dropped, inFlightAtStart);

  /** `now` (ms, default performance.now) dates queued requests: one whose wait ran out is refused, never served, even if its timer is late. */
  constructor(config: ConcurrencyLimiterConfig, options: { now?: () => number } = {}) {
    const { limit, queueSize, maxWaitMs } = config;
    const positiveInteger = (value: number, name: string) => {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1 (got ${String(value)})`);
    };
    if (limit.kind === 'fixed') positiveInteger(limit.max, 'limit.max');
    else {
      positiveInteger(limit.min, 'limit.min');
      positiveInteger(limit.max, 'limit.max');
      if (!(limit.min <= limit.initial && limit.initial <= limit.max)) throw new RangeError(`limit.initial must lie in [limit.min, limit.max] (got ${String(limit.initial)})`);
    }
    if (!Number.isInteger(queueSize) || queueSize < 0) throw new RangeError(`queueSize must be an integer >= 0 (got ${String(queueSize)})`);
    if (!(maxWaitMs > 0 && Number.isFinite(maxWaitMs))) throw new RangeError(`maxWaitMs must be a finite number > 0 (got ${String(maxWaitMs)})`);
    this.config = config;
    this.now = options.now ?? (() => performance.now());
    this.estimate = limit.kind === 'fixed' ? limit.max : limit.initial;
  }

  /** Fast path synchronous when under the limit (returns an Admission, not a Promise) so the hot path allocates nothing extra; otherwise a Promise that resolves when a slot frees, the wait times out, or `signal` aborts. */
  acquire(priority: Priority, signal?: AbortSignal): Admission | Promise<Admission> {
    if (signal?.aborted) return this.refusal('aborted');
    if (this.inFlight < this.limit() && this.queued === 0) return new Permit(this.onRelease, ++this.inFlight);
    if (this.queued >= this.config.queueSize) {
      const victim = priority === 'high' ? (this.tails[rank.low] ?? this.tails[rank.normal]) : undefined;
      if (victim === undefined) return this.refusal('queue_full');
      this.settle(victim, this.refusal('shed'));
    }
    return new Promise<Admission>((resolve) => {
      const waiter: Waiter = { rank: rank[priority], enqueuedAt: this.now(), resolve, timer: undefined, signal, onAbort: undefined, prev: undefined, next: undefined };
      this.enqueue(waiter);
      waiter.timer = setTimeout(() => this.expire(waiter), this.config.maxWaitMs);
      if (signal !== undefined) {
        waiter.onAbort = () => this.settle(waiter, this.refusal('aborted'));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
    });
  }

  /** The current limit, requests in flight and queued. */
  snapshot(): { limit: number; inFlight: number; queued: number; queuedByPriority: Record<Priority, number> } {
    const [high, normal, low] = this.counts;
    return { limit: this.limit(), inFlight: this.inFlight, queued: this.queued, queuedByPriority: { high, normal, low } };
  }

  private limit(): number {
    return Math.floor(this.estimate);
  }

  /** A permit ended (once per permit, see Permit.release). */
  private end(latencyMs: number, dropped: boolean, inFlightAtStart: number): void {
    this.inFlight -= 1;
    const latency = Number.isFinite(latencyMs) && latencyMs > 0 ? latencyMs : 0;
    this.averageLatencyMs = this.averageLatencyMs === 0 ? latency : this.averageLatencyMs * 0.9 + latency * 0.1;
    if (this.config.limit.kind === 'gradient') this.adapt(this.config.limit, latency, dropped, inFlightAtStart);
    this.serve();
  }

  /** Gradient2Limit's update (a drop is no RTT sample: its latency is the timeout, not the service's). */
  private adapt(bounds: { readonly min: number; readonly max: number }, rtt: number, dropped: boolean, inFlightAtStart: number): void {
    if (dropped) {
      this.estimate = Math.max(bounds.min, this.estimate * DROP_BACKOFF);
      return;
    }
    if (rtt <= 0) return;
    this.rttSamples += 1;
    this.longRtt = this.rttSamples <= WARMUP_SAMPLES ? this.longRtt + (rtt - this.longRtt) / this.rttSamples : this.longRtt * (1 - LONG_FACTOR) + rtt * LONG_FACTOR;
    // After a long overload the long-term RTT lags far above the current one: decay it faster.
    if (this.longRtt / rtt > 2) this.longRtt *= 0.9;
    // Not enough load to learn anything about the limit.
    if (inFlightAtStart < this.estimate / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (RTT_TOLERANCE * this.longRtt) / rtt));
    const target = this.estimate * gradient + Math.sqrt(this.estimate);
    this.estimate = Math.max(bounds.min, Math.min(bounds.max, this.estimate * (1 - SMOOTHING) + target * SMOOTHING));
  }

  /**
   * A queued request waited `maxWaitMs` without a slot. Everything queued at a lower priority is behind it and
   * is shed first, so a higher-priority request is never refused while a lower one still waits.
   */
  private expire(waiter: Waiter): void {
    for (let lower = waiter.rank + 1; lower <= rank.low; lower++) {
      for (let victim = this.tails[lower]; victim !== undefined; victim = this.tails[lower]) this.settle(victim, this.refusal('shed'));
    }
    this.settle(waiter, this.refusal('wait_timeout'));
  }

  /** Hands free slots to the queue, highest priority first; requests whose wait ran out are refused instead. */
  private serve(): void {
    while (this.queued > 0 && this.inFlight < this.limit()) {
      const waiter = this.heads[rank.high] ?? this.heads[rank.normal] ?? this.heads[rank.low];
      if (waiter === undefined) return;
      // Its timer is late (a blocked event loop): its caller has stopped waiting, so the slot goes to the next one.
      if (this.now() - waiter.enqueuedAt > this.config.maxWaitMs) {
        this.settle(waiter, this.refusal('wait_timeout'));
        continue;
      }
      this.inFlight += 1;
      this.settle(waiter, new Permit(this.onRelease, this.inFlight));
    }
  }

  private enqueue(waiter: Waiter): void {
    const tail = this.tails[waiter.rank];
    waiter.prev = tail;
    if (tail === undefined) this.heads[waiter.rank] = waiter;
    else tail.next = waiter;
    this.tails[waiter.rank] = waiter;
    this.counts[waiter.rank] += 1;
    this.queued += 1;
  }

  /** Takes `waiter` off the queue, clears its timer and abort listener, and resolves it (once). */
  private settle(waiter: Waiter, admission: Admission): void {
    if (waiter.timer === undefined) return;
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.signal = undefined;
    if (waiter.prev === undefined) this.heads[waiter.rank] = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.tails[waiter.rank] = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.counts[waiter.rank] -= 1;
    this.queued -= 1;
    waiter.resolve(admission);
  }

  /** Retry-After: the time the queue ahead would take to drain at the current limit and average latency, 1–60 s. */
  private refusal(reason: Refusal['reason']): Refusal {
    const drainMs = ((this.queued + 1) / this.limit()) * this.averageLatencyMs;
    return { ok: false, reason, retryAfterSeconds: Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(drainMs / 1000))) };
  }
}
