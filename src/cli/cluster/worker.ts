// A decision worker of `ballast serve --workers N`: it compiles the running revision itself and
// answers decisions on the shared port; the store, the monitors and every control loop stay in the
// primary, which it reaches over IPC (see primary.ts for the whole design).
import cluster from 'node:cluster';
import { pino } from 'pino';
import { activeByVersion, monitorNotices, type HubStatus } from '../../monitoring/hub/index.js';
import { createAuthenticator, createFailedAuthLimiter, type Authenticator } from '../../governance/index.js';
import { createShadowRunner, ServiceCatalog, type BreakerEvent, type DecisionRecord, type Service } from '../../pipeline/index.js';
import { planReviewTicket, reviewConfigOf } from '../../review/index.js';
import type { RoutingPlan } from '../../routing/index.js';
import { createDecisionServer, type ServerAuth } from '../../server/index.js';
import { newId, type StoredApiKey } from '../../store/index.js';
import { createRedactionKey, hashValue } from '../../contracts/index.js';
import { parseConfigText, type BallastConfig } from '../config-file.js';
import { readSecrets } from '../environment.js';
import { secretNames, serviceCompiler } from '../runtime.js';
import { Channel, fromWireError, type Port, type WireError } from './ipc.js';
import type { BallastError } from '../../errors/index.js';
import type { BreakerNote, CallsNote, InFlightNote, ListeningNote, RevisionNote, RoutingNote, WorkerInit } from './protocol.js';

/** How often a worker tells the primary its oldest decision in flight, and sends the calls its breakers counted. */
const reportEveryMs = 100;

