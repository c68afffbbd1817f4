import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BallastError } from '../errors/index.js';
import { CircuitBreaker, defaultBreakerConfig, type BreakerConfig, type BreakerPermit, type BreakerSnapshot, type BreakerState, type BreakerTransition } from './circuit-breaker.js';

const t0 = 1_700_000_000_000;

function setup(overrides: Partial<BreakerConfig> = {}) {
  const clock = { now: t0 };
  const transitions: BreakerTransition[] = [];
  const config: BreakerConfig = { ...defaultBreakerConfig, window: { type: 'count', size: 10 }, minimumCalls: 5, waitInOpenMs: 1000, halfOpenProbes: 3, slowCallDurationMs: 100, ...overrides };
  const breaker = new CircuitBreaker(config, { now: () => clock.now, onTransition: (t) => transitions.push(t) });
  /** Acquires and records one call at once. */
  const call = (failed: boolean, durationMs = 1) => {
    const permit = breaker.tryAcquire();
    if (permit === undefined) throw new Error('not permitted');
    breaker.record(permit, failed, durationMs);
  };
  return { clock, transitions, breaker, call };
}

describe('CircuitBreaker: closed', () => {
  it('stays closed below minimumCalls even when every call failed, and opens at the minimum', () => {
    const { breaker, call, transitions } = setup();
    for (let i = 0; i < 4; i++) call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 4, failures: 4, failureRate: 1 });
    expect(transitions).toEqual([]);
    call(true);
    expect(transitions).toEqual([{ from: 'closed', to: 'open', at: t0, reason: 'failure rate 100% of the last 5 calls is at or above 50%', calls: 5, failureRate: 1, slowCallRate: 0 }]);
  });

  it('opens when the failure rate reaches the threshold exactly, not just below it', () => {
    const { breaker, call, transitions } = setup({ minimumCalls: 10 });
    for (let i = 0; i < 6; i++) call(false);
    for (let i = 0; i < 4; i++) call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 10, failures: 4, failureRate: 0.4 });
    // The ring drops the oldest success: 5 failures of the last 10.
    call(true);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ from: 'closed', to: 'open', calls: 10, failureRate: 0.5, reason: 'failure rate 50% of the last 10 calls is at or above 50%' });
  });

  it('keeps only the last `size` outcomes: old failures leave the window', () => {
    const { breaker, call } = setup({ window: { type: 'count', size: 4 }, minimumCalls: 4, failureRateThreshold: 0.75 });
    call(true);
    call(true);
    call(false);
    call(false);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 4, failures: 2 });
    call(false);
    call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 4, failures: 1, failureRate: 0.25 });
    call(true);
    call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', calls: 4, failures: 3, failureRate: 0.75 });
  });

  it('counts a call as slow at the slow duration, not below it, whether it succeeded or failed', () => {
    const { breaker, call, transitions } = setup({ slowCallRateThreshold: 0.6, failureRateThreshold: 1 });
    call(false, 99.999);
    call(false, 100);
    call(true, 5000);
    call(false, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 4, failures: 1, slowCalls: 2, slowCallRate: 0.5 });
    call(false, 100);
    expect(transitions).toEqual([{ from: 'closed', to: 'open', at: t0, reason: 'slow call rate 60% of the last 5 calls is at or above 60%', calls: 5, failureRate: 0.2, slowCallRate: 0.6 }]);
  });

  it('with the default slow threshold of 1, opens on slowness only when every call in the window was slow', () => {
    const { breaker, call } = setup({ slowCallRateThreshold: 1, minimumCalls: 10, failureRateThreshold: 1 });
    call(false, 99);
    for (let i = 0; i < 9; i++) call(false, 100);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 10, slowCalls: 9 });
    call(false, 100);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', slowCalls: 10, slowCallRate: 1 });
  });

  it('does not evaluate on time passing alone, only after a record', () => {
    const { breaker, call, clock } = setup({ window: { type: 'time', seconds: 2 }, minimumCalls: 2 });
    call(false);
    call(false);
    call(true);
    clock.now += 1000;
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 3, failures: 1 });
    clock.now += 1000;
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
    call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1 });
    call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', calls: 2, failures: 2 });
  });
});

