import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPressureMonitor, type PressureProbes } from './pressure.js';

/** Probes that report whatever the test last set, and count their reads. */
function fakeProbes(): PressureProbes & { delay: number; heap: number; reads: number } {
  return {
    delay: 0,
    heap: 0.5,
    reads: 0,
    eventLoopDelayMs() {
      this.reads += 1;
      return this.delay;
    },
    heapUsedRatio() {
      return this.heap;
    },
  };
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

afterEach(() => {
  vi.useRealTimers();
});

describe('createPressureMonitor', () => {
  it('reports the cached reading of the last sample, refreshed every sampleIntervalMs', () => {
    vi.useFakeTimers();
    const probes = fakeProbes();
    const monitor = createPressureMonitor({ maxEventLoopDelayMs: 100, maxHeapUsedRatio: 0.8, sampleIntervalMs: 500 }, probes);
    expect(probes.reads).toBe(1); // sampled at creation
    expect(monitor.overloaded()).toBeUndefined();
    expect(monitor.snapshot()).toEqual({ eventLoopDelayMs: 0, heapUsedRatio: 0.5, descriptorRatio: 0 });

    probes.delay = 150;
    expect(monitor.overloaded()).toBeUndefined(); // not sampled yet
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBe('event_loop_delay');
    expect(monitor.snapshot()).toEqual({ eventLoopDelayMs: 150, heapUsedRatio: 0.5, descriptorRatio: 0 });

    probes.heap = 0.85;
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBe('event_loop_delay'); // delay is named before heap

    probes.delay = 100; // at the threshold is not above it
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBe('heap');

    probes.heap = 0.8;
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBeUndefined();
    expect(probes.reads).toBe(5);
    monitor.close();
  });

  it('defaults to 1000 ms of event-loop delay, 90% of the heap limit and a 500 ms interval', () => {
    vi.useFakeTimers();
    const probes = fakeProbes();
    const monitor = createPressureMonitor({}, probes);
    probes.delay = 1000;
    probes.heap = 0.9;
    vi.advanceTimersByTime(499);
    expect(probes.reads).toBe(1);
    vi.advanceTimersByTime(1);
    expect(probes.reads).toBe(2);
    expect(monitor.overloaded()).toBeUndefined();
    probes.heap = 0.91;
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBe('heap');
    probes.delay = 1001;
    vi.advanceTimersByTime(500);
    expect(monitor.overloaded()).toBe('event_loop_delay');
    monitor.close();
  });

  it('reports descriptors when the open file descriptors pass their share of the limit, after delay and heap', () => {
    vi.useFakeTimers();
    const probes = { ...fakeProbes(), descriptors: 0.5, descriptorRatio() { return this.descriptors; } };
    const monitor = createPressureMonitor({ maxDescriptorRatio: 0.8, sampleIntervalMs: 100 }, probes);
    expect(monitor.overloaded()).toBeUndefined();
    probes.descriptors = 0.85;
    vi.advanceTimersByTime(100);
    expect(monitor.overloaded()).toBe('descriptors');
    expect(monitor.snapshot().descriptorRatio).toBe(0.85);
    probes.heap = 0.95;
    vi.advanceTimersByTime(100);
    expect(monitor.overloaded()).toBe('heap');
    monitor.close();
  });

  it('reads the real descriptor count off the event loop: opening 300 more files raises the share by 300 over the limit', async () => {
    const { openSync, closeSync, readFileSync } = await import('node:fs');
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    const monitor = createPressureMonitor({ sampleIntervalMs: 10 });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
    // The first sample has no count yet: it is read asynchronously, and arrives by a later sample.
    expect(monitor.snapshot().descriptorRatio).toBe(0);
    await settle();
    const before = monitor.snapshot().descriptorRatio;
    const fds = Array.from({ length: 300 }, () => openSync('/dev/null', 'r'));
    try {
      await settle();
      const after = monitor.snapshot().descriptorRatio;
      expect(before).toBeGreaterThan(0);
      // A few descriptors may open or close in between (the test runner's own); 300 dominate.
      expect((after - before) * limit).toBeGreaterThan(290);
      expect((after - before) * limit).toBeLessThan(320);
    } finally {
      fds.forEach((fd) => closeSync(fd));
      monitor.close();
    }
  });

  it('stops sampling on close, idempotently', () => {
    vi.useFakeTimers();
    const probes = fakeProbes();
    const monitor = createPressureMonitor({ sampleIntervalMs: 100 }, probes);
    vi.advanceTimersByTime(300);
    expect(probes.reads).toBe(4);
    monitor.close();
    monitor.close();
    vi.advanceTimersByTime(1000);
    expect(probes.reads).toBe(4);
  });

  it('keeps no timer alive: the sampling timer is unref’d', () => {
    const before = timeouts();
    const monitor = createPressureMonitor({ sampleIntervalMs: 100 }, fakeProbes());
    const withMonitor = timeouts();
    monitor.close();
    expect(withMonitor).toBe(before);
  });

  it('rejects unusable configurations', () => {
    expect(() => createPressureMonitor({ maxEventLoopDelayMs: 0 }, fakeProbes())).toThrow(RangeError);
    expect(() => createPressureMonitor({ maxHeapUsedRatio: 1.5 }, fakeProbes())).toThrow(RangeError);
    expect(() => createPressureMonitor({ sampleIntervalMs: 0 }, fakeProbes())).toThrow(RangeError);
  });

  it('reports event_loop_delay at the next sample after the real event loop was blocked for 300 ms', async () => {
    const monitor = createPressureMonitor({ maxEventLoopDelayMs: 200, sampleIntervalMs: 100 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(monitor.overloaded()).toBeUndefined();
      expect(monitor.snapshot().heapUsedRatio).toBeGreaterThan(0);
      expect(monitor.snapshot().heapUsedRatio).toBeLessThan(1);
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // block the event loop
      }
      // The overdue sampling timer runs before this one, which was set after the block.
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(monitor.overloaded()).toBe('event_loop_delay');
      expect(monitor.snapshot().eventLoopDelayMs).toBeGreaterThan(200);
    } finally {
      monitor.close();
    }
  });
});
