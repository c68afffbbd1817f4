import { BallastError, type Issue } from '../errors/index.js';

export const breakerStates = ['closed', 'open', 'half_open'] as const;
export type BreakerState = (typeof breakerStates)[number];

/** How one model version's breaker decides (resilience4j's circuit breaker, without timers). */
export interface BreakerConfig {
  /**
   * Sliding window: the last `size` recorded calls, or the calls recorded in the current 1-second
   * bucket and the `seconds - 1` before it, buckets being whole epoch seconds (floor(ms / 1000)):
   * a call recorded at t counts until floor(t / 1000) + seconds begins, i.e. for (seconds - 1, seconds] s.
   */
  readonly window: { readonly type: 'count'; readonly size: number } | { readonly type: 'time'; readonly seconds: number };
  /** No evaluation (never opens) before this many calls are in the window; at most `size` for a count window. */
  readonly minimumCalls: number;
  /** In (0, 1]: opens when failures / calls is at or above it. */
  readonly failureRateThreshold: number;
  /** In (0, 1]: opens when slow calls / calls is at or above it (1 opens only when every call was slow). */
  readonly slowCallRateThreshold: number;
  /** A call that took at least this long is slow, whether it succeeded or failed. */
  readonly slowCallDurationMs: number;
  /** Open moves to half-open once this long has passed, noticed on the next tryAcquire or snapshot. */
  readonly waitInOpenMs: number;
  /** At most this many probe calls are permitted in one half-open period; their outcomes decide. */
  readonly halfOpenProbes: number;
}

/** resilience4j's window size and thresholds, with a smaller minimum, a shorter wait and fewer probes. */
export const defaultBreakerConfig: BreakerConfig = {
  window: { type: 'count', size: 100 },
  minimumCalls: 20,
  failureRateThreshold: 0.5,
  slowCallRateThreshold: 1,
  slowCallDurationMs: 60_000,
  waitInOpenMs: 30_000,
  halfOpenProbes: 5,
};

/** One state change, with the counts of the state it left (the window, the probes, or what opened it). */
export interface BreakerTransition {
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** Milliseconds from the breaker's clock. */
  readonly at: number;
  /** One sentence, e.g. `failure rate 60% of the last 20 calls is at or above 50%`. */
  readonly reason: string;
  readonly calls: number;
  readonly failureRate: number;
  readonly slowCallRate: number;
}

/** Leave to call; opaque apart from whether it is a half-open probe. */
export interface BreakerPermit {
  readonly probe: boolean;
}

/**
 * What the breaker holds now. Counts are the window's when closed, the probes' recorded so far when
 * half-open, and those that opened it when open. `probesPermitted` counts the probes issued in this
 * half-open period and not released (recorded or in flight); both probe counts are 0 otherwise.
 * `openUntil` is absent unless open on its own account (a forced open holds until forceClose).
 */
export interface BreakerSnapshot {
  readonly state: BreakerState;
  readonly since: number;
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  readonly failureRate: number;
  readonly slowCallRate: number;
  readonly probesPermitted: number;
  readonly probesInFlight: number;
  readonly openUntil?: number;
}

export interface CircuitBreakerOptions {
  /** Milliseconds since the epoch; Date.now by default. */
  readonly now?: () => number;
  /** Called synchronously once per transition, after the state changed; what it throws reaches the caller. */
  readonly onTransition?: (t: BreakerTransition) => void;
  /** Called with each of its own calls that counted (record), so other processes' breakers of the same model can observe it. */
  readonly onCall?: (failed: boolean, durationMs: number) => void;
}

class Permit implements BreakerPermit {
  settled = false;
  constructor(
    readonly owner: CircuitBreaker,
    readonly generation: number,
    readonly probe: boolean,
  ) {}
}

interface SlidingWindow {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  /** Drops what has left the window by `now`. */
  expire(now: number): void;
  add(now: number, failed: boolean, slow: boolean): void;
  clear(): void;
}

const failedBit = 1;
const slowBit = 2;

/** A ring buffer of the last `size` outcomes, with running counts. */
class CountWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly outcomes: Uint8Array;
  private next = 0;

  constructor(size: number) {
    this.outcomes = new Uint8Array(size);
  }

  expire(): void {}

  add(_now: number, failed: boolean, slow: boolean): void {
    const outcomes = this.outcomes;
    if (this.calls === outcomes.length) {
      const old = outcomes[this.next]!;
      this.failures -= old & failedBit;
      this.slowCalls -= (old & slowBit) >> 1;
    } else {
      this.calls++;
    }
    outcomes[this.next] = (failed ? failedBit : 0) | (slow ? slowBit : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    this.next = this.next + 1 === outcomes.length ? 0 : this.next + 1;
  }

  clear(): void {
    this.outcomes.fill(0);
    this.calls = this.failures = this.slowCalls = this.next = 0;
  }
}

