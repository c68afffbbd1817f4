// Failures below HTTP: a port where nothing listens (connections are refused at once) and a listener
// that never accepts (a client's connect hangs until its own connect timeout fires).

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A loopback URL whose port nothing listens on, so connecting is refused (ECONNREFUSED); `path` is appended. */
export async function refusingUrl(path = ''): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  // Another process could bind the port in between; on loopback, with ephemeral ports handed out in turn, that is rare.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

/** A loopback listener that never accepts a connection. */
export interface NeverAccepting {
  /** `http://127.0.0.1:<port>` plus the path given; connecting to it hangs. */
  readonly url: string;
  /** The child process that holds the listener (for diagnostics). */
  readonly pid: number;
  /** Kills the child and closes the filler connections; afterwards connecting is refused. Idempotent. */
  close(): Promise<void>;
}

// The child listens, says its port, then blocks its event loop so it never accepts. Node passes a
// backlog of 0 on as its default (511), so it asks for 1, the smallest Node keeps. It checks every
// 250 ms whether its parent is gone (it was re-parented) and then exits, so a parent that dies
// without close() leaves nothing behind.
const childScript = `
const net = require('node:net');
const parent = process.ppid;
const server = net.createServer();
server.on('error', (error) => { process.stderr.write(String(error) + '\\n'); process.exit(1); });
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    while (process.ppid === parent) Atomics.wait(cell, 0, 0, 250);
    process.exit(0);
  });
});
`;

/** How long a filler connection may take before the accept queue counts as full. */
const fillerTimeoutMs = 200;
/** A kernel that never drops SYNs (not Linux) would otherwise be filled forever. */
const maxFillers = 64;
const startTimeoutMs = 10_000;

/**
 * Starts a loopback TCP listener that never accepts, so a client's connect hangs until its connect
 * timeout. On Linux a listening socket whose accept queue is full drops further SYNs: a child Node
 * process listens with the smallest backlog and blocks its event loop, and this process opens
 * filler connections (kept open) until one does not complete within 200 ms. Linux only; elsewhere
 * it rejects when the queue cannot be filled.
 */
export async function startNeverAccepting(path = ''): Promise<NeverAccepting> {
  const child = spawn(process.execPath, ['-e', childScript], { stdio: ['ignore', 'pipe', 'pipe'] });
  const fillers: net.Socket[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const filler of fillers) filler.destroy();
      await kill(child);
    })());
  try {
    const port = await readPort(child);
    for (;;) {
      if (fillers.length >= maxFillers) throw new Error(`startNeverAccepting: ${maxFillers} connections to a listener that never accepts all completed; this kernel does not drop SYNs on a full accept queue.`);
      const filler = await fill(port);
      if (filler === undefined) break;
      // A forgotten close() must not keep the process alive; the child exits on its own once its parent is gone.
      filler.unref();
      fillers.push(filler);
    }
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as net.Socket | null)?.unref();
    return { url: `http://127.0.0.1:${port}${path}`, pid: child.pid ?? -1, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The port the child prints, or the reason it did not. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`startNeverAccepting: the listener process did not start within ${startTimeoutMs} ms.`)), startTimeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = /^(\d+)\n/.exec(out);
      if (line === null) return;
      clearTimeout(timer);
      resolve(Number(line[1]));
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`startNeverAccepting: the listener process exited (${signal ?? code}) before listening: ${err.trim()}`)));
  });
}

/** A connection that completed, or undefined when it did not within the filler timeout (the queue is full; it is abandoned). */
function fill(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      // A completion that arrived while the event loop was busy is handled in the poll phase, before setImmediate runs.
      setImmediate(() => {
        if (!socket.connecting) return;
        socket.destroy();
        resolve(undefined);
      });
    }, fillerTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
