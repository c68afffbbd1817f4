import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRedactionKey, hashValue } from '../contracts/index.js';
import { BallastError } from '../errors/index.js';
import { checkTransition as checkModelTransition, createAuditLedger, createModelRegistry, createRetention, type AuditLedger, type ConfigServices, type ModelRegistry, type ModelState, type Retention, type RetentionConfig } from '../governance/index.js';
import { breakerFigures, createService, createShadowRunner, ServiceCatalog, type BreakerEvent, type Service, type ShadowRunner } from '../pipeline/index.js';
import type { AlertLogger } from '../monitoring/alerts/index.js';
import { createMonitoringRuntime, resolveServiceMonitoring, type MonitoringRuntime } from '../server/monitoring-runtime.js';
import { newId, openStore, type Store, type StoreConfig } from '../store/index.js';
import { configErrorForService, type BallastConfig } from './config-file.js';
import { loadOrCreateAuditSigner } from './audit-signer.js';
import { readSecrets } from './environment.js';
import { createLiveConfig, type LiveConfig } from './live-config.js';
import { createSafeChange, type SafeChange } from './safe-change.js';

/** Everything a running Ballast holds: compiled services and the store. */
export interface Runtime {
  /** The running revision's services (a ServiceCatalog: `apply` swaps what it holds). */
  readonly services: ReadonlyMap<string, Service>;
  readonly catalog: ServiceCatalog;
  /** Live configuration: revisions and `apply` over the catalog. */
  readonly live: LiveConfig;
  /** Shadow copies for shadow rollouts, kept in the store's shadow decisions. */
  readonly shadow: ShadowRunner;
  /** Rollouts, approval gates, the kill switch and the routing the pipeline reads (started by the server). */
  readonly safeChange: SafeChange;
  /** The model registry: versions, digests, lifecycle. */
  readonly registry: ModelRegistry;
  /** Compiles one service of `config` the way the runtime does, taking versions over from `previous` (for `apply`). */
  compile(name: string, config: BallastConfig, previous: Service | undefined): Promise<Service>;
  readonly store: Store;
  readonly redactionKey: string;
  /** Monitoring over the store; not started (the server starts it; `decide` leaves recovery to the next start). */
  readonly monitoring: MonitoringRuntime;
  /** The Merkle log over the store, signing with the data directory's key. */
  readonly ledger: AuditLedger;
  /** Purges, erasure and legal holds, with each service's `retention:` term. */
  readonly retention: Retention;
  hashSubject(key: string): string;
  /** Adds a listener of breaker state changes (metrics, logs); the runtime itself keeps them in the store. */
  onBreakerTransition(listener: (event: BreakerEvent) => void): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly dataDir: string;
  /** From BALLAST_REDACTION_KEY; otherwise a key kept in `<dataDir>/redaction.key`. */
  readonly redactionKey?: string;
  /** The config file's text, to point at lines when a service fails to compile. */
  readonly configText?: string;
  /** Where monitoring's background work reports failures (checkpoints, evaluations, alert deliveries). */
  readonly logger?: AlertLogger;
  /**
   * Compile only these services (a command that acts on one service, such as `reference build`):
   * the others' adapters are not created, so their secrets need not be set. Default: every service.
   */
  readonly services?: readonly string[];
  /** Monitoring only evaluates what is stored (`ballast monitor --evaluate`, which may run beside a server): see MonitoringHubOptions.evaluateOnly. */
  readonly monitoringEvaluateOnly?: boolean;
}