/** One bucket per epoch second, `seconds` of them, with running counts; a clock that steps back stands still. */
class TimeWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly bucketCalls: Uint32Array;
  private readonly bucketFailures: Uint32Array;
  private readonly bucketSlow: Uint32Array;
  private latest = Number.NEGATIVE_INFINITY;

  constructor(private readonly seconds: number) {
    this.bucketCalls = new Uint32Array(seconds);
    this.bucketFailures = new Uint32Array(seconds);
    this.bucketSlow = new Uint32Array(seconds);
  }

  expire(now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.latest) return;
    if (second - this.latest >= this.seconds) {
      this.clear();
    } else {
      for (let s = this.latest + 1; s <= second; s++) {
        const i = this.index(s);
        this.calls -= this.bucketCalls[i]!;
        this.failures -= this.bucketFailures[i]!;
        this.slowCalls -= this.bucketSlow[i]!;
        this.bucketCalls[i] = this.bucketFailures[i] = this.bucketSlow[i] = 0;
      }
    }
    this.latest = second;
  }

  add(now: number, failed: boolean, slow: boolean): void {
    this.expire(now);
    const i = this.index(this.latest);
    this.bucketCalls[i]!++;
    this.calls++;
    if (failed) {
      this.bucketFailures[i]!++;
      this.failures++;
    }
    if (slow) {
      this.bucketSlow[i]!++;
      this.slowCalls++;
    }
  }

  clear(): void {
    this.bucketCalls.fill(0);
    this.bucketFailures.fill(0);
    this.bucketSlow.fill(0);
    this.calls = this.failures = this.slowCalls = 0;
  }

  private index(second: number): number {
    const i = second % this.seconds;
    return i < 0 ? i + this.seconds : i;
  }
}

const rate = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
const percent = (r: number) => `${Math.round(r * 1000) / 10}%`;

/**
 * A circuit breaker for one model version, as resilience4j defines it: closed counts outcomes in a
 * sliding window and opens when the failure or slow-call rate reaches its threshold (once the
 * window holds `minimumCalls`); open refuses until `waitInOpenMs` has passed, then half-open
 * permits `halfOpenProbes` probes whose outcomes alone reopen it or close it with an empty window.
 * Every state change starts a new generation: a permit of an earlier one is ignored when it ends.
 * Pure: no timers, the clock is injected.
 */
export class CircuitBreaker {
  private readonly config: BreakerConfig;
  private readonly now: () => number;
  private readonly onTransition: ((t: BreakerTransition) => void) | undefined;
  private readonly onCall: ((failed: boolean, durationMs: number) => void) | undefined;
  private readonly window: SlidingWindow;
  private readonly timed: boolean;
  private state: BreakerState = 'closed';
  private generation = 0;
  private since: number;
  /** When open: the end of the wait, or +Infinity when forced. */
  private openUntil = 0;
  // Counts of the probes when half-open, of what opened the breaker when open.
  private heldCalls = 0;
  private heldFailures = 0;
  private heldSlow = 0;
  private probesInFlight = 0;

  constructor(config: BreakerConfig, options: CircuitBreakerOptions = {}) {
    validateBreakerConfig(config);
    this.config = config;
    this.now = options.now ?? Date.now;
    this.onTransition = options.onTransition;
    this.onCall = options.onCall;
    this.window = config.window.type === 'count' ? new CountWindow(config.window.size) : new TimeWindow(config.window.seconds);
    this.timed = config.window.type === 'time';
    this.since = this.now();
  }

  /** A permit to call, or undefined when the call is not permitted (open; or half-open with all probes issued). */
  tryAcquire(): BreakerPermit | undefined {
    if (this.state === 'closed') return new Permit(this, this.generation, false);
    if (this.state === 'open' && !this.waitElapsed()) return undefined;
    if (this.heldCalls + this.probesInFlight >= this.config.halfOpenProbes) return undefined;
    this.probesInFlight++;
    return new Permit(this, this.generation, true);
  }

