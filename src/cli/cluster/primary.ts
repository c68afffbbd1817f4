// `ballast serve --workers N`: one primary process and N decision workers sharing the port.
//
// The primary is the server as one process runs it (the store and its group commit, the monitors,
// the breaker history, rollouts, the review queue's sweeps, alert deliveries, audit checkpoints),
// listening on an internal loopback address. The workers (node:cluster; the primary hands them the
// connections of the public port) each compile the running revision and answer decisions
// themselves: authentication (keys read from the primary), admission, contracts, the model calls,
// policy, explanations. Every decision's record goes to the primary, which commits it in its group
// commit (with its review item), counts it in the monitors, and only then acknowledges it: the
// worker answers after that, so nothing answered is lost, and there is one writer per database.
// Every other request a worker forwards to the primary as it came.
//
// What the workers share through the primary: each configuration revision (compiled by each),
// the routing of rollouts and the kill switch, the monitors' states (for explanations), the
// quality breakers (decided by the primary's monitors), breakers an operator forced, key
// revocations, and every call each worker's error breakers counted (so each judges all traffic).
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { BallastError } from '../../errors/index.js';
import type { HubStatus } from '../../monitoring/hub/index.js';
import type { DecisionRecord } from '../../pipeline/index.js';
import { reviewItemOf } from '../../server/index.js';
import type { StoredApiKey, StoredAuditEvent, StoredShadowDecision } from '../../store/index.js';
import { checkInsecureNoAuth, listenFailure, startServing, type RunningServer, type ServeOptions } from '../serve-runtime.js';
import { Channel, toWireError, type Port, type WireError } from './ipc.js';
import type { BreakerNote, CallsNote, InFlightNote, ListeningNote, RevisionNote, RoutingNote, WorkerInit } from './protocol.js';
import { RespawnBackoff } from './respawn.js';

export interface ClusterOptions extends ServeOptions {
  /** Decision workers (at least 1). */
  readonly workers: number;
}

export interface RunningCluster {
  /** The public address the workers share. */
  readonly url: string;
  readonly primary: RunningServer;
  readonly runtime: RunningServer['runtime'];
  readonly logger: RunningServer['logger'];
  readonly firstAdminKey?: RunningServer['firstAdminKey'];
  /** The workers' process ids now. */
  workerPids(): number[];
  /** Drains the workers (each finishes its decisions), then the primary. Idempotent. */
  stop(): Promise<void>;
}

interface Member {
  readonly index: number;
  readonly worker: Worker;
  readonly channel: Channel;
  inFlight: InFlightNote | undefined;
  listening: (note: ListeningNote) => void;
}

/** How long a /metrics scrape waits for each worker's registry before it leaves that worker out. */
const metricsWaitMs = 2000;

/** How often the primary looks for a new revision or routing to pass on. */
const watchEveryMs = 100;

/** How long a worker that exited still holds the checkpoint watermark at its last report (its pipe is read by then). */
const departedHoldMs = 10_000;

