import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { BallastError } from '../errors/index.js';
import { createAuthenticator, createFailedAuthLimiter, createKeyManager, localActor } from '../governance/index.js';
import { createServer, type BallastServer, type ServerAuth } from '../server/index.js';
import type { Store } from '../store/index.js';
import { loadConfigFile } from './config-file.js';
import { localUser, startRuntime, type Runtime } from './runtime.js';
import { ballastVersion } from './version.js';

export interface ServeOptions {
  readonly configPath: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly redactionKey?: string;
  readonly logLevel: string;
  /** Serve without API keys: every caller acts as an admin. Refused unless `host` is a loopback address. */
  readonly insecureNoAuth?: boolean;
  /** Trust X-Forwarded-For from this address (the primary's internal listener behind decision workers). */
  readonly trustProxy?: (address: string, hop: number) => boolean;
  /** Called when a key changes (revoked, rotated) so that other processes' caches drop it (decision workers). */
  readonly onKeyInvalidated?: (keyId: string) => void;
  /** What /metrics serves instead of this process's registry alone (the primary merges its workers'). */
  readonly metricsText?: () => Promise<string>;
}

export interface RunningServer {
  readonly url: string;
  readonly runtime: Runtime;
  readonly server: BallastServer;
  readonly logger: Logger;
  /** The admin key made on the first start on an empty data directory (shown once), if this start made it. */
  readonly firstAdminKey?: { readonly id: string; readonly token: string };
  /** Drains the server, flushes and closes the store and adapters. Idempotent. */
  stop(): Promise<void>;
}

/** How often a running server signs a checkpoint of the audit log (when leaves came since the last). */
export const auditCheckpointEveryMs = 60_000;

/** How often a running server purges raw inputs past their services' `retention.inputs` term (and once a second after it starts). */
export const retentionPurgeEveryMs = 3_600_000;

/** Loads the config, compiles it, opens the store and listens. */
export async function startServing(options: ServeOptions): Promise<RunningServer> {
  checkInsecureNoAuth(options);
  const config = loadConfigFile(options.configPath);
  const configText = readFileSync(options.configPath, 'utf8');
  const logger = pino({ level: options.logLevel, base: { service: 'ballast' } });
  const runtime = await startRuntime(config, { dataDir: options.dataDir, redactionKey: options.redactionKey, configText, logger });
  const authenticator = createAuthenticator({ store: runtime.store });
  const onKeyInvalidated = options.onKeyInvalidated;
  const auth: ServerAuth =
    options.insecureNoAuth === true
      ? { mode: 'off' }
      : {
          mode: 'keys',
          authenticator: onKeyInvalidated === undefined ? authenticator : { authenticate: (token) => authenticator.authenticate(token), invalidate: (keyId) => (authenticator.invalidate(keyId), onKeyInvalidated(keyId)) },
          limiter: createFailedAuthLimiter(),
        };
  const server = createServer({ services: runtime.services, store: runtime.store, hashSubject: runtime.hashSubject, limits: config.limits, logger, version: ballastVersion, monitoring: runtime.monitoring.hub, auth, ledger: runtime.ledger, retention: runtime.retention, breakerEvents: runtime.onBreakerTransition, config: runtime.live, routing: runtime.safeChange.routing, shadow: runtime.shadow, safeChange: runtime.safeChange, registry: { registry: runtime.registry, baseDir: config.baseDir }, wakeDeliveries: () => runtime.monitoring.dispatcher.wake(), ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }), ...(options.metricsText === undefined ? {} : { metricsText: options.metricsText }) });
  let firstAdminKey: { id: string; token: string } | undefined;
  let stopCheckpoints = () => {};
  let stopPurges = () => {};
  try {
    // `serve --config` is revision 1 on a new store; a changed file is the next revision.
    const start = await runtime.live.recordStart(configText, options.configPath, localActor(localUser()));
    if (start.resumed) {
      logger.warn(
        { revision: start.revision.number, fileRevision: start.fileRevision },
        `serving revision ${start.revision.number} (applied to the server by ${start.revision.actor}), not ${options.configPath}, which is the older revision ${start.fileRevision}: to serve the file, change it or run \`ballast revisions apply ${start.fileRevision}\``,
      );
    }
    if (auth.mode === 'keys') firstAdminKey = await ensureAdminKey(runtime.store);
    await runtime.monitoring.start();
    await runtime.safeChange.start();
    await server.app.listen({ host: options.host, port: options.port });
    server.reviews.start();
    stopCheckpoints = runtime.ledger.schedule(auditCheckpointEveryMs, (error) => logger.error({ err: error }, 'audit checkpoint failed'));
    stopPurges = runtime.retention.schedule(retentionPurgeEveryMs, { actor: { principal: 'system:retention', keyId: null, role: null } }, (error) => logger.error({ err: error }, 'retention purge failed'));
  } catch (error) {
    await runtime.close();
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    throw listenFailure(options, code, error) ?? error;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    runtime,
    server,
    logger,
    ...(firstAdminKey === undefined ? {} : { firstAdminKey }),
    stop() {
      stopped ??= (async () => {
        await server.drain();
        stopCheckpoints();
        stopPurges();
        // A last signed checkpoint, so everything acknowledged before the stop is under a signature.
        await runtime.ledger.checkpoint().catch((error: unknown) => logger.error({ err: error }, 'audit checkpoint failed'));
        await runtime.close();
      })();
      return stopped;
    },
  };
}

/** `--insecure-no-auth` is refused unless the server listens on this machine only. */
export function checkInsecureNoAuth(options: Pick<ServeOptions, 'host' | 'insecureNoAuth'>): void {
  if (options.insecureNoAuth === true && !isLoopback(options.host)) {
    throw new BallastError('CONFIG_INVALID', { detail: `--insecure-no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), not ${options.host}` });
  }
}

/** SERVER_LISTEN_FAILED for the errors a listen can meet (the address taken, not allowed, not here); undefined for others. */
export function listenFailure(options: Pick<ServeOptions, 'host' | 'port'>, code: string, cause?: unknown): BallastError | undefined {
  const why = ({ EADDRINUSE: 'the address is already in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'no such address on this machine' } as Record<string, string>)[code];
  return why === undefined ? undefined : new BallastError('SERVER_LISTEN_FAILED', { detail: `cannot listen on ${options.host}:${options.port}: ${why}`, ...(cause === undefined ? {} : { cause }) });
}

/** Whether a listen address is on this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * On a data directory with no key yet, makes the first admin key (principal `admin`, a person) and
 * returns it to be shown once; otherwise nothing. Audited as done by the local user.
 */
export async function ensureAdminKey(store: Store): Promise<{ id: string; token: string } | undefined> {
  if ((await store.identity.countKeys()) > 0) return undefined;
  const keys = createKeyManager({ store });
  const { key, token } = await keys.create({ principal: 'admin', role: 'admin', kind: 'person' }, { actor: localActor(localUser()) });
  return { id: key.id, token };
}

/** Resolves when SIGTERM or SIGINT arrives (once), so the caller can drain and exit 0. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
