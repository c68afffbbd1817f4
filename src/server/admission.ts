// Admission on the decision route, before any work: the caller's rate limit, the process's
// pressure (event-loop delay, heap) and the service's concurrency limit with its bounded queue.
// A request refused here never reaches the model or the store.
import { performance } from 'node:perf_hooks';
import { BallastError } from '../errors/index.js';
import type { Service } from '../pipeline/index.js';
import { ConcurrencyLimiter, createPressureMonitor, RateLimiter, resolveAdmission, type AdmissionPermit, type PressureMonitor, type Priority } from '../resilience/index.js';

/** What admitting one request gave: a permit to end it with, and the rate-limit header fields to answer with. */
export interface Admitted {
  readonly permit: AdmissionPermit;
  readonly startedAt: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A refusal: SERVER_BUSY (concurrency, queue, pressure) or RATE_LIMITED (the caller's bucket), and the header fields to send with it. */
export interface Refused {
  readonly error: BallastError;
  readonly headers: Readonly<Record<string, string>>;
}

export type AdmissionResult = ({ readonly ok: true } & Admitted) | ({ readonly ok: false } & Refused);

export interface Admission {
  /** Admits one decision request (synchronously when there is room), or says why not. `caller` identifies the key (or the address without auth). */
  admit(service: Service, request: { readonly caller: string; readonly priority: Priority; readonly signal?: AbortSignal }): AdmissionResult | Promise<AdmissionResult>;
  /** Per service: the limit, in flight, queued. */
  snapshot(): Record<string, { limit: number; inFlight: number; queued: number }>;
  close(): void;
}

export interface AdmissionOptions {
  /** Load signals; a fresh monitor (event-loop delay over 1 s, heap over 90%, file descriptors over 90%) when not given. */
  readonly pressure?: PressureMonitor;
}

/** Builds the limiters of every service from its `resilience:` block. */
export function createAdmission(services: ReadonlyMap<string, Service>, options: AdmissionOptions = {}): Admission {
  const pressure = options.pressure ?? createPressureMonitor();
  const limiters = new Map<string, ConcurrencyLimiter>();
  const rates = new Map<string, { limiter: RateLimiter; policy: string }>();
  for (const service of services.values()) {
    const admission = resolveAdmission(service.config.resilience?.admission);
    limiters.set(service.name, new ConcurrencyLimiter({ limit: admission.limit, queueSize: admission.queueSize, maxWaitMs: admission.maxWaitMs }));
    const perKey = service.config.resilience?.rateLimit?.perKey;
    if (perKey !== undefined) {
      const burst = perKey.burst ?? Math.max(1, Math.ceil(perKey.ratePerSecond));
      rates.set(service.name, { limiter: new RateLimiter({ ratePerSecond: perKey.ratePerSecond, burst }), policy: service.name });
    }
  }

  const admitted = (permit: AdmissionPermit, headers: Readonly<Record<string, string>>, startedAt: number): AdmissionResult => ({ ok: true, permit, headers, startedAt });
  const refusal = (error: BallastError, headers: Readonly<Record<string, string>>): AdmissionResult => ({ ok: false, error, headers });

  return {
    admit(service, request) {
      const startedAt = performance.now();
      let headers: Readonly<Record<string, string>> = {};
      const rate = rates.get(service.name);
      if (rate !== undefined) {
        const decision = rate.limiter.take(request.caller);
        headers = rate.limiter.headers(decision, rate.policy);
        if (!decision.ok) {
          return refusal(new BallastError('RATE_LIMITED', { detail: `the rate limit of ${service.name} for this caller is spent; retry in ${decision.retryAfterSeconds} s`, retryAfterSeconds: decision.retryAfterSeconds }), headers);
        }
      }
      // Under pressure only high-stakes requests are still let in: they are shed last.
      const overloaded = pressure.overloaded();
      if (overloaded !== undefined && request.priority !== 'high') {
        const why = { heap: 'the server is short of memory', descriptors: 'the server is running out of file descriptors', event_loop_delay: 'the server is overloaded (event-loop delay)' }[overloaded];
        return refusal(new BallastError('SERVER_BUSY', { detail: why, retryAfterSeconds: 1 }), headers);
      }
      const limiter = limiters.get(service.name)!;
      const refused = (reason: string, retryAfterSeconds: number) =>
        new BallastError('SERVER_BUSY', { detail: `${service.name} is at its concurrency limit (${reason.replace('_', ' ')})`, retryAfterSeconds });
      const outcome = limiter.acquire(request.priority, request.signal);
      if (!(outcome instanceof Promise)) {
        if (!outcome.ok) return refusal(refused(outcome.reason, outcome.retryAfterSeconds), headers);
        return admitted(outcome.permit, headers, startedAt);
      }
      return outcome.then((waited) => (waited.ok ? admitted(waited.permit, headers, startedAt) : refusal(refused(waited.reason, waited.retryAfterSeconds), headers)));
    },
    snapshot() {
      return Object.fromEntries([...limiters].map(([name, limiter]) => {
        const s = limiter.snapshot();
        return [name, { limit: s.limit, inFlight: s.inFlight, queued: s.queued }];
      }));
    },
    close() {
      if (options.pressure === undefined) pressure.close();
    },
  };
}
