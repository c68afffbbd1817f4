// The program of SQLite's writer thread: its own connection, the prepared INSERTs, one transaction
// per message. It runs from its source text (see sqlite-batch-writer.ts), so, like the functions of
// sqlite-batch-insert.ts that it receives, it may use only its parameters and globals.
import type SqliteDatabase from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { StoreWrite } from '../batch-writer.js';
import type { configureSqliteConnection, createSqliteBatchInsert } from './sqlite-batch-insert.js';

/** A driver error as it crosses threads (structured clone keeps an Error's message, not its code). */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** What the store's thread asks; one message at a time, answered in order. */
export type WriterRequest = { readonly type: 'write'; readonly seq: number; readonly rows: readonly StoreWrite[] } | { readonly type: 'close' };

/** What the writer thread answers: `written` only after the transaction committed. */
export type WriterReply =
  | { readonly type: 'ready'; readonly synchronous: number }
  | { readonly type: 'open-failed'; readonly error: WireError }
  | { readonly type: 'written'; readonly seq: number; readonly refused: readonly (readonly [index: number, error: WireError])[] }
  | { readonly type: 'failed'; readonly seq: number; readonly error: WireError };

/** What the writer thread is started with. */
export interface WriterWorkerContext {
  readonly port: MessagePort;
  readonly Database: typeof SqliteDatabase;
  readonly configure: typeof configureSqliteConnection;
  readonly prepareBatchInsert: typeof createSqliteBatchInsert;
  /** The database file, already created and migrated by the store's thread. */
  readonly path: string;
  readonly rowErrorCodes: RegExp;
  /** What `synchronous` the connection gets (see configureSqliteConnection). */
  readonly durability: 'full' | 'process';
}

/** Opens the connection, answers `ready`, then writes each batch it is sent until asked to close. */
export function runSqliteWriterWorker(context: WriterWorkerContext): void {
  const { port } = context;
  const toWire = (error: unknown): WireError => ({
    code: error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'unknown',
    message: error instanceof Error ? error.message : String(error),
  });
  const reply = (message: WriterReply): void => port.postMessage(message);

  let sqlite: SqliteDatabase.Database | undefined;
  let insert: ReturnType<typeof createSqliteBatchInsert>;
  try {
    sqlite = new context.Database(context.path, { fileMustExist: true });
    context.configure(sqlite, context.durability);
    insert = context.prepareBatchInsert(sqlite, context.rowErrorCodes);
  } catch (error) {
    sqlite?.close();
    reply({ type: 'open-failed', error: toWire(error) });
    return;
  }
  const connection = sqlite;

  port.on('message', (request: WriterRequest) => {
    if (request.type === 'close') {
      connection.close();
      // Nothing else keeps the thread alive: it exits, and the store's thread sees 'exit'.
      port.close();
      return;
    }
    try {
      const refused = insert(request.rows);
      reply({ type: 'written', seq: request.seq, refused: refused.map(([index, error]) => [index, toWire(error)] as const) });
    } catch (error) {
      reply({ type: 'failed', seq: request.seq, error: toWire(error) });
    }
  });
  // Read back on this connection, not assumed: what the store reports (sqliteSynchronousOf) is what SQLite uses.
  reply({ type: 'ready', synchronous: Number(connection.pragma('synchronous', { simple: true })) });
}