  /** The call ended; `failed` says whether it failed, `durationMs` whether it was slow. Stale, foreign or repeated permits are ignored. */
  record(permit: BreakerPermit, failed: boolean, durationMs: number): void {
    if (!this.settle(permit)) return;
    this.onCall?.(failed, durationMs);
    const slow = durationMs >= this.config.slowCallDurationMs;
    if (this.state === 'closed') {
      this.count(failed, slow);
      return;
    }
    // Half-open: a probe of this period.
    this.probesInFlight--;
    this.heldCalls++;
    if (failed) this.heldFailures++;
    if (slow) this.heldSlow++;
    if (this.heldCalls < this.config.halfOpenProbes) return;
    if (this.trips(this.heldCalls, this.heldFailures, this.heldSlow)) {
      this.open(this.tripReason(this.heldCalls, this.heldFailures, this.heldSlow, true), this.now());
    } else {
      const c = this.config;
      const reason = `failure rate ${percent(this.heldFailures / this.heldCalls)} and slow call rate ${percent(this.heldSlow / this.heldCalls)} of ${this.heldCalls} probe calls are below ${percent(c.failureRateThreshold)} and ${percent(c.slowCallRateThreshold)}`;
      this.close(reason, this.now());
    }
  }

  /**
   * A call another process made to the same model (decision workers tell each other what each saw, so every
   * worker's breaker judges all the traffic): a closed breaker counts it like one of its own; open and half-open
   * ones ignore it (a half-open breaker judges only its own probes).
   */
  observe(failed: boolean, durationMs: number): void {
    if (this.state === 'closed') this.count(failed, durationMs >= this.config.slowCallDurationMs);
  }

  private count(failed: boolean, slow: boolean): void {
    const w = this.window;
    // A count window needs no clock until it opens (a clock read can cost more than the rest).
    const now = this.timed ? this.now() : 0;
    w.add(now, failed, slow);
    if (w.calls >= this.config.minimumCalls && this.trips(w.calls, w.failures, w.slowCalls)) {
      this.open(this.tripReason(w.calls, w.failures, w.slowCalls, false), this.timed ? now : this.now());
    }
  }

  /** The call ended without a result that counts (e.g. the caller aborted): frees a half-open probe slot without counting. */
  release(permit: BreakerPermit): void {
    if (this.settle(permit) && permit.probe) this.probesInFlight--;
  }

  /** Operator action: open now and hold open until forceClose (restarts the hold when already open). */
  forceOpen(reason: string): void {
    const t = this.transition('open', `forced open by an operator: ${reason}`, this.now());
    this.openUntil = Number.POSITIVE_INFINITY;
    this.onTransition?.(t);
  }

  /** Operator action: close now with an empty window (also when already closed). */
  forceClose(reason: string): void {
    this.close(`forced closed by an operator: ${reason}`, this.now());
  }

  /** The state and its counts now (may first move open to half-open, as tryAcquire would). */
  snapshot(): BreakerSnapshot {
    if (this.state === 'open') this.waitElapsed();
    let calls = this.heldCalls;
    let failures = this.heldFailures;
    let slowCalls = this.heldSlow;
    if (this.state === 'closed') {
      this.window.expire(this.now());
      ({ calls, failures, slowCalls } = this.window);
    }
    const halfOpen = this.state === 'half_open';
    return {
      state: this.state,
      since: this.since,
      calls,
      failures,
      slowCalls,
      failureRate: rate(failures, calls),
      slowCallRate: rate(slowCalls, calls),
      probesPermitted: halfOpen ? this.heldCalls + this.probesInFlight : 0,
      probesInFlight: halfOpen ? this.probesInFlight : 0,
      ...(this.state === 'open' && this.openUntil !== Number.POSITIVE_INFINITY ? { openUntil: this.openUntil } : {}),
    };
  }

  /** Marks a permit of this breaker's current generation as ended; false for any other permit. */
  private settle(permit: BreakerPermit): permit is Permit {
    if (!(permit instanceof Permit) || permit.owner !== this || permit.settled || permit.generation !== this.generation) return false;
    permit.settled = true;
    return true;
  }

  private trips(calls: number, failures: number, slowCalls: number): boolean {
    return failures / calls >= this.config.failureRateThreshold || slowCalls / calls >= this.config.slowCallRateThreshold;
  }

  private tripReason(calls: number, failures: number, slowCalls: number, probes: boolean): string {
    const c = this.config;
    const failing = failures / calls >= c.failureRateThreshold;
    const what = failing ? `failure rate ${percent(failures / calls)}` : `slow call rate ${percent(slowCalls / calls)}`;
    const of = probes ? `${calls} probe calls` : c.window.type === 'count' ? `the last ${calls} calls` : `${calls} calls in the last ${c.window.seconds} s`;
    return `${what} of ${of} is at or above ${percent(failing ? c.failureRateThreshold : c.slowCallRateThreshold)}`;
  }