describe('CircuitBreaker: time window', () => {
  it('counts a call for the rest of its epoch second and the next `seconds - 1`, then drops it', () => {
    const { breaker, call, clock } = setup({ window: { type: 'time', seconds: 10 }, minimumCalls: 100 });
    clock.now = 10_999; // second 10
    call(true);
    clock.now = 11_000; // second 11
    call(false);
    clock.now = 19_999; // second 19: both still in
    expect(breaker.snapshot()).toMatchObject({ calls: 2, failures: 1 });
    clock.now = 20_000; // second 20: second 10 has left
    expect(breaker.snapshot()).toMatchObject({ calls: 1, failures: 0 });
    clock.now = 20_999;
    expect(breaker.snapshot()).toMatchObject({ calls: 1 });
    clock.now = 21_000;
    expect(breaker.snapshot()).toMatchObject({ calls: 0 });
  });

  it('clears everything after a gap longer than the window, and treats a clock stepping back as standing still', () => {
    const { breaker, call, clock } = setup({ window: { type: 'time', seconds: 3 }, minimumCalls: 100 });
    for (let i = 0; i < 5; i++) call(true);
    clock.now += 3_600_000;
    expect(breaker.snapshot().calls).toBe(0);
    call(false);
    clock.now -= 10_000;
    call(true);
    expect(breaker.snapshot()).toMatchObject({ calls: 2, failures: 1 });
    clock.now += 10_000 + 2000; // two seconds after the first: both still in
    expect(breaker.snapshot()).toMatchObject({ calls: 2 });
    clock.now += 1000;
    expect(breaker.snapshot()).toMatchObject({ calls: 0 });
  });

  it('names the window in the reason', () => {
    const { call, transitions } = setup({ window: { type: 'time', seconds: 10 }, minimumCalls: 2 });
    call(true);
    call(false);
    expect(transitions[0]?.reason).toBe('failure rate 50% of 2 calls in the last 10 s is at or above 50%');
  });
});

