import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConcurrencyLimiter, type Admission, type AdmissionPermit, type ConcurrencyLimiterConfig, type Priority } from './concurrency-limiter.js';

const fixed = (max: number, queueSize: number, maxWaitMs = 60_000): ConcurrencyLimiterConfig => ({ limit: { kind: 'fixed', max }, queueSize, maxWaitMs });

/** The permit of a synchronous grant (fails the test otherwise). */
function granted(admission: Admission | Promise<Admission>): AdmissionPermit {
  if (admission instanceof Promise || !admission.ok) throw new Error(`expected a synchronous grant, got ${admission instanceof Promise ? 'a promise' : admission.reason}`);
  return admission.permit;
}

function queued(admission: Admission | Promise<Admission>): Promise<Admission> {
  if (!(admission instanceof Promise)) throw new Error(`expected to be queued, got ${JSON.stringify(admission)}`);
  return admission;
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

afterEach(() => {
  vi.useRealTimers();
});

describe('ConcurrencyLimiter', () => {
  it('grants synchronously up to the limit, then queues, and a release hands the slot to the queue', async () => {
    const limiter = new ConcurrencyLimiter(fixed(2, 5));
    const a = granted(limiter.acquire('normal'));
    granted(limiter.acquire('normal'));
    const waiting = queued(limiter.acquire('normal'));
    expect(limiter.snapshot()).toEqual({ limit: 2, inFlight: 2, queued: 1, queuedByPriority: { high: 0, normal: 1, low: 0 } });
    a.release(10);
    const admission = await waiting;
    expect(admission.ok).toBe(true);
    expect(limiter.snapshot()).toMatchObject({ inFlight: 2, queued: 0 });
  });

  it('serves the queue high, then normal, then low, first come first served within a priority', async () => {
    const limiter = new ConcurrencyLimiter(fixed(1, 10));
    const first = granted(limiter.acquire('low'));
    const order: string[] = [];
    const enqueue = (priority: Priority, name: string) =>
      queued(limiter.acquire(priority)).then((a) => {
        order.push(name);
        if (a.ok) a.permit.release(1);
      });
    const all = [enqueue('low', 'low1'), enqueue('normal', 'normal1'), enqueue('high', 'high1'), enqueue('low', 'low2'), enqueue('high', 'high2'), enqueue('normal', 'normal2')];
    first.release(1);
    await Promise.all(all);
    expect(order).toEqual(['high1', 'high2', 'normal1', 'normal2', 'low1', 'low2']);
  });

  it('refuses low and normal with queue_full when the queue is full; a high request sheds the newest low, then the newest normal', async () => {
    const limiter = new ConcurrencyLimiter(fixed(1, 3));
    const holder = granted(limiter.acquire('high'));
    const low1 = queued(limiter.acquire('low'));
    const normal1 = queued(limiter.acquire('normal'));
    const low2 = queued(limiter.acquire('low'));
    expect(limiter.acquire('low')).toMatchObject({ ok: false, reason: 'queue_full' });
    expect(limiter.acquire('normal')).toMatchObject({ ok: false, reason: 'queue_full' });

    const high1 = queued(limiter.acquire('high'));
    expect(await low2).toMatchObject({ ok: false, reason: 'shed' });
    const high2 = queued(limiter.acquire('high'));
    expect(await low1).toMatchObject({ ok: false, reason: 'shed' });
    const high3 = queued(limiter.acquire('high'));
    expect(await normal1).toMatchObject({ ok: false, reason: 'shed' });
    expect(limiter.snapshot().queuedByPriority).toEqual({ high: 3, normal: 0, low: 0 });
    // A queue full of high requests refuses the next high one too.
    expect(limiter.acquire('high')).toMatchObject({ ok: false, reason: 'queue_full' });

    holder.release(1);
    for (const next of [high1, high2, high3]) {
      const admission = await next;
      expect(admission.ok).toBe(true);
      if (admission.ok) admission.permit.release(1);
    }
    expect(limiter.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('refuses at once with queue_full when there is no queue', () => {
    const limiter = new ConcurrencyLimiter(fixed(1, 0));
    granted(limiter.acquire('high'));
    const refusal = limiter.acquire('high');
    expect(refusal).toEqual({ ok: false, reason: 'queue_full', retryAfterSeconds: 1 });
  });

  it('refuses a queued request with wait_timeout after maxWaitMs', async () => {
    const limiter = new ConcurrencyLimiter(fixed(1, 5, 30));
    granted(limiter.acquire('normal'));
    const started = performance.now();
    const admission = await queued(limiter.acquire('normal'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(admission).toMatchObject({ ok: false, reason: 'wait_timeout' });
    expect(limiter.snapshot().queued).toBe(0);
  });

  it('sheds the lower-priority requests queued behind one whose wait ran out, so no high request is refused while a low one waits', async () => {
    vi.useFakeTimers();
    const limiter = new ConcurrencyLimiter(fixed(1, 5, 100), { now: () => Date.now() });
    granted(limiter.acquire('normal'));
    const high = queued(limiter.acquire('high'));
    vi.advanceTimersByTime(50);
    const low = queued(limiter.acquire('low'));
    const normal = queued(limiter.acquire('normal'));
    vi.advanceTimersByTime(50);
    expect(await low).toMatchObject({ ok: false, reason: 'shed' });
    expect(await normal).toMatchObject({ ok: false, reason: 'shed' });
    expect(await high).toMatchObject({ ok: false, reason: 'wait_timeout' });
  });

  it('refuses, rather than serves, a queued request whose wait ran out while its timer was late', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(fixed(1, 5, 60_000), { now: () => now });
    const holder = granted(limiter.acquire('normal'));
    const stale = queued(limiter.acquire('normal'));
    now = 60_001;
    const fresh = queued(limiter.acquire('normal'));
    holder.release(5);
    expect(await stale).toMatchObject({ ok: false, reason: 'wait_timeout' });
    const admission = await fresh;
    expect(admission.ok).toBe(true);
    if (admission.ok) admission.permit.release(5);
  });

  it('refuses with aborted when the signal is already aborted or aborts while queued', async () => {
    const limiter = new ConcurrencyLimiter(fixed(1, 5));
    const holder = granted(limiter.acquire('normal'));
    expect(limiter.acquire('normal', AbortSignal.abort())).toMatchObject({ ok: false, reason: 'aborted' });
    const controller = new AbortController();
    const waiting = queued(limiter.acquire('normal', controller.signal));
    controller.abort();
    expect(await waiting).toMatchObject({ ok: false, reason: 'aborted' });
    expect(limiter.snapshot().queued).toBe(0);
    holder.release(1);
    expect(limiter.snapshot().inFlight).toBe(0);
  });

  it('releases a permit once however often release is called', () => {
    const limiter = new ConcurrencyLimiter(fixed(2, 0));
    const a = granted(limiter.acquire('normal'));
    granted(limiter.acquire('normal'));
    a.release(1);
    a.release(1);
    a.release(1, true);
    expect(limiter.snapshot().inFlight).toBe(1);
  });

  it('estimates Retry-After from the queue ahead, the limit and the average latency', () => {
    const limiter = new ConcurrencyLimiter(fixed(2, 2));
    granted(limiter.acquire('normal')).release(4000);
    granted(limiter.acquire('normal'));
    granted(limiter.acquire('normal'));
    void limiter.acquire('normal');
    void limiter.acquire('normal');
    // (2 queued + this one) / limit 2 × 4 s = 6 s.
    expect(limiter.acquire('normal')).toEqual({ ok: false, reason: 'queue_full', retryAfterSeconds: 6 });
  });

  it('leaves no timer behind once everything settled', async () => {
    const before = timeouts();
    const limiter = new ConcurrencyLimiter(fixed(5, 100));
    const permits = Array.from({ length: 5 }, () => granted(limiter.acquire('normal')));
    expect(timeouts()).toBe(before); // the fast path sets no timer
    const controller = new AbortController();
    // Each served request ends at once, handing its slot to the next.
    const enqueue = (priority: Priority, signal?: AbortSignal) =>
      queued(limiter.acquire(priority, signal)).then((a) => {
        if (a.ok) a.permit.release(1);
        return a;
      });
    const waiting = Array.from({ length: 100 }, (_, i) => enqueue(i % 2 === 0 ? 'high' : 'low', i % 10 === 0 ? controller.signal : undefined));
    expect(limiter.acquire('low')).toMatchObject({ reason: 'queue_full' });
    waiting.push(enqueue('high')); // sheds the newest queued low
    controller.abort();
    for (const permit of permits) permit.release(1);
    const results = await Promise.all(waiting);
    const reasons = results.map((a) => (a.ok ? 'ok' : a.reason));
    expect(reasons.filter((r) => r === 'ok')).toHaveLength(90);
    expect(reasons.filter((r) => r === 'aborted')).toHaveLength(10);
    expect(reasons.filter((r) => r === 'shed')).toHaveLength(1);
    expect(limiter.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
    expect(timeouts()).toBe(before);
  });

  it('never queues more than queueSize nor admits more than the limit over 100,000 attempts', async () => {
    const limiter = new ConcurrencyLimiter(fixed(10, 100));
    const permits: AdmissionPermit[] = [];
    const priorities: Priority[] = ['high', 'normal', 'low'];
    let maxQueued = 0;
    let maxInFlight = 0;
    let random = 42;
    const next = () => (random = (random * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let i = 0; i < 100_000; i++) {
      const admission = limiter.acquire(priorities[i % 3]!);
      if (admission instanceof Promise) void admission.then((a) => a.ok && permits.push(a.permit));
      else if (admission.ok) permits.push(admission.permit);
      if (next() < 0.3) permits.splice(Math.floor(next() * permits.length), 1)[0]?.release(5);
      const { queued: q, inFlight } = limiter.snapshot();
      maxQueued = Math.max(maxQueued, q);
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (i % 1000 === 999) await Promise.resolve();
    }
    expect(maxQueued).toBe(100);
    expect(maxInFlight).toBe(10);
    while (limiter.snapshot().inFlight > 0) {
      await Promise.resolve();
      for (const permit of permits.splice(0)) permit.release(5);
    }
    expect(limiter.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('for any interleaving of acquire, release and time: inFlight <= max, queued <= queueSize, and no high refused while a low waits', async () => {
    // Acquires outnumber releases so that the queue fills; steps of time are short next to maxWaitMs (100).
    const command = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('acquire' as const), priority: fc.constantFrom<Priority>('high', 'normal', 'low') }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 6 }), fc.array(command, { maxLength: 150, size: 'max' }), async (max, queueSize, commands) => {
        vi.useFakeTimers();
        try {
          const limiter = new ConcurrencyLimiter(fixed(max, queueSize, 100), { now: () => Date.now() });
          const permits: AdmissionPermit[] = [];
          const violations: string[] = [];
          const settled = (priority: Priority, admission: Admission) => {
            if (admission.ok) permits.push(admission.permit);
            else if (priority === 'high' && limiter.snapshot().queuedByPriority.low > 0) violations.push(`high refused (${admission.reason}) while a low request was queued`);
          };
          for (const c of commands) {
            if (c.kind === 'acquire') {
              const admission = limiter.acquire(c.priority);
              if (admission instanceof Promise) void admission.then((a) => settled(c.priority, a));
              else settled(c.priority, admission);
            } else if (c.kind === 'release') {
              if (permits.length > 0) permits.splice(c.index % permits.length, 1)[0]!.release(20);
            } else {
              vi.advanceTimersByTime(c.ms);
            }
            await Promise.resolve();
            const { inFlight, queued: q } = limiter.snapshot();
            if (inFlight > max) violations.push(`inFlight ${inFlight} > ${max}`);
            if (q > queueSize) violations.push(`queued ${q} > ${queueSize}`);
          }
          expect(violations).toEqual([]);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 300 },
    );
  });

  describe('gradient limit', () => {
    /** Fills every slot, then releases them all with `latencyMs`; returns the limit afterwards. */
    const round = (limiter: ConcurrencyLimiter, latencyMs: number): number => {
      const permits: AdmissionPermit[] = [];
      for (;;) {
        const admission = limiter.acquire('normal');
        if (admission instanceof Promise || !admission.ok) break;
        permits.push(admission.permit);
      }
      for (const permit of permits) permit.release(latencyMs);
      return limiter.snapshot().limit;
    };

    it('lowers the limit when latency rises 4x and raises it again when latency returns, within [min, max]', () => {
      const limiter = new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 20, min: 5, max: 100 }, queueSize: 0, maxWaitMs: 1000 });
      const limits: number[] = [];
      for (let i = 0; i < 30; i++) limits.push(round(limiter, 10));
      const steady = limiter.snapshot().limit;
      expect(steady).toBeGreaterThan(20); // low, stable latency with every slot used: the limit probes upwards
      // (Held much longer, the long-term RTT would adopt 40 ms as the new normal and the limit grow back.)
      for (let i = 0; i < 3; i++) limits.push(round(limiter, 40));
      const loaded = limiter.snapshot().limit;
      expect(loaded).toBeLessThan(steady * 0.5);
      for (let i = 0; i < 30; i++) limits.push(round(limiter, 10));
      const recovered = limiter.snapshot().limit;
      expect(recovered).toBeGreaterThan(loaded * 2);
      expect(recovered).toBe(steady);
      expect(Math.min(...limits)).toBeGreaterThanOrEqual(5);
      expect(Math.max(...limits)).toBeLessThanOrEqual(100);
    });

    it('holds the limit when the service is not loaded enough to tell (fewer than half the slots in use)', () => {
      const limiter = new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 20, min: 5, max: 100 }, queueSize: 0, maxWaitMs: 1000 });
      for (let i = 0; i < 200; i++) granted(limiter.acquire('normal')).release(i < 100 ? 10 : 100);
      expect(limiter.snapshot().limit).toBe(20);
    });

    it('lowers the limit by 10% per dropped request, down to min', () => {
      const limiter = new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 20, min: 5, max: 100 }, queueSize: 0, maxWaitMs: 1000 });
      granted(limiter.acquire('normal')).release(5000, true);
      expect(limiter.snapshot().limit).toBe(18);
      for (let i = 0; i < 50; i++) granted(limiter.acquire('normal')).release(5000, true);
      expect(limiter.snapshot().limit).toBe(5);
    });

    it('hands freed slots to the queue too', async () => {
      const limiter = new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 2, min: 1, max: 10 }, queueSize: 5, maxWaitMs: 60_000 });
      const a = granted(limiter.acquire('normal'));
      const b = granted(limiter.acquire('normal'));
      const waiting = [queued(limiter.acquire('normal')), queued(limiter.acquire('normal'))];
      a.release(10);
      b.release(10);
      const results = await Promise.all(waiting);
      expect(results.every((r) => r.ok)).toBe(true);
      for (const r of results) if (r.ok) r.permit.release(10);
      expect(limiter.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
    });
  });

  it('rejects unusable configurations', () => {
    expect(() => new ConcurrencyLimiter(fixed(0, 1))).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter(fixed(1, -1))).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter(fixed(1, 1, 0))).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 1, min: 2, max: 5 }, queueSize: 0, maxWaitMs: 1 })).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 3, min: 0, max: 5 }, queueSize: 0, maxWaitMs: 1 })).toThrow(RangeError);
  });
});
