// The cheapest possible upstream, for benchmarks: every POST gets the same small JSON answer, with
// no parsing, no logging and keep-alive, so that what is measured is Ballast and not the fake.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running minimal upstream. */
export interface MinimalUpstream {
  /** Any path under it answers; use it as an http adapter's `url`. */
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

/** The answer every POST gets. */
export const minimalAnswer = { label: 'ham', score: 0.9 } as const;

/** Starts the minimal upstream on 127.0.0.1 at a free port. */
export async function startFakeUpstreamMinimal(): Promise<MinimalUpstream> {
  const body = Buffer.from(JSON.stringify(minimalAnswer));
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  let requests = 0;
  const server = http.createServer((req, res) => {
    // The body must be consumed for the connection to be reused; its content does not matter.
    req.resume();
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-length': '0' }).end();
      return;
    }
    requests += 1;
    req.on('end', () => res.writeHead(200, headers).end(body));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/predict`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
