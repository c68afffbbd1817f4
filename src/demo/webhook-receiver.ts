// A webhook receiver on loopback standing in for the on-call tool: it checks every signature and keeps
// what each delivery said (which alert, fired or resolved, on which window of the messages' dates).
import { createServer, type Server } from 'node:http';
import { verifyWebhook } from '../index.js';

/** One delivery as the receiver saw it. */
export interface ReceivedDelivery {
  readonly valid: boolean;
  /** `alert.firing`, `alert.resolved`, `alert.escalated`, a review event, or `unparsable`. */
  readonly type: string;
  /** Why it went out, when the payload says (`new`, `changed`, `repeat`, `resolved` for grouped alerts). */
  readonly reason: string | null;
  /** The alert's id: the same for its firing and its resolved event. */
  readonly alert: string;
  readonly monitor: string;
  readonly summary: string;
  /** The window (messages' dates) whose evaluation caused the event, when the payload names it. */
  readonly windowStart: string | null;
}

export interface DemoReceiver {
  readonly url: string;
  readonly received: ReceivedDelivery[];
  close(): Promise<void>;
}

/** The window start in a webhook payload's transition values, if any. */
function windowOf(payload: { transition?: { values?: unknown } | null }): string | null {
  const values = payload.transition?.values;
  if (typeof values !== 'object' || values === null) return null;
  const start = (values as { window?: { start?: unknown } }).window?.start;
  return typeof start === 'string' ? start : null;
}

/** Starts the receiver on 127.0.0.1 (a free port; `path` names it in its URL); deliveries signed with another secret are answered 401. */
export async function startDemoReceiver(secret: string, path = '/alerts'): Promise<DemoReceiver> {
  const received: ReceivedDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyWebhook(req.headers as Record<string, string>, body, secret).valid;
      try {
        const payload = JSON.parse(body) as { type?: string; reason?: unknown; id?: string; monitor?: string; summary?: string; transition?: { values?: unknown } | null };
        received.push({ valid, type: String(payload.type), reason: typeof payload.reason === 'string' ? payload.reason : null, alert: String(payload.id ?? ''), monitor: String(payload.monitor), summary: String(payload.summary ?? ''), windowStart: windowOf(payload) });
      } catch {
        received.push({ valid, type: 'unparsable', reason: null, alert: '', monitor: '', summary: '', windowStart: null });
      }
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}${path}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
