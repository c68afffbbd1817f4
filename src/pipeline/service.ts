import { createAdapter, type AdapterContext, type ModelAdapter } from '../adapters/index.js';
import { canonicalJson, compileContract, type Contract } from '../contracts/index.js';
import { BallastError, type Issue } from '../errors/index.js';
import { compilePolicy, type Policy } from '../policy/index.js';
import { CircuitBreaker, QualityBreaker, resolveVersionResilience, resilienceDefaults, RetryBudget, type BreakerTransition, type CallPlan, type QualityTransition, type ResolvedVersionResilience } from '../resilience/index.js';
import { compileFallbackChain, type FallbackStep } from './fallback-chain.js';
import type { ServiceConfig } from './service-config.js';

/** One model version, ready to call. */
export interface ModelVersion {
  readonly name: string;
  readonly adapter: ModelAdapter;
  /** The total timeout of one call. */
  readonly timeoutMs: number;
  readonly description?: string;
  readonly resilience: ResolvedVersionResilience;
  /** The breaker on errors; undefined when disabled. */
  readonly breaker: CircuitBreaker | undefined;
  /** The breaker on quality, when the service has `resilience.qualityBreaker`. */
  readonly quality: QualityBreaker | undefined;
  /** How the pipeline calls it: limits, breaker and retry budget. */
  readonly plan: CallPlan;
  /** An operator opens or closes the breaker (a no-op returning undefined when it is already so, or there is none). */
  forceBreaker(state: 'open' | 'closed', reason: string): BreakerTransition | undefined;
}

/** A breaker changed state (for metrics, the log and the kept history). */
export type BreakerEvent =
  | {
      readonly service: string;
      readonly version: string;
      readonly kind: 'errors';
      readonly transition: BreakerTransition;
      /** An operator forced it (through `forceBreaker`), rather than the calls. */
      readonly forced: boolean;
    }
  | {
      readonly service: string;
      readonly version: string;
      readonly kind: 'quality';
      readonly transition: QualityTransition;
      readonly forced: boolean;
    };

/** The numbers behind a breaker's change, as the history keeps them. */
export function breakerFigures(event: BreakerEvent): Readonly<Record<string, unknown>> {
  if (event.kind === 'quality') return event.transition.figures;
  const t = event.transition;
  return { calls: t.calls, failureRate: t.failureRate, slowCallRate: t.slowCallRate };
}

/** A service compiled for serving: contract and policy compiled, adapters created. */
export interface Service {
  readonly name: string;
  readonly config: ServiceConfig;
  readonly contract: Contract;
  readonly policy: Policy;
  readonly versions: ReadonlyMap<string, ModelVersion>;
  /** The decision's deadline and the fallback chain, in order. */
  readonly resilience: { readonly deadlineMs: number; readonly fallback: readonly FallbackStep[] };
  close(): Promise<void>;
}

export interface ServiceDeps {
  /** Resolves relative paths and secrets for the adapters. */
  readonly adapterContext: Omit<AdapterContext, 'outputSchema'>;
  /** Key for the keyed hashes of pii fields. */
  readonly redactionKey: string;
  /** Called on every breaker state change; must not throw. */
  readonly onBreakerTransition?: (event: BreakerEvent) => void;
  /** Called with every call an error breaker counted (decision workers relay them to each other's breakers); must not throw. */
  readonly onBreakerCall?: (service: string, version: string, failed: boolean, durationMs: number) => void;
  /** The breakers' clock (ms); tests inject one. */
  readonly now?: () => number;
  /**
   * The same service in the running revision, when compiling the next one: a version whose call settings
   * are unchanged (its model block, the service's resilience block, the output schema) is taken over as it
   * is, adapter, connection pool and breakers with their state, so an apply never resets an open breaker.
   */
  readonly previous?: Service;
}

/** Whether `previous`'s compiled version `name` can serve `config` unchanged. */
function reusableVersion(previous: Service | undefined, name: string, config: ServiceConfig): ModelVersion | undefined {
  const old = previous?.versions.get(name);
  if (old === undefined || previous === undefined) return undefined;
  const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
  if (!same(previous.config.models[name], config.models[name])) return undefined;
  if (!same(previous.config.resilience, config.resilience)) return undefined;
  if (!same(previous.config.contract.output.schema, config.contract.output.schema)) return undefined;
  return old;
}

/**
 * Compiles one service. Problems are thrown as CONFIG_INVALID with issues whose pointers are
 * relative to the service's block (`/contract/...`, `/policy/rules/0/when`, `/live`).
 */