/** Opens the store and compiles every service of `config`: the composition root. */
export async function startRuntime(config: BallastConfig, options: RuntimeOptions): Promise<Runtime> {
  const redactionKey = options.redactionKey ?? loadOrCreateKey(options.dataDir);
  const storeConfig = storeConfigOf(config, options.dataDir);
  const chosen = Object.entries(config.services).filter(([name]) => options.services === undefined || options.services.includes(name));
  const secrets = readSecrets(secretNames(Object.fromEntries(chosen)));
  const services = new Map<string, Service>();
  // Breakers change state only once calls flow, after the store is open; listeners are the server's.
  const breakerListeners: ((event: BreakerEvent) => void)[] = [];
  let keepTransition: (event: BreakerEvent) => void = () => undefined;
  const onBreakerTransition = (event: BreakerEvent) => {
    keepTransition(event);
    for (const listener of breakerListeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the breaker has changed state either way.
      }
    }
  };
  const compile = serviceCompiler({ redactionKey, secrets, onBreakerTransition });
  try {
    for (const [name] of chosen) {
      try {
        const service = await compile(name, config, undefined);
        services.set(name, service);
      } catch (error) {
        if (error instanceof BallastError && error.code === 'CONFIG_INVALID') throw configErrorForService(config, options.configText, name, error);
        throw error;
      }
    }
  } catch (error) {
    await Promise.allSettled([...services.values()].map((s) => s.close()));
    throw error;
  }
  const store = await openStore(storeConfig);
  let ledger: AuditLedger;
  try {
    ledger = await openAuditLedger(store, options.dataDir);
  } catch (error) {
    await store.close();
    await Promise.allSettled([...services.values()].map((s) => s.close()));
    throw error;
  }
  keepTransition = (event) => {
    // An operator's change is kept, with its audit event, by whoever forced it, before it took effect.
    if (event.forced) return;
    const { transition: t } = event;
    store.breakers
      .append({
        id: newId('brk'),
        service: event.service,
        version: event.version,
        kind: event.kind,
        from: t.from,
        to: t.to,
        at: new Date(t.at).toISOString(),
        reason: t.reason,
        figures: breakerFigures(event),
        actor: null,
      })
      .catch((error: unknown) => options.logger?.error({ err: error, service: event.service, version: event.version }, 'a breaker transition could not be kept in the store'));
  };
  const subjectKey = createRedactionKey(redactionKey);
  const catalog = new ServiceCatalog(0, services);
  const monitoring = createMonitoringRuntime({
    services: catalog,
    store,
    secret: (name) => secrets[name] ?? readSecrets([name])[name],
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.monitoringEvaluateOnly === true ? { evaluateOnly: true } : {}),
  });
  try {
    await restoreBreakers(catalog, store);
  } catch (error) {
    await monitoring.close();
    await store.close();
    await Promise.allSettled([...services.values()].map((s) => s.close()));
    throw error;
  }
  // The monitors drive the quality breakers: every status of a version's whole traffic (not a segment).
  monitoring.hub.subscribeStatus((status) => {
    if (status.segment !== '') return;
    catalog.get(status.service)?.versions.get(status.version)?.quality?.observe(status);
  });
  const registry = createModelRegistry({ store });
  // Live configuration and safe change need each other: apply asks the gate, the rollouts apply promotions.
  const safeChangeRef: { current?: SafeChange } = {};
  const live = createLiveConfig({
    catalog,
    store,
    compile,
    initial: config,
    baseDir: config.baseDir,
    // Every version a configuration names is registered before it can serve (a changed model under an old name is refused).
    registerModels: async (next, { actor, dryRun, markLive }) => {
      await registry.ensureAll(next.services as ConfigServices, { baseDir: next.baseDir, actor, dryRun, ...(markLive === true ? { markLive } : {}) });
    },
    checkLiveChange: async (changes) => {
      for (const { service, to } of changes) {
        // Back to a version that served before is a rollback, which no gate holds up.
        if ((await registry.history(service, to)).some((t) => t.to === 'live')) continue;
        const gate = await safeChangeRef.current!.gate(service, to);
        if (!gate.ok) {
          throw new BallastError('GATE_NOT_MET', { detail: `${service}/${to} cannot be made live by apply: ${gate.issues.map((i) => i.message).join('; ')}; start a rollout of it instead`, issues: gate.issues });
        }
      }
    },
    liveChanged: async (changes, { actor, revision, reason }) => {
      for (const { service, from, to } of changes) {
        await registry.transition({ service, version: to, to: 'live', reason, revision }, { actor });
        const old = await registry.get(service, from);
        if (old?.state === 'live') await registry.transition({ service, version: from, to: 'retired', reason, revision }, { actor });
      }
    },
    ...(options.logger === undefined ? {} : { onError: (error: unknown, what: string) => options.logger!.error({ err: error }, what) }) });
  const shadow = createShadowRunner({
    write: (rows) => store.shadows.appendMany(rows),
    newId: () => newId('shd'),
    ...(options.logger === undefined ? {} : { onError: (error: unknown) => options.logger!.error({ err: error }, 'a shadow decision could not be kept') }),
  });
  const safeChange = (safeChangeRef.current = createSafeChange({
    store,
    catalog,
    live,
    versionFacts: async (service, version) => {
      const v = await registry.get(service, version);
      if (v === undefined) return undefined;
      const evaluation = v.spec.evaluation;
      return { digest: v.digest, author: v.author, ...(evaluation === undefined ? {} : { evaluation: { metrics: evaluation.metrics, ...(evaluation.subgroups === undefined ? {} : { subgroups: evaluation.subgroups }) } }) };
    },
    checkTransition: async (service, version, to) => {
      const registered = await registry.get(service, version);
      if (registered !== undefined) checkModelTransition(registered.state, to, `${service}/${version}`);
    },
    transition: async (service, version, to, { actor, reason, rolloutId }) => {
      await registry.transition({ service, version, to: to as ModelState, reason, rolloutId, revision: catalog.revision }, { actor });
    },
    ...(options.logger === undefined ? {} : { onError: (error: unknown, what: string) => options.logger!.error({ err: error }, `${what} failed`) }),
  }));
  return {
    services: catalog,
    catalog,
    live,
    shadow,
    safeChange,
    registry,
    compile,
    store,
    redactionKey,
    monitoring,
    ledger,
    retention: createRetention({ store, policies: new Map(Object.entries(config.services).map(([name, s]) => [name, s.retention as RetentionConfig | undefined])), hashSubject: (key) => hashValue(key, subjectKey) }),
    // The same keyed hash as pii fields, so a subject key and an equal pii value join.
    hashSubject: (key) => hashValue(key, subjectKey),
    onBreakerTransition: (listener) => void breakerListeners.push(listener),
    async close() {
      safeChange.stop();
      await shadow.close();
      await monitoring.close();
      await store.close();
      await live.close();
      await Promise.allSettled([...catalog.values()].map((s) => s.close()));
    },
  };
}

