// Process load signals, after @fastify/under-pressure: event-loop delay and heap use, sampled on an unref'd
// timer so that the hot path only reads cached values.
import { readdir, readFileSync, stat } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface PressureConfig {
  /** Overloaded above this event-loop delay (default 1000 ms: a loaded machine stalls for a few hundred ms without being overloaded). */
  readonly maxEventLoopDelayMs?: number;
  /** Overloaded above this share of V8's heap_size_limit in use (default 0.9). */
  readonly maxHeapUsedRatio?: number;
  /** Overloaded above this share of the process's file-descriptor limit in use (default 0.9; Linux only). */
  readonly maxDescriptorRatio?: number;
  /** How often the probes are read (default 500 ms). */
  readonly sampleIntervalMs?: number;
}

/** What a monitor samples; injected in tests. */
export interface PressureProbes {
  /** Event-loop delay since the previous call, in ms. */
  eventLoopDelayMs(): number;
  /** Heap in use as a share of the heap limit. */
  heapUsedRatio(): number;
  /** Open file descriptors as a share of the soft limit (0 where it cannot be read). */
  descriptorRatio?(): number;
}

export type PressureReason = 'event_loop_delay' | 'heap' | 'descriptors';

export interface PressureMonitor {
  /** Why the process is under pressure now ('event_loop_delay' | 'heap' | 'descriptors'), or undefined. O(1), reads cached values. */
  overloaded(): PressureReason | undefined;
  /** The values of the last sample. */
  snapshot(): { eventLoopDelayMs: number; heapUsedRatio: number; descriptorRatio: number };
  /** Stops sampling. Idempotent. */
  close(): void;
}

const RESOLUTION_MS = 10;

/**
 * Samples `probes` now and every `sampleIntervalMs` (on an unref'd timer). The default probes read
 * perf_hooks.monitorEventLoopDelay (p99 since the previous sample, less its 10 ms resolution, reset each sample;
 * or the sampling timer's own lateness if larger, which catches a stall the histogram has not recorded yet)
 * and v8.getHeapStatistics() (used_heap_size / heap_size_limit). An event-loop delay is reported before heap.
 */
export function createPressureMonitor(config: PressureConfig = {}, probes?: PressureProbes): PressureMonitor {
  const maxEventLoopDelayMs = config.maxEventLoopDelayMs ?? 1000;
  const maxHeapUsedRatio = config.maxHeapUsedRatio ?? 0.9;
  const maxDescriptorRatio = config.maxDescriptorRatio ?? 0.9;
  const sampleIntervalMs = config.sampleIntervalMs ?? 500;
  if (!(maxEventLoopDelayMs > 0 && Number.isFinite(maxEventLoopDelayMs))) throw new RangeError(`maxEventLoopDelayMs must be a finite number > 0 (got ${String(maxEventLoopDelayMs)})`);
  if (!(maxHeapUsedRatio > 0 && maxHeapUsedRatio <= 1)) throw new RangeError(`maxHeapUsedRatio must lie in (0, 1] (got ${String(maxHeapUsedRatio)})`);
  if (!Number.isInteger(sampleIntervalMs) || sampleIntervalMs < 1) throw new RangeError(`sampleIntervalMs must be an integer >= 1 (got ${String(sampleIntervalMs)})`);

  const own = probes === undefined ? defaultProbes(sampleIntervalMs) : undefined;
  const read = probes ?? own!;

  let eventLoopDelayMs = 0;
  let heapUsedRatio = 0;
  let descriptorRatio = 0;
  let reason: PressureReason | undefined;
  const sample = () => {
    eventLoopDelayMs = read.eventLoopDelayMs();
    heapUsedRatio = read.heapUsedRatio();
    descriptorRatio = read.descriptorRatio?.() ?? 0;
    reason =
      eventLoopDelayMs > maxEventLoopDelayMs ? 'event_loop_delay' : heapUsedRatio > maxHeapUsedRatio ? 'heap' : descriptorRatio > maxDescriptorRatio ? 'descriptors' : undefined;
  };
  sample();
  const timer = setInterval(sample, sampleIntervalMs);
  timer.unref();

  return {
    overloaded: () => reason,
    snapshot: () => ({ eventLoopDelayMs, heapUsedRatio, descriptorRatio }),
    close() {
      clearInterval(timer);
      own?.close();
    },
  };
}

/** The default probes; `eventLoopDelayMs` is meant to be called once per sample, as the monitor does. */
function defaultProbes(sampleIntervalMs: number): PressureProbes & { close(): void } {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let lastSampleAt = performance.now();
  return {
    eventLoopDelayMs() {
      const at = performance.now();
      const lateness = at - lastSampleAt - sampleIntervalMs;
      lastSampleAt = at;
      const p99 = histogram.count > 0 ? histogram.percentile(99) / 1e6 - RESOLUTION_MS : 0;
      histogram.reset();
      return Math.max(0, p99, lateness);
    },
    heapUsedRatio() {
      const heap = getHeapStatistics();
      return heap.used_heap_size / heap.heap_size_limit;
    },
    descriptorRatio: descriptorProbe(),
    close() {
      histogram.disable();
    },
  };
}

/**
 * Open descriptors over the soft limit, from /proc (Linux); 0 elsewhere or when unreadable. Running out
 * of descriptors fails accepts silently (libuv closes them) and fails upstream connects with EMFILE, so
 * it is shed before it happens. The limit is read once (a Node process cannot change its own). The count
 * is read off the event loop: each call returns the last count and starts the next read, a stat of
 * /proc/self/fd (whose size is the number of open descriptors since Linux 6.2) or, on older kernels where
 * that size is 0, an asynchronous listing of it (listing 10,000 entries synchronously blocked the loop for 9 ms).
 */
function descriptorProbe(): () => number {
  let limit = 0;
  try {
    limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  } catch {
    // not Linux: no descriptor probe
  }
  if (!(limit > 0)) return () => 0;
  let open = 0;
  let reading = false;
  let statWorks = true;
  const done = (count: number | undefined) => {
    reading = false;
    if (count !== undefined) open = count;
  };
  const refresh = () => {
    reading = true;
    if (statWorks)
      stat('/proc/self/fd', (error, stats) => {
        if (error === null && stats.size > 0) return done(stats.size);
        statWorks = false;
        refresh();
      });
    else readdir('/proc/self/fd', (error, names) => done(error === null ? names.length : undefined));
  };
  refresh();
  return () => {
    if (!reading) refresh();
    return open / limit;
  };
}
