// Failures below HTTP: a refused connection, and a connect that hangs until the client gives up.

import net from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { refusingUrl, startNeverAccepting } from './index.js';

/** What became of a connect attempt within `ms`: connected, an error code, or still pending. */
function connectOutcome(url: string, ms: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(socket.connecting ? 'pending' : 'unknown'), ms);
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('refusingUrl', () => {
  it('gives a loopback URL whose connections are refused', async () => {
    const url = await refusingUrl('/predict');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/predict$/);
    expect(await connectOutcome(url, 2_000)).toBe('ECONNREFUSED');
    const error = await request(url, { method: 'POST', body: '{}' }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toBe('ECONNREFUSED');
  });
});

describe('startNeverAccepting', () => {
  it('hangs a connect for over a second, times out a client with a connect timeout, and leaves nothing running once closed', async () => {
    const listener = await startNeverAccepting('/v1');
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(alive(listener.pid)).toBe(true);
    try {
      expect(await connectOutcome(listener.url, 1_000)).toBe('pending');
      const agent = new Agent({ connectTimeout: 300 });
      const started = performance.now();
      const error = await request(listener.url, { dispatcher: agent }).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      expect(error?.code).toBe('UND_ERR_CONNECT_TIMEOUT');
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      await agent.close();
    } finally {
      await listener.close();
    }
    await listener.close();
    expect(alive(listener.pid)).toBe(false);
    // The listener is gone with its process: the port now refuses.
    expect(await connectOutcome(listener.url, 2_000)).toBe('ECONNREFUSED');
  });
});