/**
 * Compiles one service of a configuration the way a running server does (its adapters with the secrets they name,
 * read once and again for names not seen yet; its monitoring block checked), taking versions over from `previous`.
 */
export function serviceCompiler(deps: {
  readonly redactionKey: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly onBreakerTransition: (event: BreakerEvent) => void;
  readonly onBreakerCall?: (service: string, version: string, failed: boolean, durationMs: number) => void;
}): (name: string, next: BallastConfig, previous: Service | undefined) => Promise<Service> {
  const { redactionKey, secrets, onBreakerTransition, onBreakerCall } = deps;
  return async (name, next, previous) => {
    const names = secretNames(next.services[name]);
    const known = [...names].filter((n) => secrets[n] !== undefined);
    const service = await createService(name, next.services[name]!, {
      adapterContext: { baseDir: next.baseDir, secrets: known.length === names.size ? secrets : { ...secrets, ...readSecrets(names) } },
      redactionKey,
      onBreakerTransition,
      ...(onBreakerCall === undefined ? {} : { onBreakerCall }),
      ...(previous === undefined ? {} : { previous }),
    });
    try {
      resolveServiceMonitoring(service);
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  };
}

/**
 * Breakers a person must close stay open across a restart: a quality breaker that was open, and an
 * error breaker an operator forced open (one that opened by itself starts closed, as its window is gone).
 */
async function restoreBreakers(services: ReadonlyMap<string, Service>, store: Store): Promise<void> {
  for (const service of services.values()) {
    const history = await store.breakers.list({ service: service.name, limit: 1000 });
    if (history.length === 0) continue;
    for (const version of service.versions.values()) {
      const quality = history.find((t) => t.kind === 'quality' && t.version === version.name);
      if (version.quality !== undefined && quality !== undefined) version.quality.restore(quality.to === 'open' ? 'open' : 'closed', Date.parse(quality.at), quality.reason, quality.figures);
      const errors = history.find((t) => t.kind === 'errors' && t.version === version.name);
      if (errors !== undefined && errors.to === 'open' && errors.actor !== null) version.forceBreaker('open', errors.reason);
    }
  }
}

/** The audit ledger over a store, with the data directory's signing key (made on first use, refused when lost). */
export async function openAuditLedger(store: Store, dataDir: string): Promise<AuditLedger> {
  const signer = loadOrCreateAuditSigner(dataDir, (await store.audit.latestCheckpoint()) !== undefined);
  return createAuditLedger({ store, signerKey: signer.signerKey, verifierKey: signer.verifierKey, origin: signer.origin });
}

/** A ledger that verifies and proves with a verifier key only: it can neither sign nor make a key. */
export function verifyingLedger(store: Store, verifierKey: string): AuditLedger {
  return createAuditLedger({ store, verifierKey, origin: verifierKey.slice(0, verifierKey.indexOf('+')) });
}

/** Where the store is: the config's `store:` block, else `<dataDir>/ballast.db`. */
export function storeConfigOf(config: Pick<BallastConfig, 'store' | 'baseDir'> | undefined, dataDir: string): StoreConfig {
  return config?.store
    ? { ...config.store, path: config.store.path === ':memory:' ? ':memory:' : path.resolve(config.baseDir, config.store.path) }
    : { kind: 'sqlite', path: path.join(dataDir, 'ballast.db') };
}

/** The name of the person running the CLI, for audit events of commands that act on the data directory. */
export function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the uid.
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** Names of secrets that adapter blocks refer to through keys ending in `Secret`. */
export function secretNames(value: unknown, names = new Set<string>()): Set<string> {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key.endsWith('Secret') && typeof child === 'string') names.add(child);
      else secretNames(child, names);
    }
  }
  return names;
}

function loadOrCreateKey(dataDir: string): string {
  const file = path.join(dataDir, 'redaction.key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('hex');
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
}