export async function createService(name: string, config: ServiceConfig, deps: ServiceDeps): Promise<Service> {
  const contract = within('/contract', () => compileContract(config.contract, { redactionKey: deps.redactionKey }));
  const policy = within('/policy', () => compilePolicy(config.policy ?? {}));
  if (!Object.hasOwn(config.models, config.live)) {
    throw new BallastError('CONFIG_INVALID', {
      detail: `service ${name}: live version '${config.live}' is not one of its models`,
      issues: [{ pointer: '/live', code: 'unknown_version', message: `'${config.live}' is not a key of models (${Object.keys(config.models).join(', ')})` }],
    });
  }
  checkCrossCheckVersions(name, config, policy);
  for (const [version, model] of Object.entries(config.models)) {
    if (model.timeoutMs !== undefined && model.resilience?.timeouts?.totalMs !== undefined) {
      throw new BallastError('CONFIG_INVALID', {
        detail: `service ${name}: model ${version} sets both timeoutMs and resilience.timeouts.totalMs`,
        issues: [{ pointer: `/models/${version}/timeoutMs`, code: 'conflict', message: 'timeoutMs is shorthand for resilience.timeouts.totalMs; set only one' }],
      });
    }
  }
  const fallback = within('/resilience/fallback', () => compileFallbackChain(config.resilience?.fallback ?? [], { versions: Object.keys(config.models), live: config.live, contract }));
  const versions = new Map<string, ModelVersion>();
  try {
    for (const [version, model] of Object.entries(config.models)) {
      const reused = reusableVersion(deps.previous, version, config);
      if (reused !== undefined) {
        versions.set(version, reused);
        continue;
      }
      const resilience = resolveVersionResilience(config.resilience, model.resilience, model.timeoutMs);
      const adapter = await within(`/models/${version}/adapter`, () =>
        createAdapter(model.adapter, {
          ...deps.adapterContext,
          outputSchema: config.contract.output.schema,
          // A first-byte bound no shorter than the total one is cut by the call's deadline already (every
          // call goes through callResiliently, whose one timer per attempt fires at or before totalMs):
          // the adapter keeps no second controller, timer and listener per call for it.
          timeouts: { connectMs: resilience.timeouts.connectMs, ...(resilience.timeouts.firstByteMs < resilience.timeouts.totalMs ? { firstByteMs: resilience.timeouts.firstByteMs } : {}) },
          maxConnections: resilience.connections.max,
        }),
      );
      const breakerConfig = resilience.breaker;
      let forced: BreakerTransition[] | undefined;
      const onTransition = (transition: BreakerTransition) => {
        forced?.push(transition);
        deps.onBreakerTransition?.({ service: name, version, kind: 'errors', transition, forced: forced !== undefined });
      };
      const breaker = breakerConfig.enabled ? new CircuitBreaker(breakerConfig, { now: deps.now, onTransition, ...(deps.onBreakerCall === undefined ? {} : { onCall: (failed: boolean, ms: number) => deps.onBreakerCall!(name, version, failed, ms) }) }) : undefined;
      const forceBreaker = (state: 'open' | 'closed', reason: string): BreakerTransition | undefined => {
        if (breaker === undefined) return undefined;
        forced = [];
        try {
          if (state === 'open') breaker.forceOpen(reason);
          else breaker.forceClose(reason);
          return forced[0];
        } finally {
          forced = undefined;
        }
      };
      const plan: CallPlan = {
        version,
        what: `model ${name}/${version}`,
        totalMs: resilience.timeouts.totalMs,
        attempts: resilience.retry.attempts,
        backoff: resilience.retry.backoff,
        budget: new RetryBudget(resilience.retry.budget, deps.now),
        breaker,
      };
      const qualityConfig = config.resilience?.qualityBreaker;
      const quality =
        qualityConfig === undefined
          ? undefined
          : new QualityBreaker(qualityConfig, { now: deps.now, onTransition: (transition) => deps.onBreakerTransition?.({ service: name, version, kind: 'quality', transition, forced: transition.forced }) });
      versions.set(version, { name: version, adapter, timeoutMs: resilience.timeouts.totalMs, description: model.description, resilience, breaker, quality, plan, forceBreaker });
    }
  } catch (error) {
    const inUse = new Set(deps.previous?.versions.values() ?? []);
    await Promise.allSettled([...versions.values()].filter((v) => !inUse.has(v)).map((v) => v.adapter.close()));
    throw error;
  }
  return {
    name,
    config,
    contract,
    policy,
    versions,
    resilience: { deadlineMs: config.resilience?.deadlineMs ?? resilienceDefaults.deadlineMs, fallback },
    async close() {
      await Promise.allSettled([...versions.values()].map((v) => v.adapter.close()));
    },
  };
}

/** A version checker must name another model of the service; `prefer` the checker's own version. */
function checkCrossCheckVersions(name: string, config: ServiceConfig, policy: Policy): void {
  const issues: Issue[] = [];
  policy.crossChecks.forEach((checker, index) => {
    const pointer = `/policy/crossChecks/${index}`;
    if (checker.version !== undefined && !Object.hasOwn(config.models, checker.version)) {
      issues.push({ pointer: `${pointer}/version`, code: 'unknown_version', message: `'${checker.version}' is not a key of models (${Object.keys(config.models).join(', ')})` });
    } else if (checker.version === config.live) {
      issues.push({ pointer: `${pointer}/version`, code: 'checks_itself', message: `'${checker.version}' is the live version: a checker must be another model` });
    }
    if (checker.prefer !== undefined && checker.prefer !== checker.version) {
      // Preferring the served answer is `flag`; and under a rollout the live version may not be the one that served.
      issues.push({ pointer: `${pointer}/prefer`, code: 'unknown_version', message: `prefer names the checker's version (${checker.version ?? 'none'}) whose answer is given on a disagreement, not '${checker.prefer}' (to keep the served answer, use onDisagree: flag)` });
    }
  });
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: `service ${name}: a cross-check names a version it cannot use`, issues });
}

/** Runs `fn`, prefixing the pointers of a CONFIG_INVALID it throws with `prefix`. */
function within<T>(prefix: string, fn: () => T): T {
  const rebase = (error: unknown): never => {
    if (error instanceof BallastError && error.code === 'CONFIG_INVALID') {
      const issues: Issue[] = error.issues.map((issue) => ({ ...issue, pointer: prefix + issue.pointer }));
      if (issues.length === 0) issues.push({ pointer: prefix, code: 'invalid', message: error.detail });
      throw new BallastError('CONFIG_INVALID', { detail: error.detail, issues, cause: error });
    }
    throw error;
  };
  try {
    const result = fn();
    return result instanceof Promise ? (result.catch(rebase) as T) : result;
  } catch (error) {
    return rebase(error);
  }
}