  /** Moves open to half-open once the wait is over; true when half-open now. */
  private waitElapsed(): boolean {
    const now = this.now();
    if (now < this.openUntil) return false;
    const t = this.transition('half_open', `waited ${this.config.waitInOpenMs} ms in open; permitting up to ${this.config.halfOpenProbes} probe calls`, now);
    this.hold(0, 0, 0);
    this.onTransition?.(t);
    return true;
  }

  private open(reason: string, at: number): void {
    const t = this.transition('open', reason, at);
    this.openUntil = at + this.config.waitInOpenMs;
    this.onTransition?.(t);
  }

  private close(reason: string, at: number): void {
    const t = this.transition('closed', reason, at);
    this.window.clear();
    this.hold(0, 0, 0);
    this.onTransition?.(t);
  }

  private hold(calls: number, failures: number, slowCalls: number): void {
    this.heldCalls = calls;
    this.heldFailures = failures;
    this.heldSlow = slowCalls;
  }

  /** Changes state at `at`; returns the transition (with the counts of the state left) for the caller to emit once its state is whole. */
  private transition(to: BreakerState, reason: string, at: number): BreakerTransition {
    const from = this.state;
    if (from === 'closed') {
      this.window.expire(at);
      this.hold(this.window.calls, this.window.failures, this.window.slowCalls);
    }
    const calls = this.heldCalls;
    const failures = this.heldFailures;
    const slowCalls = this.heldSlow;
    this.state = to;
    this.generation++;
    this.since = at;
    this.probesInFlight = 0;
    return { from, to, at, reason, calls, failureRate: rate(failures, calls), slowCallRate: rate(slowCalls, calls) };
  }
}

/** Throws CONFIG_INVALID listing every field of `config` that makes no sense. */
function validateBreakerConfig(config: BreakerConfig): void {
  const issues: Issue[] = [];
  const check = (ok: boolean, pointer: string, message: string) => {
    if (!ok) issues.push({ pointer, code: 'range', message });
  };
  const isCount = (n: number, min: number) => Number.isSafeInteger(n) && n >= min;
  const w = config.window;
  if (w.type === 'count') check(isCount(w.size, 1), '/window/size', `The window size must be a whole number of calls >= 1, got ${w.size}.`);
  else if (w.type === 'time') check(isCount(w.seconds, 1), '/window/seconds', `The window must be a whole number of seconds >= 1, got ${w.seconds}.`);
  else issues.push({ pointer: '/window/type', code: 'enum', message: `The window type must be 'count' or 'time', got ${JSON.stringify((w as { type: unknown }).type)}.` });
  check(isCount(config.minimumCalls, 1), '/minimumCalls', `minimumCalls must be a whole number >= 1, got ${config.minimumCalls}.`);
  if (w.type === 'count' && isCount(w.size, 1) && isCount(config.minimumCalls, 1)) {
    check(config.minimumCalls <= w.size, '/minimumCalls', `minimumCalls (${config.minimumCalls}) must not exceed the window size (${w.size}): the breaker could never open.`);
  }
  const isRate = (r: number) => r > 0 && r <= 1;
  check(isRate(config.failureRateThreshold), '/failureRateThreshold', `failureRateThreshold must be in (0, 1], got ${config.failureRateThreshold}.`);
  check(isRate(config.slowCallRateThreshold), '/slowCallRateThreshold', `slowCallRateThreshold must be in (0, 1], got ${config.slowCallRateThreshold}.`);
  check(Number.isFinite(config.slowCallDurationMs) && config.slowCallDurationMs > 0, '/slowCallDurationMs', `slowCallDurationMs must be a finite number > 0, got ${config.slowCallDurationMs}.`);
  check(Number.isFinite(config.waitInOpenMs) && config.waitInOpenMs >= 0, '/waitInOpenMs', `waitInOpenMs must be a finite number >= 0, got ${config.waitInOpenMs}.`);
  check(isCount(config.halfOpenProbes, 1), '/halfOpenProbes', `halfOpenProbes must be a whole number >= 1, got ${config.halfOpenProbes}.`);
  if (issues.length > 0) {
    throw new BallastError('CONFIG_INVALID', { detail: `The circuit breaker configuration is invalid: ${issues.map((i) => i.message).join(' ')}`, issues });
  }
}
