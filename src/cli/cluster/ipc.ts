// Requests and notes between the primary and its decision workers over Node's IPC channel
// (cluster, with `serialization: 'json'`: a record crosses as the JSON it is stored as; measured cheaper than
// 'advanced', v8's structured clone: 12 against 18 µs for a record's round trip).
// A request is answered once; a BallastError crosses as its code and detail. No timer per request:
// one sweep a second fails the requests that waited too long, and a lost channel fails them all.
import { BallastError, type ErrorCode } from '../../errors/index.js';

/** Either end of the channel: a cluster Worker in the primary, `process` in a worker. */
export interface Port {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** A BallastError as it crosses the channel: its code, detail and retry hint. */
export interface WireError {
  readonly code: string;
  readonly detail: string;
  readonly retryAfterSeconds?: number;
}

/** What crosses for an error (anything not a BallastError is INTERNAL, with its message). */
export function toWireError(error: unknown): WireError {
  const failure = error instanceof BallastError ? error : new BallastError('INTERNAL', { detail: error instanceof Error ? error.message : String(error), cause: error });
  return { code: failure.code, detail: failure.detail, ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }) };
}

/** The BallastError a WireError stands for. */
export function fromWireError(wire: WireError): BallastError {
  return new BallastError(wire.code as ErrorCode, { detail: wire.detail, ...(wire.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: wire.retryAfterSeconds }) });
}

type Message =
  | { readonly t: 'req'; readonly id: number; readonly op: string; readonly body: unknown }
  | { readonly t: 'res'; readonly id: number; readonly body: unknown }
  | ({ readonly t: 'err'; readonly id: number } & WireError)
  | { readonly t: 'note'; readonly op: string; readonly body: unknown };

export type Handler = (body: never) => unknown;

export interface ChannelOptions {
  /** Answers requests by operation; a throw (or a rejection) goes back as the error. */
  readonly handlers?: Readonly<Record<string, Handler>>;
  /** Takes notes (one-way messages). */
  readonly notes?: Readonly<Record<string, Handler>>;
  /** How long a request may wait for its answer (default 30 s): then it fails with `lostCode`. */
  readonly timeoutMs?: number;
  /** The code a request fails with when the other end is gone or too slow. */
  readonly lostCode: ErrorCode;
}

interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: BallastError) => void;
  readonly at: number;
  readonly op: string;
  readonly timeoutMs: number;
}

export class Channel {
  readonly #port: Port;
  readonly #options: ChannelOptions;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #closed = false;
  readonly #sweep: NodeJS.Timeout;

  constructor(port: Port, options: ChannelOptions) {
    this.#port = port;
    this.#options = options;
    port.on('message', (message) => this.#receive(message as Message));
    port.on('disconnect', () => this.close('the other process is gone'));
    this.#sweep = setInterval(() => this.#expire(Date.now()), 250);
    this.#sweep.unref();
  }

  /** Sends a request; resolves with the answer, rejects with a BallastError (after `timeoutMs`, default the channel's). */
  request<T>(op: string, body: unknown, timeoutMs = this.#options.timeoutMs ?? 30_000): Promise<T> {
    if (this.#closed) return Promise.reject(new BallastError(this.#options.lostCode, { detail: 'the other process is gone', retryAfterSeconds: 1 }));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject, at: Date.now(), op, timeoutMs });
      this.#send({ t: 'req', id, op, body });
    });
  }

  /** Sends a one-way note (dropped when the channel is closed). */
  note(op: string, body: unknown): void {
    if (!this.#closed) this.#send({ t: 'note', op, body });
  }

  /** Fails the requests that waited longer than their timeout (checked every 250 ms). */
  #expire(now: number): void {
    for (const [id, w] of this.#waiting) {
      if (now - w.at < w.timeoutMs) continue;
      this.#waiting.delete(id);
      w.reject(new BallastError(this.#options.lostCode, { detail: `no answer to ${w.op} within ${w.timeoutMs} ms`, retryAfterSeconds: 1 }));
    }
  }

  /** Fails every request still waiting; later ones fail at once. */
  close(why: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const w of this.#waiting.values()) w.reject(new BallastError(this.#options.lostCode, { detail: `${w.op} was not answered: ${why}`, retryAfterSeconds: 1 }));
    this.#waiting.clear();
  }

  #send(message: Message): void {
    // Node's send() on a channel that closed does not throw: it emits 'error' a tick later (the primary listens).
    if (this.#closed) return;
    try {
      this.#port.send(message);
    } catch (error) {
      // The channel closed under us (ERR_IPC_CHANNEL_CLOSED): the disconnect event fails what waits.
      this.close(error instanceof Error ? error.message : String(error));
    }
  }

  #receive(message: Message): void {
    if (message === null || typeof message !== 'object' || !('t' in message)) return;
    switch (message.t) {
      case 'req':
        void this.#answer(message.id, message.op, message.body);
        return;
      case 'res':
      case 'err': {
        const w = this.#waiting.get(message.id);
        if (w === undefined) return;
        this.#waiting.delete(message.id);
        if (message.t === 'res') w.resolve(message.body);
        else w.reject(fromWireError(message));
        return;
      }
      case 'note': {
        const take = this.#options.notes?.[message.op];
        try {
          take?.(message.body as never);
        } catch {
          // A note's handler failing is its own business; the sender asked for no answer.
        }
        return;
      }
    }
  }

  async #answer(id: number, op: string, body: unknown): Promise<void> {
    const handler = this.#options.handlers?.[op];
    try {
      if (handler === undefined) throw new BallastError('INTERNAL', { detail: `no handler for ${op}` });
      const result = await handler(body as never);
      this.#send({ t: 'res', id, body: result });
    } catch (error) {
      this.#send({ t: 'err', id, ...toWireError(error) });
    }
  }
}
