// Composes monitoring for compiled services: the monitoring config of each service (resolved once,
// here), its reference profile, the pure monitors, the hub, and alert delivery. The HTTP server and
// the CLI both use it, so a decision made anywhere is monitored the same way.
import { formatJsonPointer, parseJsonPointer, resolveJsonPointer } from '../adapters/index.js';
import { BallastError, type Issue } from '../errors/index.js';
import { createAlertDispatcher, type AlertDispatcher, type AlertLogger } from '../monitoring/alerts/index.js';
import { MonitoringHub, type HubService, type MonitorTransition } from '../monitoring/hub/index.js';
import { evaluateWindow, resolveMonitoringConfig, windowOf, type MonitorEvaluation, type ResolvedMonitoringConfig } from '../monitoring/monitors/index.js';
import { DEFAULT_REFERENCE_NAME, loadReferenceProfile } from '../monitoring/reference/index.js';
import { stageNames, type Service } from '../pipeline/index.js';
import type { Store } from '../store/index.js';
import { createFairnessWatch, fairnessConfigOf, type FairnessWatch } from '../monitoring/fairness/index.js';
import { ownershipOf } from '../governance/index.js';


export interface MonitoringRuntimeOptions {
  readonly services: ReadonlyMap<string, Service>;
  readonly store: Store;
  /** The value of a named secret (webhook signing keys), read by the CLI from the environment. */
  secret(name: string): string | undefined;
  /** Where background work (checkpoints, evaluations, deliveries) reports; pino fits. */
  readonly logger?: AlertLogger;
  readonly now?: () => Date;
  readonly checkpointEveryMs?: number;
  /** Delivery retry timing (tests shorten it). */
  readonly alertBackoff?: { readonly baseMs?: number; readonly maxMs?: number; readonly maxAttempts?: number };
  /** The hub counts nothing, replays nothing and writes no checkpoint (MonitoringHubOptions.evaluateOnly). */
  readonly evaluateOnly?: boolean;
}

export interface MonitoringRuntime {
  readonly hub: MonitoringHub<MonitorEvaluation>;
  readonly dispatcher: AlertDispatcher;
  readonly configs: ReadonlyMap<string, ResolvedMonitoringConfig>;
  /** Fairness of the services with a `fairness:` block, judged every minute; its changes go to the dispatcher. */
  readonly fairness: FairnessWatch;
  /** Loads references and statuses, recovers from the log, and (unless `schedule: false`) starts checkpoints, evaluations and alert delivery. */
  start(options?: { readonly schedule?: boolean }): Promise<void>;
  /** Stops the schedule, writes a last checkpoint, waits for deliveries in flight. Idempotent. */
  close(): Promise<void>;
}

/** What a `latency` budget may name: `total` (the whole decision) and each stage of the decision path. */
export const latencyStages: readonly string[] = ['total', ...stageNames];

/** Resolves the monitoring block of one service; CONFIG_INVALID pointers are relative to the service (`/monitoring/...`). */
export function resolveServiceMonitoring(service: Service): ResolvedMonitoringConfig {
  try {
    return resolveMonitoringConfig(service.config.monitoring, { stages: latencyStages });
  } catch (error) {
    if (error instanceof BallastError && error.code === 'CONFIG_INVALID') {
      const issues: Issue[] = error.issues.map((issue) => ({ ...issue, pointer: `/monitoring${issue.pointer}` }));
      throw new BallastError('CONFIG_INVALID', { detail: error.detail, issues: issues.length > 0 ? issues : [{ pointer: '/monitoring', code: 'invalid', message: error.detail }], cause: error });
    }
    throw error;
  }
}

/** A reader of the value at an RFC 6901 pointer (parsed once), or undefined when absent. */
function reader(pointer: string): (value: unknown) => unknown {
  const parsed = parseJsonPointer(pointer);
  return (value) => {
    const found = resolveJsonPointer(value, parsed);
    return found.found ? found.value : undefined;
  };
}

function asLabel(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
}

/**
 * How a service's predicted and true labels are read, by the live monitors and by references built
 * from a window of the log alike: the `monitoring.outputLabel` pointer, else the first categorical
 * field of the output contract, else a scalar output; a label in feedback is the bare label or an
 * object read at the same pointer (`{ "label": "spam" }`).
 */
