// A real webhook receiver on loopback for tests: node:http, verifies every request's signature with
// verifyWebhook, records it, and answers as the test scripts (a status, a Retry-After, or no answer).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type WebhookVerification } from '../webhook-signature.js';

/** How to answer one request: a status (with optional headers), or `hang` (never answer). */
export type ReceiverReply = number | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string } | 'hang';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON. */
  readonly json: unknown;
  readonly verification: WebhookVerification;
  readonly status: number | 'hang';
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** Replies for the next requests, in order; once used up, `fallback` answers. */
  script(...replies: ReceiverReply[]): void;
  fallback: ReceiverReply;
  /** Stops listening and drops hanging requests. */
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (port 0 picks a free one) that verifies with `secret`. */
export async function startWebhookReceiver(secret: string, options: { port?: number; now?: () => number } = {}): Promise<WebhookReceiver> {
  const queue: ReceiverReply[] = [];
  const hanging = new Set<ServerResponse>();
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const reply = queue.shift() ?? receiver.fallback;
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const verification = verifyWebhook(req.headers, raw, secret, { now: options.now });
      const status = reply === 'hang' ? 'hang' : typeof reply === 'number' ? reply : reply.status;
      received.push({ headers: req.headers, body, json, verification, status });
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      const spec = typeof reply === 'number' ? { status: reply } : reply;
      res.writeHead(spec.status, { 'content-type': 'text/plain', ...spec.headers });
      res.end(spec.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks/ballast`,
    port,
    received,
    script: (...replies) => void queue.push(...replies),
    fallback: 204,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