/** Starts the primary and its workers; resolves once every worker listens. */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  // Against the public address: the primary itself listens on 127.0.0.1.
  checkInsecureNoAuth(options);
  const members = new Map<number, Member>();
  const broadcast = (op: string, body: unknown) => {
    for (const m of members.values()) m.channel.note(op, body);
  };
  // /metrics: the primary's registry (monitors, alerts, reviews, rollouts) merged with every worker's (decisions, model
  // calls, breakers, admission): counters and histograms add up, as prom-client's AggregatorRegistry does for cluster.
  const metricsText = async (): Promise<string> => {
    const own = await primary.server.metrics.registry.getMetricsAsJSON();
    // A worker that does not answer within a scrape's patience is left out of this scrape (logged), not waited for.
    const theirs = await Promise.all(
      [...members.values()].map((m) =>
        m.channel.request<MetricObjectWithValues<MetricValue<string>>[]>('metrics', null, metricsWaitMs).catch((error: unknown) => {
          logger.warn({ worker: m.index, err: error }, `decision worker ${m.index} left out of /metrics: ${error instanceof Error ? error.message : String(error)}`);
          return [];
        }),
      ),
    );
    return AggregatorRegistry.aggregate([own, ...theirs]).metrics();
  };
  const primary = await startServing({ ...options, host: '127.0.0.1', port: 0, trustProxy: (address: string, hop: number) => hop === 0 && address === '127.0.0.1', onKeyInvalidated: (keyId) => broadcast('key', keyId), metricsText: () => metricsText() });
  const { runtime, logger } = primary;
  const { store, catalog } = runtime;
  const hub = runtime.monitoring.hub;

  // Decisions committed here but not yet counted, by a sequence number: their createdAt holds the watermark down.
  const committing = new Map<number, string>();
  let seq = 0;
  // The checkpoint watermark (see checkpoint-coverage.ts): no decision created before it is still to be counted. A
  // worker's report says so of its decisions as of `at`; one made later has a later createdAt.
  const departed: { at: string; until: number }[] = [];
  const removeInFlight = hub.addInFlightSource(() => {
    let oldest: string | undefined;
    for (const at of committing.values()) if (oldest === undefined || at < oldest) oldest = at;
    const now = Date.now();
    while (departed.length > 0 && departed[0]!.until <= now) departed.shift();
    for (const d of departed) if (oldest === undefined || d.at < oldest) oldest = d.at;
    for (const m of members.values()) {
      const v = m.inFlight === undefined ? undefined : (m.inFlight.oldest ?? m.inFlight.at);
      if (v !== undefined && (oldest === undefined || v < oldest)) oldest = v;
    }
    return oldest;
  });

  // Null: durable and counted; otherwise why not (a store failure that is not a BallastError is STORE_UNAVAILABLE).
  const commitOne = async (record: DecisionRecord): Promise<WireError | null> => {
    const n = ++seq;
    committing.set(n, record.createdAt);
    try {
      await store.decisions.append(record, record.review === undefined ? undefined : reviewItemOf(record));
      try {
        hub.observeDecision(record);
      } catch (error) {
        // Durable and about to be acknowledged; monitoring recovers it from the log after a restart.
        logger.error({ err: error }, 'monitoring could not count a decision');
      }
      return null;
    } catch (error) {
      return toWireError(error instanceof BallastError ? error : new BallastError('STORE_UNAVAILABLE', { cause: error }));
    } finally {
      committing.delete(n);
    }
  };

  const revisionNote = async (): Promise<RevisionNote> => {
    const number = catalog.revision;
    const stored = await store.revisions.get(number);
    if (stored === undefined) throw new BallastError('INTERNAL', { detail: `the running revision ${number} is not in the store` });
    return { number, text: stored.text, source: stored.source };
  };
  const routingNote = (): RoutingNote => Object.fromEntries([...catalog.keys()].map((name) => [name, runtime.safeChange.routing(name) ?? null]));
  const breakerNotes = (): BreakerNote[] =>
    [...catalog.values()].flatMap((service) =>
      [...service.versions.values()].flatMap((v): BreakerNote[] => {
        const notes: BreakerNote[] = [];
        const q = v.quality?.snapshot();
        if (q !== undefined) notes.push({ kind: 'quality', service: service.name, version: v.name, state: q.state === 'open' ? 'open' : 'closed', since: q.since, reason: q.reason ?? '', figures: q.figures ?? {} });
        const e = v.breaker?.snapshot();
        if (e !== undefined && e.state === 'open' && e.openUntil === Number.POSITIVE_INFINITY) notes.push({ kind: 'errors', service: service.name, version: v.name, state: 'open', reason: 'forced open by an operator' });
        return notes;
      }),
    );

  const workerMain = fileURLToPath(new URL('./worker-main.js', import.meta.url));
  cluster.setupPrimary({ exec: workerMain, args: [], serialization: 'json' });
  let stopping = false;
  let nextIndex = 1;
  const respawn = new RespawnBackoff();
  let publicPort = options.port;

  const spawn = (): Promise<number> => {
    const index = nextIndex++;
    const startedAt = Date.now();
    const worker = cluster.fork();
    return new Promise<number>((resolve, reject) => {
      const member: Member = {
        index,
        worker,
        inFlight: undefined,
        listening: (note) => (note.ok ? resolve(note.port) : reject(listenError(note, options))),
        channel: new Channel(worker as unknown as Port, {
          lostCode: 'STORE_UNAVAILABLE',
          handlers: {
            init: async (): Promise<WorkerInit> => {
              const init: WorkerInit = {
                index,
                host: options.host,
                // The port asked for, even 0: node:cluster shares one handle per address and port as the workers name them.
                port: options.port,
                forwardTo: primary.url,
                revision: await revisionNote(),
                baseDir: runtime.live.current().baseDir,
                redactionKey: runtime.redactionKey,
                logLevel: options.logLevel,
                authOff: options.insecureNoAuth === true,
                statuses: [...catalog.keys()].flatMap((name) => [...hub.activeAlerts(name, null)]),
                breakers: breakerNotes(),
                routing: routingNote(),
              };
              // It can decide from now on: the watermark waits for its first report.
              member.inFlight = { oldest: undefined, at: new Date().toISOString() };
              return init;
            },
            // A worker's decisions of one event-loop turn come in one message; each joins the group commit on its own, so a
            // bad one fails alone. The answer says, per record, null (durable and counted) or why not.
            append: (records: readonly DecisionRecord[]) => Promise.all(records.map((record) => commitOne(record))),
            key: (id: string): Promise<StoredApiKey | undefined> => store.identity.getKey(id),
            audit: (event: StoredAuditEvent) => store.audit.append(event),
            shadows: (rows: readonly StoredShadowDecision[]) => store.shadows.appendMany(rows),
          },
          notes: {
            inflight: (note: InFlightNote) => void (member.inFlight = note),
            // Each worker's breakers see the others' calls.
            calls: (note: CallsNote) => {
              for (const m of members.values()) if (m !== member) m.channel.note('calls', note);
              // The primary's own breakers count them too, so its breaker history and routes show what the workers see.
              for (const [service, version, failed, ms] of note.calls) catalog.get(service)?.versions.get(version)?.breaker?.observe(failed, ms);
            },
            listening: (note: ListeningNote) => member.listening(note),
          },
        }),
      };
      members.set(worker.id, member);
      // An answer sent as the worker died (ERR_IPC_CHANNEL_CLOSED) is an error event: without a listener it would crash the primary.
      worker.on('error', (error) => logger.warn({ err: error, worker: index }, `decision worker ${index}: ${error.message}`));
      worker.once('exit', (code, signal) => {
        members.delete(worker.id);
        // Its last records may still be unread in the pipe: its last report holds the watermark down a while longer.
        if (member.inFlight !== undefined) departed.push({ at: member.inFlight.oldest ?? member.inFlight.at, until: Date.now() + departedHoldMs });
        member.channel.close('the worker exited');
        reject(new BallastError('SERVER_LISTEN_FAILED', { detail: `decision worker ${index} exited (${signal ?? `code ${code}`}) before it listened` }));
        if (stopping) return;
        // Code 0: it drained on a signal of its own (a SIGTERM to one worker restarts it); anything else is a crash.
        if (code === 0) logger.info({ worker: index }, `decision worker ${index} drained; starting another`);
        else logger.error({ worker: index, code, signal }, `decision worker ${index} exited (${signal ?? `code ${code}`}); starting another`);
        setTimeout(() => {
          if (!stopping) spawn().catch((error: unknown) => logger.error({ err: error }, 'a decision worker could not start'));
        }, respawn.after(code === 0, Date.now() - startedAt)).unref();
      });
    });
  };

  const unsubscribeStatus = hub.subscribeStatus((status: HubStatus) => broadcast('status', status));
  runtime.onBreakerTransition((event) => {
    const { service, version, transition: t } = event;
    if (event.kind === 'quality') {
      broadcast('breaker', { kind: 'quality', service, version, state: t.to === 'open' ? 'open' : 'closed', since: t.at, reason: t.reason, figures: event.transition.figures } satisfies BreakerNote);
    } else if (event.forced && (t.to === 'open' || t.to === 'closed')) {
      broadcast('breaker', { kind: 'errors', service, version, state: t.to, reason: t.reason.replace(/^forced (open|closed) by an operator: /, '') } satisfies BreakerNote);
    }
  });
  let lastRevision = catalog.revision;
  let lastRouting = JSON.stringify(routingNote());
  let watching = false;
  // The revision goes out before the routing that may name its versions; workers take both in that order.
  const watch = setInterval(() => {
    if (watching) return;
    watching = true;
    void (async () => {
      if (catalog.revision !== lastRevision) {
        lastRevision = catalog.revision;
        broadcast('revision', await revisionNote());
      }
      const routing = routingNote();
      const text = JSON.stringify(routing);
      if (text !== lastRouting) {
        lastRouting = text;
        broadcast('routing', routing);
      }
    })()
      .catch((error: unknown) => logger.error({ err: error }, 'could not pass a revision or routing to the workers'))
      .finally(() => (watching = false));
  }, watchEveryMs);
  watch.unref();

  const stopWorkers = async () => {
    stopping = true;
    await Promise.all(
      [...members.values()].map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.worker.isDead()) return resolve();
            const timer = setTimeout(() => m.worker.process.kill('SIGKILL'), 30_000);
            m.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            m.channel.note('drain', null);
          }),
      ),
    );
  };

  let stopped: Promise<void> | undefined;
  // The workers first (each finishes its decisions, which need the primary), then the primary.
  const stop = () =>
    (stopped ??= (async () => {
      await stopWorkers();
      clearInterval(watch);
      unsubscribeStatus();
      removeInFlight();
      await primary.stop();
    })());
  try {
    const first = await spawn();
    publicPort = first;
    await Promise.all(Array.from({ length: options.workers - 1 }, () => spawn()));
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${publicPort}`;
  return {
    url,
    primary,
    runtime,
    logger,
    ...(primary.firstAdminKey === undefined ? {} : { firstAdminKey: primary.firstAdminKey }),
    workerPids: () => [...members.values()].flatMap((m) => (m.worker.process.pid === undefined ? [] : [m.worker.process.pid])),
    stop,
  };
}

function listenError(note: ListeningNote, options: ClusterOptions): BallastError {
  if (note.ok) return new BallastError('INTERNAL');
  return listenFailure(options, note.code) ?? new BallastError('SERVER_LISTEN_FAILED', { detail: `cannot listen on ${options.host}:${options.port}: ${note.detail}` });
}