export function monitoringLabels(service: Service, config: ResolvedMonitoringConfig = resolveServiceMonitoring(service)) {
  let pointer = config.outputLabel;
  if (pointer === undefined) {
    for (const [name, field] of service.contract.outputFields) {
      if (field.kind === 'categorical') {
        pointer = formatJsonPointer([name]);
        break;
      }
    }
  }
  const read = pointer === undefined ? undefined : reader(pointer);
  const labelAt = (value: unknown) => asLabel(read === undefined || value === null || typeof value !== 'object' ? value : read(value));
  return { outputLabel: labelAt, feedbackLabel: labelAt };
}

function hubService(service: Service, config: ResolvedMonitoringConfig): HubService<MonitorEvaluation> {
  const labels = monitoringLabels(service, config);
  const timestamp = config.timestamp;
  const readTimestamp = reader(timestamp ?? '');
  return {
    name: service.name,
    window: (ms) => windowOf(ms, config.windowMs),
    ...(timestamp === undefined
      ? {}
      : {
          eventTime: (input) => {
            const v = readTimestamp(input);
            const ms = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : Number.NaN;
            return Number.isFinite(ms) ? ms : undefined;
          },
        }),
    windowsByEventTime: timestamp !== undefined,
    segments: config.segments,
    outputLabel: labels.outputLabel,
    feedbackLabel: labels.feedbackLabel,
    stages: [...new Set(['total', 'invoke', ...Object.keys(config.latency)])],
    labelDelayMs: config.performance.labelDelayMs,
    sampleSize: config.drift.sampleSize,
    evaluate: (input, reference, previous) => evaluateWindow(input, reference, config, previous as ReadonlyMap<string, never>),
  };
}

export function createMonitoringRuntime(options: MonitoringRuntimeOptions): MonitoringRuntime {
  const configs = new Map<string, ResolvedMonitoringConfig>();
  for (const service of options.services.values()) {
    configs.set(service.name, resolveServiceMonitoring(service));
    // Refuses (CONFIG_INVALID, pointers relative to the service) a rule with no webhook and no on-call route, a high-risk service without owners.
    ownershipOf(service);
  }
  const store = options.store;
  const ownership = (name: string) => {
    const service = options.services.get(name);
    return service === undefined ? undefined : ownershipOf(service);
  };
  const dispatcher = createAlertDispatcher({
    store,
    rules: (service) => configs.get(service)?.alerts ?? [],
    secret: options.secret,
    ownership,
    // Read at each pass (ownershipOf is cached per config), so a service whose config changes under a live apply is seen as it is now.
    escalatingServices: () => [...options.services.values()].filter((s) => ownershipOf(s).escalation !== null).map((s) => s.name),
    ...(options.now === undefined ? {} : { now: () => options.now!().getTime() }),
    ...(options.alertBackoff === undefined ? {} : { backoff: options.alertBackoff }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const logger = options.logger;
  const hub = new MonitoringHub<MonitorEvaluation>({
    store,
    services: [...options.services.values()].map((s) => hubService(s, configs.get(s.name)!)),
    async loadReference(service) {
      const record = await store.references.get(service, DEFAULT_REFERENCE_NAME);
      return record === undefined ? undefined : loadReferenceProfile(record);
    },
    onTransition: async (transition: MonitorTransition) => void (await dispatcher.onTransition(transition)),
    ...(logger === undefined ? {} : { onError: (error: unknown, what: string) => logger.error({ err: error }, `monitoring: ${what} failed`) }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.checkpointEveryMs === undefined ? {} : { checkpointEveryMs: options.checkpointEveryMs }),
    evaluateEveryMs: Math.min(...[...configs.values()].map((c) => c.evaluateEveryMs), 3_600_000),
    ...(options.evaluateOnly === true ? { evaluateOnly: true } : {}),
  });
  const fairness = createFairnessWatch({
    store,
    services: () => [...options.services.values()].flatMap((s) => {
      const config = fairnessConfigOf(s);
      return config === undefined ? [] : [{ name: s.name, config }];
    }),
    onTransition: async (t) => void (await dispatcher.onTransition(t)),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(logger === undefined ? {} : { onError: (error: unknown) => logger.error({ err: error }, 'monitoring: fairness evaluation failed') }),
  });
  let started = false;
  let closed: Promise<void> | undefined;
  return {
    hub,
    dispatcher,
    configs,
    fairness,
    async start(startOptions = {}) {
      if (started) return;
      started = true;
      await hub.start();
      if (startOptions.schedule ?? true) {
        hub.startSchedule();
        dispatcher.start();
        fairness.start();
      }
    },
    close() {
      closed ??= (async () => {
        await fairness.stop();
        await hub.close();
        await dispatcher.close();
      })();
      return closed;
    },
  };
}