describe('CircuitBreaker: open and half-open', () => {
  function opened(overrides: Partial<BreakerConfig> = {}) {
    const s = setup(overrides);
    for (let i = 0; i < 5; i++) s.call(true);
    expect(s.breaker.snapshot().state).toBe('open');
    return s;
  }

  it('refuses until the wait is over, then moves to half-open on the next tryAcquire', () => {
    const { breaker, clock, transitions } = opened();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', since: t0, openUntil: t0 + 1000, calls: 5, failures: 5 });
    clock.now = t0 + 999;
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(transitions).toHaveLength(1);
    clock.now = t0 + 1000;
    const permit = breaker.tryAcquire();
    expect(permit?.probe).toBe(true);
    expect(transitions[1]).toEqual({ from: 'open', to: 'half_open', at: t0 + 1000, reason: 'waited 1000 ms in open; permitting up to 3 probe calls', calls: 5, failureRate: 1, slowCallRate: 0 });
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', since: t0 + 1000, calls: 0, probesPermitted: 1, probesInFlight: 1 });
    expect(breaker.snapshot().openUntil).toBeUndefined();
  });

  it('moves to half-open on a snapshot too', () => {
    const { breaker, clock, transitions } = opened();
    clock.now = t0 + 5000;
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', since: t0 + 5000, probesPermitted: 0 });
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open']);
  });

  it('issues at most halfOpenProbes probes; a released one frees its slot', () => {
    const { breaker, clock } = opened();
    clock.now = t0 + 1000;
    const probes = [breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()];
    expect(probes.every((p) => p?.probe === true)).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();
    breaker.release(probes[1]!);
    expect(breaker.snapshot()).toMatchObject({ probesPermitted: 2, probesInFlight: 2, calls: 0 });
    // Releasing twice frees nothing more.
    breaker.release(probes[1]!);
    expect(breaker.snapshot()).toMatchObject({ probesPermitted: 2, probesInFlight: 2 });
    expect(breaker.tryAcquire()?.probe).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();
  });

  it('closes with an empty window when the probes pass', () => {
    const { breaker, clock, transitions, call } = opened();
    clock.now = t0 + 1000;
    const probes = [breaker.tryAcquire()!, breaker.tryAcquire()!, breaker.tryAcquire()!];
    breaker.record(probes[0]!, false, 1);
    breaker.record(probes[1]!, true, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', calls: 2, failures: 1, probesPermitted: 3, probesInFlight: 1 });
    clock.now = t0 + 1200;
    breaker.record(probes[2]!, false, 150);
    expect(transitions[2]).toEqual({
      from: 'half_open',
      to: 'closed',
      at: t0 + 1200,
      reason: 'failure rate 33.3% and slow call rate 33.3% of 3 probe calls are below 50% and 100%',
      calls: 3,
      failureRate: 1 / 3,
      slowCallRate: 1 / 3,
    });
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', since: t0 + 1200, calls: 0, failures: 0, probesPermitted: 0, probesInFlight: 0 });
    // A fresh window: four failures do not reopen it.
    for (let i = 0; i < 4; i++) call(true);
    expect(breaker.snapshot().state).toBe('closed');
  });

  it('opens again, with a new wait, when the probes fail', () => {
    const { breaker, clock, transitions } = opened();
    clock.now = t0 + 1000;
    const probes = [breaker.tryAcquire()!, breaker.tryAcquire()!, breaker.tryAcquire()!];
    breaker.record(probes[0]!, true, 1);
    breaker.record(probes[1]!, false, 1);
    clock.now = t0 + 1500;
    breaker.record(probes[2]!, true, 1);
    expect(transitions[2]).toEqual({ from: 'half_open', to: 'open', at: t0 + 1500, reason: 'failure rate 66.7% of 3 probe calls is at or above 50%', calls: 3, failureRate: 2 / 3, slowCallRate: 0 });
    expect(breaker.snapshot()).toMatchObject({ state: 'open', since: t0 + 1500, openUntil: t0 + 2500, calls: 3, failures: 2 });
    clock.now = t0 + 2499;
    expect(breaker.tryAcquire()).toBeUndefined();
    clock.now = t0 + 2500;
    expect(breaker.tryAcquire()?.probe).toBe(true);
  });

  it('opens again when the probes are slow', () => {
    const { breaker, clock, transitions } = opened({ slowCallRateThreshold: 0.5, halfOpenProbes: 2 });
    clock.now = t0 + 1000;
    const probes = [breaker.tryAcquire()!, breaker.tryAcquire()!];
    breaker.record(probes[0]!, false, 100);
    breaker.record(probes[1]!, false, 1);
    expect(transitions[2]).toMatchObject({ from: 'half_open', to: 'open', reason: 'slow call rate 50% of 2 probe calls is at or above 50%', slowCallRate: 0.5 });
  });

  it('ignores permits of an earlier generation: they neither count nor free probe slots', () => {
    const { breaker, clock, call } = setup();
    const early = [breaker.tryAcquire()!, breaker.tryAcquire()!];
    for (let i = 0; i < 5; i++) call(true);
    breaker.record(early[0]!, false, 1); // recorded while open
    expect(breaker.snapshot()).toMatchObject({ state: 'open', calls: 5, failures: 5 });
    clock.now = t0 + 1000;
    const probes = [breaker.tryAcquire()!, breaker.tryAcquire()!, breaker.tryAcquire()!];
    breaker.record(early[1]!, false, 1); // a closed permit in half-open
    breaker.release(early[1]!);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', calls: 0, probesPermitted: 3, probesInFlight: 3 });
    for (const p of probes) breaker.record(p, true, 1);
    clock.now = t0 + 2000;
    const next = breaker.tryAcquire()!;
    // Probes of the previous half-open period, recorded again, change nothing in this one.
    breaker.record(probes[0]!, false, 1);
    breaker.release(probes[1]!);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', calls: 0, probesPermitted: 1, probesInFlight: 1 });
    breaker.release(next);
    expect(breaker.snapshot()).toMatchObject({ probesPermitted: 0, probesInFlight: 0 });
  });

  it('ignores a permit recorded twice and a permit of another breaker', () => {
    const { breaker } = setup();
    const other = setup().breaker;
    const p = breaker.tryAcquire()!;
    breaker.record(p, true, 1);
    breaker.record(p, true, 1);
    breaker.record(other.tryAcquire()!, true, 1);
    breaker.record({ probe: false }, true, 1);
    expect(breaker.snapshot()).toMatchObject({ calls: 1, failures: 1 });
  });
});

describe('CircuitBreaker: transition listener', () => {
  it('sees the whole new state when it looks, and a throwing listener leaves the state whole', () => {
    const clock = { now: t0 };
    const seen: BreakerSnapshot[] = [];
    const config = { ...defaultBreakerConfig, window: { type: 'count', size: 2 }, minimumCalls: 2, waitInOpenMs: 100 } as const;
    const breaker: CircuitBreaker = new CircuitBreaker(config, { now: () => clock.now, onTransition: () => seen.push(breaker.snapshot()) });
    breaker.record(breaker.tryAcquire()!, true, 1);
    breaker.record(breaker.tryAcquire()!, true, 1);
    expect(seen).toEqual([expect.objectContaining({ state: 'open', openUntil: t0 + 100, calls: 2 })]);

    const throwing = new CircuitBreaker(config, {
      now: () => clock.now,
      onTransition: () => {
        throw new Error('listener bug');
      },
    });
    throwing.record(throwing.tryAcquire()!, true, 1);
    expect(() => throwing.record(throwing.tryAcquire()!, true, 1)).toThrow('listener bug');
    expect(throwing.snapshot()).toMatchObject({ state: 'open', openUntil: t0 + 100 });
    expect(throwing.tryAcquire()).toBeUndefined();
  });
});

describe('CircuitBreaker: operator actions', () => {
  it('forceOpen holds open past the wait until forceClose, which starts an empty window', () => {
    const { breaker, call, clock, transitions } = setup();
    call(true);
    call(false);
    clock.now = t0 + 10;
    breaker.forceOpen('model server maintenance');
    expect(transitions[0]).toEqual({ from: 'closed', to: 'open', at: t0 + 10, reason: 'forced open by an operator: model server maintenance', calls: 2, failureRate: 0.5, slowCallRate: 0 });
    clock.now = t0 + 86_400_000;
    expect(breaker.tryAcquire()).toBeUndefined();
    const snap = breaker.snapshot();
    expect(snap).toMatchObject({ state: 'open', since: t0 + 10, calls: 2 });
    expect(snap.openUntil).toBeUndefined();
    breaker.forceClose('maintenance over');
    expect(transitions[1]).toMatchObject({ from: 'open', to: 'closed', reason: 'forced closed by an operator: maintenance over', calls: 2 });
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
    expect(breaker.tryAcquire()).toBeDefined();
  });

  it('forceClose when closed is still a transition and resets the window; forceOpen from half-open drops its probes', () => {
    const { breaker, call, clock, transitions } = setup();
    for (let i = 0; i < 4; i++) call(true);
    breaker.forceClose('reset after deploy');
    expect(transitions[0]).toMatchObject({ from: 'closed', to: 'closed', calls: 4, failureRate: 1 });
    call(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1 });
    for (let i = 0; i < 4; i++) call(true);
    clock.now += 1000;
    const probe = breaker.tryAcquire()!;
    breaker.forceOpen('still broken');
    expect(transitions.slice(1).map((t) => [t.from, t.to])).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'open'],
    ]);
    breaker.record(probe, false, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', probesInFlight: 0 });
  });
});