/** Runs this process as a decision worker until the primary tells it to drain (or goes away). */
export async function runWorker(port: Port = process as unknown as Port): Promise<void> {
  // Notes that need the services wait in one chain behind the start, in the order they came.
  let markStarted = () => {};
  let chain: Promise<unknown> = new Promise<void>((resolve) => (markStarted = resolve));
  const later = (what: string, fn: () => unknown) => {
    chain = chain.then(fn).catch((error: unknown) => held.log?.error({ err: error }, `${what} failed`));
  };
  // Set once the start has them (notes may come before).
  const held: { log?: ReturnType<typeof pino>; catalog?: ServiceCatalog; authenticator?: Authenticator; drain?: () => Promise<void>; metrics?: () => Promise<unknown>; compile?: ReturnType<typeof serviceCompiler> } = {};
  let routing: RoutingNote = {};
  // The primary's monitor states, latest per monitor key, and what explanations cite of them, per service (as the hub keeps it).
  const statuses = new Map<string, HubStatus>();
  const active = new Map<string, Map<string | null, HubStatus[]>>();
  let config: BallastConfig | undefined;

  const setStatus = (status: HubStatus) => {
    statuses.set(`${status.service}\0${status.monitor}\0${status.version}\0${status.segment}`, status);
    active.delete(status.service);
  };
  const activeOf = (service: string) => {
    let byVersion = active.get(service);
    if (byVersion === undefined) active.set(service, (byVersion = activeByVersion(statuses.values(), service)));
    return byVersion;
  };
  const followBreaker = (note: BreakerNote) => {
    const version = held.catalog?.get(note.service)?.versions.get(note.version);
    if (version === undefined) return;
    if (note.kind === 'quality') version.quality?.restore(note.state, note.since, note.reason, note.figures);
    else version.forceBreaker(note.state, note.reason);
  };
  const applyRevision = async (note: RevisionNote) => {
    if (held.catalog === undefined || held.compile === undefined || note.number === held.catalog.revision) return;
    const next = parseConfigText(note.text, note.source, config!.baseDir);
    const services = new Map<string, Service>();
    for (const name of Object.keys(next.services)) services.set(name, await held.compile(name, next, held.catalog.get(name)));
    const previous = held.catalog.swap(note.number, services);
    config = next;
    // Versions the new revision does not use are closed once the decisions that hold them are done.
    const kept = new Set([...services.values()].flatMap((s) => [...s.versions.values()]));
    const stale = [...previous.services.values()].flatMap((s) => [...s.versions.values()]).filter((v) => !kept.has(v));
    setTimeout(() => void Promise.allSettled(stale.map((v) => v.adapter.close())), 60_000).unref();
    held.log?.info({ revision: note.number }, `serving revision ${note.number}`);
  };

  const channel = new Channel(port, {
    lostCode: 'STORE_UNAVAILABLE',
    // The primary's /metrics asks each worker for its registry.
    handlers: { metrics: () => held.metrics?.() ?? [] },
    notes: {
      revision: (note: RevisionNote) => later('applying a revision', () => applyRevision(note)),
      // In the chain too: the routing may name a version of the revision that came just before it.
      routing: (note: RoutingNote) => later('taking the routing', () => void (routing = note)),
      status: (status: HubStatus) => setStatus(status),
      breaker: (note: BreakerNote) => later('following a breaker', () => followBreaker(note)),
      calls: (note: CallsNote) => {
        for (const [service, version, failed, ms] of note.calls) held.catalog?.get(service)?.versions.get(version)?.breaker?.observe(failed, ms);
      },
      key: (keyId: string) => held.authenticator?.invalidate(keyId),
      drain: () => later('draining', async () => {
        await held.drain?.();
        process.exit(0);
      }),
    },
  });

  const init = await channel.request<WorkerInit>('init', { pid: process.pid });
  held.log = pino({ level: init.logLevel, base: { service: 'ballast', worker: init.index } });
  for (const status of init.statuses) setStatus(status);
  routing = init.routing;
  config = parseConfigText(init.revision.text, init.revision.source, init.baseDir);
  const calls: Array<readonly [string, string, boolean, number]> = [];
  const breakerListeners: ((event: BreakerEvent) => void)[] = [];
  held.compile = serviceCompiler({
    redactionKey: init.redactionKey,
    secrets: readSecrets(secretNames(config.services)),
    onBreakerTransition: (event) => {
      for (const listener of breakerListeners) listener(event);
    },
    onBreakerCall: (service, version, failed, ms) => void calls.push([service, version, failed, ms]),
  });
  const services = new Map<string, Service>();
  for (const name of Object.keys(config.services)) services.set(name, await held.compile(name, config, undefined));
  held.catalog = new ServiceCatalog(init.revision.number, services);
  for (const note of init.breakers) followBreaker(note);
  markStarted();

  const subjectKey = createRedactionKey(init.redactionKey);
  held.authenticator = createAuthenticator({ store: { identity: { getKey: (id: string) => channel.request<StoredApiKey | undefined>('key', id) } } });
  const auth: ServerAuth = init.authOff ? { mode: 'off' } : { mode: 'keys', authenticator: held.authenticator, limiter: createFailedAuthLimiter() };
  const shadow = createShadowRunner({ write: (rows) => channel.request('shadows', rows), newId: () => newId('shd'), onError: (error) => held.log?.error({ err: error }, 'a shadow decision could not be kept') });
  const server = createDecisionServer({
    services: held.catalog,
    sink: { append: batchedAppend(channel) },
    newId: () => newId('dec'),
    hashSubject: (key) => hashValue(key, subjectKey),
    planReview: (service, record) => planReviewTicket(reviewConfigOf(service), record),
    routing: (service): RoutingPlan | undefined => routing[service] ?? undefined,
    notices: (service, version) => monitorNotices(activeOf(service).get(version) ?? []),
    shadow,
    auth,
    audit: { append: (event) => channel.request('audit', event) },
    forwardTo: init.forwardTo,
    breakerEvents: (listener) => void breakerListeners.push(listener),
    logger: held.log,
    limits: config.limits,
  });

  held.metrics = () => server.metrics.registry.getMetricsAsJSON();
  const report = setInterval(() => {
    // `at` first: a decision created after it is either in flight below or not yet begun.
    const at = new Date().toISOString();
    channel.note('inflight', { oldest: server.pipeline.oldestInFlight(), at } satisfies InFlightNote);
    if (calls.length > 0) channel.note('calls', { calls: calls.splice(0) } satisfies CallsNote);
  }, reportEveryMs);
  report.unref();

  let drained: Promise<void> | undefined;
  held.drain = () => (drained ??= drainOnce());
  const drainOnce = async () => {
    await server.drain();
    clearInterval(report);
    await shadow.close();
    await Promise.allSettled([...held.catalog!.values()].map((s) => s.close()));
    channel.note('inflight', { oldest: undefined, at: new Date().toISOString() } satisfies InFlightNote);
    channel.close('drained');
  };
  // A signal to the whole process group (Ctrl-C, a supervisor's SIGTERM) reaches the workers too: each finishes what it
  // holds and exits 0, as the primary's drain would have it (a SIGTERM to one worker alone restarts that worker).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => later('draining', async () => {
      await held.drain?.();
      process.exit(0);
    }));
  }
  // Without the primary nothing can be made durable: finish what is in flight (it fails STORE_UNAVAILABLE) and stop.
  // node:cluster would exit 0 at once on the disconnect; marked as expected, it leaves the drain to us.
  if (cluster.worker !== undefined) cluster.worker.exitedAfterDisconnect = true;
  process.once('disconnect', () => later('draining without the primary', async () => {
    await held.drain?.();
    process.exit(1);
  }));

  try {
    await server.app.listen({ host: init.host, port: init.port });
    const address = server.app.server.address();
    channel.note('listening', { ok: true, port: typeof address === 'object' && address !== null ? address.port : init.port } satisfies ListeningNote);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'INTERNAL';
    channel.note('listening', { ok: false, code, detail: error instanceof Error ? error.message : String(error) } satisfies ListeningNote);
    await held.drain();
    process.exit(1);
  }
}

/**
 * The sink of a worker's decisions: the records of one event-loop turn go to the primary in one message (one
 * serialisation, one write on the channel, one answer), each resolved or rejected on its own.
 */
function batchedAppend(channel: Channel): (record: DecisionRecord) => Promise<void> {
  let batch: { record: DecisionRecord; resolve: () => void; reject: (error: BallastError) => void }[] = [];
  const send = () => {
    const taken = batch;
    batch = [];
    channel.request<readonly (WireError | null)[]>('append', taken.map((w) => w.record)).then(
      (results) =>
        taken.forEach((w, i) => {
          const failure = results[i];
          if (failure === null || failure === undefined) w.resolve();
          else w.reject(fromWireError(failure));
        }),
      (error: BallastError) => taken.forEach((w) => w.reject(error)),
    );
  };
  return (record) =>
    new Promise<void>((resolve, reject) => {
      if (batch.length === 0) setImmediate(send);
      batch.push({ record, resolve, reject });
    });
}
