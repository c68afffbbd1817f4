import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { BallastError } from '../errors/index.js';
import { createServer, type BallastServer } from '../server/index.js';
import { loadConfigFile } from './config-file.js';
import { startRuntime, type Runtime } from './runtime.js';
import { ballastVersion } from './version.js';

export interface ServeOptions {
  readonly configPath: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly redactionKey?: string;
  readonly logLevel: string;
}

export interface RunningServer {
  readonly url: string;
  readonly runtime: Runtime;
  readonly server: BallastServer;
  readonly logger: Logger;
  /** Drains the server, flushes and closes the store and adapters. Idempotent. */
  stop(): Promise<void>;
}

/** Loads the config, compiles it, opens the store and listens. */
export async function startServing(options: ServeOptions): Promise<RunningServer> {
  const config = loadConfigFile(options.configPath);
  const logger = pino({ level: options.logLevel, base: { service: 'ballast' } });
  const runtime = await startRuntime(config, { dataDir: options.dataDir, redactionKey: options.redactionKey, configText: readFileSync(options.configPath, 'utf8'), logger });
  const server = createServer({ services: runtime.services, store: runtime.store, hashSubject: runtime.hashSubject, limits: config.limits, logger, version: ballastVersion, monitoring: runtime.monitoring.hub });
  try {
    await runtime.monitoring.start();
    await server.app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await runtime.close();
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why = { EADDRINUSE: 'the address is already in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'no such address on this machine' }[code];
      throw new BallastError('SERVER_LISTEN_FAILED', { detail: `cannot listen on ${options.host}:${options.port}: ${why}`, cause: error });
    }
    throw error;
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
    stop() {
      stopped ??= (async () => {
        await server.drain();
        await runtime.close();
      })();
      return stopped;
    },
  };
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