describe('CircuitBreaker: configuration', () => {
  it('accepts the defaults', () => {
    expect(new CircuitBreaker(defaultBreakerConfig).snapshot().state).toBe('closed');
  });

  it('lists every nonsensical field as a CONFIG_INVALID issue', () => {
    const bad = { window: { type: 'count', size: 0 }, minimumCalls: 0.5, failureRateThreshold: 0, slowCallRateThreshold: 1.5, slowCallDurationMs: -1, waitInOpenMs: Number.NaN, halfOpenProbes: 0 } as const;
    let error: unknown;
    try {
      new CircuitBreaker(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BallastError);
    expect((error as BallastError).code).toBe('CONFIG_INVALID');
    expect((error as BallastError).issues.map((i) => [i.pointer, i.code])).toEqual([
      ['/window/size', 'range'],
      ['/minimumCalls', 'range'],
      ['/failureRateThreshold', 'range'],
      ['/slowCallRateThreshold', 'range'],
      ['/slowCallDurationMs', 'range'],
      ['/waitInOpenMs', 'range'],
      ['/halfOpenProbes', 'range'],
    ]);
  });

  it('refuses a minimumCalls the count window can never hold, a bad time window and an unknown window type', () => {
    const issues = (config: unknown) => {
      try {
        new CircuitBreaker({ ...defaultBreakerConfig, ...(config as Partial<BreakerConfig>) });
      } catch (e) {
        return (e as BallastError).issues.map((i) => i.pointer);
      }
      return [];
    };
    expect(issues({ window: { type: 'count', size: 10 }, minimumCalls: 11 })).toEqual(['/minimumCalls']);
    expect(issues({ window: { type: 'time', seconds: 60 }, minimumCalls: 1000 })).toEqual([]);
    expect(issues({ window: { type: 'time', seconds: 1.5 } })).toEqual(['/window/seconds']);
    expect(issues({ window: { type: 'sliding', size: 10 } })).toEqual(['/window/type']);
    expect(issues({ failureRateThreshold: 1, slowCallRateThreshold: 0.01, waitInOpenMs: 0 })).toEqual([]);
  });
});

// ---- The reference model: the specification written the slow, obvious way. ----

interface ModelPermit {
  readonly generation: number;
  readonly probe: boolean;
  settled: boolean;
}

interface Outcome {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

class ReferenceBreaker {
  state: BreakerState = 'closed';
  since: number;
  generation = 0;
  openUntil: number | undefined;
  /** Every outcome recorded since the window was last emptied. */
  outcomes: Outcome[] = [];
  /** The counts that opened it (open) or the probes recorded (half-open). */
  held = { calls: 0, failures: 0, slow: 0 };
  probes: ModelPermit[] = [];
  readonly transitions: BreakerTransition[] = [];

  constructor(
    readonly config: BreakerConfig,
    readonly clock: { now: number },
  ) {
    this.since = clock.now;
  }

  window(): { calls: number; failures: number; slow: number } {
    const w = this.config.window;
    const now = this.clock.now;
    const inWindow = w.type === 'count' ? this.outcomes.slice(-w.size) : this.outcomes.filter((o) => Math.floor(o.at / 1000) > Math.floor(now / 1000) - w.seconds);
    return { calls: inWindow.length, failures: inWindow.filter((o) => o.failed).length, slow: inWindow.filter((o) => o.slow).length };
  }

  counts(): { calls: number; failures: number; slow: number } {
    return this.state === 'closed' ? this.window() : this.held;
  }

  move(to: BreakerState, reason: string): void {
    const c = this.counts();
    this.held = { ...c };
    this.transitions.push({ from: this.state, to, at: this.clock.now, reason, calls: c.calls, failureRate: c.calls === 0 ? 0 : c.failures / c.calls, slowCallRate: c.calls === 0 ? 0 : c.slow / c.calls });
    this.state = to;
    this.generation++;
    this.since = this.clock.now;
    this.probes = [];
    this.openUntil = undefined;
    if (to === 'closed') this.outcomes = [];
    if (to !== 'open') this.held = { calls: 0, failures: 0, slow: 0 };
  }

  tripped(c: { calls: number; failures: number; slow: number }): boolean {
    return c.failures / c.calls >= this.config.failureRateThreshold || c.slow / c.calls >= this.config.slowCallRateThreshold;
  }

  lazyHalfOpen(): void {
    if (this.state === 'open' && this.openUntil !== undefined && this.clock.now >= this.openUntil) this.move('half_open', 'wait');
  }

  acquire(): ModelPermit | undefined {
    this.lazyHalfOpen();
    if (this.state === 'closed') return { generation: this.generation, probe: false, settled: false };
    if (this.state === 'open') return undefined;
    if (this.probes.length >= this.config.halfOpenProbes) return undefined;
    const p = { generation: this.generation, probe: true, settled: false };
    this.probes.push(p);
    return p;
  }

  record(p: ModelPermit, failed: boolean, durationMs: number): void {
    if (p.settled || p.generation !== this.generation) return;
    p.settled = true;
    const slow = durationMs >= this.config.slowCallDurationMs;
    if (this.state === 'closed') {
      this.outcomes.push({ at: this.clock.now, failed, slow });
      const w = this.window();
      if (w.calls >= this.config.minimumCalls && this.tripped(w)) this.open('trip');
      return;
    }
    this.held.calls++;
    if (failed) this.held.failures++;
    if (slow) this.held.slow++;
    if (this.held.calls === this.config.halfOpenProbes) {
      if (this.tripped(this.held)) this.open('probes failed');
      else this.move('closed', 'probes passed');
    }
  }

  release(p: ModelPermit): void {
    if (p.settled || p.generation !== this.generation) return;
    p.settled = true;
    this.probes = this.probes.filter((q) => q !== p);
  }

  open(reason: string): void {
    this.move('open', reason);
    this.openUntil = this.clock.now + this.config.waitInOpenMs;
  }

  forceOpen(): void {
    this.move('open', 'forced');
  }

  snapshot(): Omit<BreakerSnapshot, 'failureRate' | 'slowCallRate'> {
    this.lazyHalfOpen();
    const c = this.counts();
    const halfOpen = this.state === 'half_open';
    return {
      state: this.state,
      since: this.since,
      calls: c.calls,
      failures: c.failures,
      slowCalls: c.slow,
      probesPermitted: halfOpen ? this.probes.length : 0,
      probesInFlight: halfOpen ? this.probes.filter((p) => !p.settled).length : 0,
      ...(this.openUntil !== undefined && this.state === 'open' ? { openUntil: this.openUntil } : {}),
    };
  }
}

type Op =
  | { readonly kind: 'acquire' }
  | { readonly kind: 'record'; readonly pick: number; readonly failed: boolean; readonly durationMs: number }
  | { readonly kind: 'release'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'forceOpen' }
  | { readonly kind: 'forceClose' };

const anyConfig: fc.Arbitrary<BreakerConfig> = fc
  .record({
    window: fc.oneof(fc.record({ type: fc.constant('count' as const), size: fc.integer({ min: 1, max: 12 }) }), fc.record({ type: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 5 }) })),
    minimumCalls: fc.integer({ min: 1, max: 12 }),
    failureRateThreshold: fc.oneof(fc.constantFrom(0.2, 0.5, 1), fc.double({ min: 0.01, max: 1, noNaN: true })),
    slowCallRateThreshold: fc.oneof(fc.constantFrom(0.3, 1), fc.double({ min: 0.01, max: 1, noNaN: true })),
    slowCallDurationMs: fc.integer({ min: 1, max: 100 }),
    waitInOpenMs: fc.integer({ min: 0, max: 3000 }),
    halfOpenProbes: fc.integer({ min: 1, max: 4 }),
  })
  .map((c) => (c.window.type === 'count' ? { ...c, minimumCalls: Math.min(c.minimumCalls, c.window.size) } : c));

const anyOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('record' as const), pick: fc.oneof(fc.nat({ max: 2 }), fc.nat()), failed: fc.boolean(), durationMs: fc.integer({ min: 0, max: 150 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.oneof(fc.nat({ max: 2 }), fc.nat()) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 4000 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'forceOpen' as const }, { kind: 'forceClose' as const }) },
);

describe('CircuitBreaker against the reference model', () => {
  it('agrees on every transition and count, and keeps the invariants, over arbitrary call sequences', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(anyConfig, fc.array(anyOp, { maxLength: 300, size: 'max' }), fc.boolean(), (config, ops, forcing) => {
        const clock = { now: t0 + 123 };
        const emitted: BreakerTransition[] = [];
        const breaker = new CircuitBreaker(config, { now: () => clock.now, onTransition: (t) => emitted.push(t) });
        const model = new ReferenceBreaker(config, clock);
        // Permits still held by the caller, real and model side by side.
        const held: { real: BreakerPermit; model: ModelPermit }[] = [];
        let checked = 0;
        /** Half-open period number -> probes issued and not released in it. */
        let period = 0;
        let probesInPeriod = 0;
        let lastOpen: BreakerTransition | undefined;

        const checkTransitions = () => {
          expect(emitted.length).toBe(model.transitions.length);
          for (; checked < emitted.length; checked++) {
            const t = emitted[checked]!;
            const { reason: _, ...expected } = model.transitions[checked]!;
            expect(t).toMatchObject(expected);
            seen.add(`${t.from}>${t.to}`);
            // A chain: each starts where the previous ended.
            expect(t.from).toBe(checked === 0 ? 'closed' : emitted[checked - 1]!.to);
            expect(t.reason.length).toBeGreaterThan(0);
            if (t.from === 'closed' && t.to === 'open' && !t.reason.startsWith('forced')) expect(t.calls).toBeGreaterThanOrEqual(config.minimumCalls);
            if (t.to === 'open') lastOpen = t;
            if (t.from === 'open' && t.to === 'half_open') {
              // Never before the wait of a breaker that opened on its own; never out of a forced open.
              expect(lastOpen?.reason.startsWith('forced')).toBe(false);
              expect(t.at).toBeGreaterThanOrEqual(lastOpen!.at + config.waitInOpenMs);
            }
            if (t.to === 'half_open') {
              period++;
              probesInPeriod = 0;
            }
          }
        };

        for (const op of ops) {
          const before = emitted.at(-1)?.to ?? 'closed';
          switch (op.kind) {
            case 'acquire': {
              const real = breaker.tryAcquire();
              const ref = model.acquire();
              checkTransitions();
              expect(real === undefined).toBe(ref === undefined);
              if (real !== undefined && ref !== undefined) {
                expect(real.probe).toBe(ref.probe);
                if (real.probe) probesInPeriod++;
                expect(probesInPeriod).toBeLessThanOrEqual(config.halfOpenProbes);
                held.push({ real, model: ref });
              }
              if (before === 'open' && real !== undefined) expect(clock.now).toBeGreaterThanOrEqual(lastOpen!.at + config.waitInOpenMs);
              break;
            }
            case 'record':
            case 'release': {
              if (held.length === 0) break;
              // Mostly one of the newest permits, sometimes an old (often stale) one.
              const index = held.length - 1 - (op.pick % held.length);
              const p = held[index]!;
              // Sometimes the caller records a permit twice: the breaker must ignore the second.
              if (op.pick % 7 !== 0) held.splice(index, 1);
              const countsInPeriod = p.model.probe && p.model.generation === model.generation && !p.model.settled;
              if (op.kind === 'record') {
                breaker.record(p.real, op.failed, op.durationMs);
                model.record(p.model, op.failed, op.durationMs);
              } else {
                if (countsInPeriod) probesInPeriod--;
                breaker.release(p.real);
                model.release(p.model);
              }
              break;
            }
            case 'advance':
              clock.now += op.ms;
              break;
            case 'snapshot':
              break;
            case 'forceOpen':
              if (!forcing) break;
              breaker.forceOpen('test');
              model.forceOpen();
              break;
            case 'forceClose':
              if (!forcing) break;
              breaker.forceClose('test');
              model.move('closed', 'forced');
              break;
          }
          checkTransitions();
          // A snapshot of an open breaker may move it to half-open: only on snapshot ops, so tryAcquire does it too.
          if (op.kind !== 'snapshot' && (emitted.at(-1)?.to ?? 'closed') === 'open') continue;
          const snap = breaker.snapshot();
          const ref = model.snapshot();
          checkTransitions();
          const { failureRate, slowCallRate, ...counts } = snap;
          expect(counts).toEqual(ref);
          expect(failureRate).toBe(ref.calls === 0 ? 0 : ref.failures / ref.calls);
          expect(slowCallRate).toBe(ref.calls === 0 ? 0 : ref.slowCalls / ref.calls);
          expect(snap.state).toBe(emitted.at(-1)?.to ?? 'closed');
          expect(snap.probesPermitted).toBeLessThanOrEqual(config.halfOpenProbes);
          if (snap.state === 'half_open') expect(snap.probesPermitted).toBe(probesInPeriod);
          expect(snap.probesInFlight).toBeLessThanOrEqual(snap.probesPermitted);
        }
        expect(period).toBe(emitted.filter((t) => t.to === 'half_open').length);
      }),
      { numRuns: 250 },
    );
    // Not vacuous: the sequences reach every transition, operator ones included.
    expect([...seen].sort()).toEqual(['closed>closed', 'closed>open', 'half_open>closed', 'half_open>open', 'open>closed', 'open>half_open', 'open>open']);
  });
});

