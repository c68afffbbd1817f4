// Shadow traffic: the candidate of a shadow rollout gets a copy of a sampled request after the served
// answer is known, off the request path. Its answer is never returned; it is kept as a shadow decision
// (written in batches) so the rollout's analysis can compare it with what stable answered. Calls in
// flight are bounded: over the bound a copy is skipped and counted, never queued behind the answer.
import { performance } from 'node:perf_hooks';
import { BallastError } from '../errors/index.js';
import { callResiliently, deadlineIn } from '../resilience/index.js';
import type { ModelVersion, Service } from './service.js';

/** One shadow decision, as the store keeps it. */
export interface ShadowRecord {
  readonly id: string;
  readonly decisionId: string;
  readonly service: string;
  readonly version: string;
  readonly rolloutId: string;
  readonly revision: number;
  readonly createdAt: string;
  readonly output: unknown;
  readonly confidence: number | null;
  readonly errorCode: string | null;
  readonly latencyMs: number;
}

export interface ShadowRunnerOptions {
  /** Writes a batch; a failure is reported and the batch dropped (shadow decisions are never acknowledged to anyone). */
  write(rows: readonly ShadowRecord[]): Promise<void>;
  newId(): string;
  /** Shadow calls in flight at most (default 64). */
  readonly maxInFlight?: number;
  /** How often buffered rows are written (default 100 ms) and the most kept before a write (default 512). */
  readonly flushEveryMs?: number;
  readonly maxBuffered?: number;
  onError?(error: unknown): void;
}

export interface ShadowStats {
  readonly started: number;
  readonly skipped: number;
  readonly recorded: number;
  readonly dropped: number;
  readonly inFlight: number;
}

/** What became of one shadow copy, for listeners (metrics). */
export interface ShadowResult {
  readonly service: string;
  readonly version: string;
  /** answered, error: the call finished; skipped: over the in-flight bound, never called; dropped: its record's batch could not be written. */
  readonly result: 'answered' | 'error' | 'skipped' | 'dropped';
  /** answered: the candidate's output, redacted as stored. */
  readonly output?: unknown;
  /** answered: what the served version answered to the same request (redacted), when the caller gave it. */
  readonly served?: unknown;
}

export interface ShadowRunner {
  /** Starts a shadow call of `version` on `input` (already validated) unless the bound is reached; never throws, never waits. */
  run(copy: { readonly decisionId: string; readonly service: Service; readonly version: ModelVersion; readonly rolloutId: string; readonly revision: number; readonly input: Record<string, unknown>; readonly served?: unknown }): void;
  /** Calls `listener` with what became of every copy from now on; returns the unsubscribe. A listener that throws is ignored. */
  onResult(listener: (result: ShadowResult) => void): () => void;
  stats(): ShadowStats;
  /** Waits for the calls in flight and writes what is buffered. */
  close(): Promise<void>;
}

export function createShadowRunner(options: ShadowRunnerOptions): ShadowRunner {
  const maxInFlight = options.maxInFlight ?? 64;
  const maxBuffered = options.maxBuffered ?? 512;
  let buffer: ShadowRecord[] = [];
  const pending = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  let recorded = 0;
  let dropped = 0;
  let inFlight = 0;
  let writing: Promise<void> = Promise.resolve();
  const listeners = new Set<(result: ShadowResult) => void>();
  const tell = (result: ShadowResult) => {
    for (const listener of listeners) {
      try {
        listener(result);
      } catch {
        // A listener (metrics) must never break shadow traffic.
      }
    }
  };

  const flush = (): Promise<void> => {
    if (buffer.length === 0) return writing;
    const rows = buffer;
    buffer = [];
    writing = writing.then(() =>
      options.write(rows).then(
        () => void (recorded += rows.length),
        (error: unknown) => {
          dropped += rows.length;
          if (listeners.size > 0) for (const row of rows) tell({ service: row.service, version: row.version, result: 'dropped' });
          options.onError?.(error);
        },
      ),
    );
    return writing;
  };
  const timer = setInterval(() => void flush(), options.flushEveryMs ?? 100);
  timer.unref();

  return {
    run(copy) {
      if (inFlight >= maxInFlight) {
        skipped++;
        tell({ service: copy.service.name, version: copy.version.name, result: 'skipped' });
        return;
      }
      inFlight++;
      started++;
      const createdAt = new Date().toISOString();
      const begun = performance.now();
      const { version } = copy;
      const call = (async () => {
        let output: unknown = null;
        let confidence: number | null = null;
        let errorCode: string | null = null;
        try {
          const outcome = await callResiliently(version.plan, deadlineIn(version.timeoutMs), (signal) => version.adapter.invoke(copy.input, { signal, decisionId: copy.decisionId }), {
            check: (result) => {
              const checked = copy.service.contract.validateOutput(result.output);
              return checked.ok ? undefined : new BallastError('CONTRACT_INVALID_OUTPUT', { detail: "the shadowed candidate's output violates the output contract" });
            },
          });
          if (outcome.ok) {
            output = copy.service.contract.redactOutput(outcome.value.output);
            confidence = outcome.value.confidence ?? null;
          } else errorCode = outcome.error.code;
        } catch (error) {
          errorCode = 'INTERNAL';
          options.onError?.(error);
        }
        if (listeners.size > 0) {
          const served = copy.served === undefined ? {} : { served: copy.service.contract.redactOutput(copy.served) };
          tell(errorCode === null ? { service: copy.service.name, version: version.name, result: 'answered', output, ...served } : { service: copy.service.name, version: version.name, result: 'error' });
        }
        buffer.push({ id: options.newId(), decisionId: copy.decisionId, service: copy.service.name, version: version.name, rolloutId: copy.rolloutId, revision: copy.revision, createdAt, output, confidence, errorCode, latencyMs: Math.round((performance.now() - begun) * 1000) / 1000 });
        if (buffer.length >= maxBuffered) void flush();
      })().finally(() => {
        inFlight--;
        pending.delete(call);
      });
      pending.add(call);
    },
    onResult(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stats: () => ({ started, skipped, recorded, dropped, inFlight }),
    async close() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      await flush();
    },
  };
}