describe('CircuitBreaker: calls another process made (decision workers)', () => {
  it('counts observed calls in a closed window like its own, so two workers each seeing half the failures open together', () => {
    const a = setup();
    const b = setup();
    // Each worker makes 3 calls, 2 of them failing on a; a sees b's, b sees a's.
    const relayed: Array<[boolean, number]> = [];
    for (const failed of [true, false, true]) {
      a.call(failed);
      relayed.push([failed, 1]);
    }
    for (const [failed, ms] of relayed) b.breaker.observe(failed, ms);
    expect(b.breaker.snapshot()).toMatchObject({ state: 'closed', calls: 3, failures: 2 });
    b.call(false);
    expect(b.breaker.snapshot().state).toBe('closed');
    b.call(true);
    // b: 5 calls in its window (3 observed), 3 failed: 60% ≥ 50%.
    expect(b.breaker.snapshot().state).toBe('open');
    expect(b.transitions[0]).toMatchObject({ from: 'closed', to: 'open', calls: 5 });
    a.breaker.observe(false, 1);
    a.breaker.observe(true, 1);
    expect(a.breaker.snapshot().state).toBe('open');
  });

  it('ignores observed calls while open and half-open: only its own probes decide', () => {
    const { breaker, call, clock } = setup();
    for (let i = 0; i < 5; i++) call(true);
    expect(breaker.snapshot().state).toBe('open');
    for (let i = 0; i < 20; i++) breaker.observe(false, 1);
    expect(breaker.snapshot().state).toBe('open');
    clock.now += 1000;
    expect(breaker.snapshot().state).toBe('half_open');
    for (let i = 0; i < 20; i++) breaker.observe(false, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', calls: 0 });
  });

  it('tells onCall about each of its own counted calls, and not about observed ones', () => {
    const seen: Array<[boolean, number]> = [];
    const breaker = new CircuitBreaker({ ...defaultBreakerConfig, window: { type: 'count', size: 10 }, minimumCalls: 5 }, { onCall: (failed, ms) => seen.push([failed, ms]) });
    const permit = breaker.tryAcquire()!;
    breaker.record(permit, true, 42);
    breaker.record(permit, true, 42); // a repeated permit counts once
    breaker.observe(false, 7);
    expect(seen).toEqual([[true, 42]]);
  });
});
