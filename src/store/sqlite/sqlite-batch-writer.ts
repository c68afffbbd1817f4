// SQLite's BatchWriters. For a file: a worker thread with its own connection and prepared INSERTs,
// so that neither the inserts nor the commit's fsync hold up the event loop. For an in-memory
// database (no second connection can reach it): the same prepared INSERTs on the store's connection.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import { BallastError } from '../../errors/index.js';
import type { BatchWriter } from '../batch-writer.js';
import type { RefusedItems } from '../group-commit.js';
import { configureSqliteConnection, createSqliteBatchInsert } from './sqlite-batch-insert.js';
import { sqliteRowErrorCodes } from './sqlite-errors.js';
import { runSqliteWriterWorker, type WireError, type WriterReply, type WriterRequest } from './sqlite-writer-worker.js';

// The thread runs source text, not a file: a file beside this one would be .js in dist/ but .ts
// under Vitest, which Node 20 cannot load. The functions are self-contained for this reason.
const workerSource = [
  "const { parentPort, workerData } = require('node:worker_threads');",
  `const configure = ${configureSqliteConnection.toString()};`,
  `const prepareBatchInsert = ${createSqliteBatchInsert.toString()};`,
  `(${runSqliteWriterWorker.toString()})({ ...workerData, port: parentPort, Database: require(workerData.driver), configure, prepareBatchInsert });`,
].join('\n');

// Resolved here, because code run from text resolves packages from the working directory.
const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** Starts the writer thread on a migrated database file; pass it to createSqliteWorkerWriter. */
export function startSqliteWriterWorker(path: string, durability: 'full' | 'process' = 'full'): Worker {
  // execArgv: []: the parent's flags (a test runner's loaders) mean nothing to the thread.
  return new Worker(workerSource, { eval: true, execArgv: [], workerData: { driver, path, rowErrorCodes: sqliteRowErrorCodes, durability } });
}

/** A BatchWriter on the writer thread, with what its connection reported at start. */
export interface SqliteWorkerWriter extends BatchWriter {
  /** `pragma synchronous` read back on the thread's connection (1 NORMAL, 2 FULL). */
  readonly synchronous: number;
}

/** Resolves once the writer thread has opened its connection; rejects (with the driver's error) if it cannot. */
export function createSqliteWorkerWriter(worker: Worker): Promise<SqliteWorkerWriter> {
  const inFlight = new Map<number, { resolve(refused: RefusedItems | void): void; reject(error: unknown): void }>();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let lastSeq = 0;
  let failure: BallastError | undefined;
  let closing: Promise<void> | undefined;

  return new Promise((resolveStart, rejectStart) => {
    // Pending writes fail at once and later ones never start: a dead thread must not leave callers hanging.
    const stop = (error: BallastError): void => {
      failure ??= error;
      for (const write of inFlight.values()) write.reject(failure);
      inFlight.clear();
      rejectStart(failure);
    };
    const settled = (seq: number) => {
      const write = inFlight.get(seq);
      inFlight.delete(seq);
      // Referenced only while a write is in flight, so an idle store does not keep the process alive.
      if (inFlight.size === 0 && closing === undefined) worker.unref();
      return write;
    };

    worker.on('message', (reply: WriterReply) => {
      switch (reply.type) {
        case 'ready':
          worker.unref();
          resolveStart({ ...writer, synchronous: reply.synchronous });
          return;
        case 'open-failed':
          rejectStart(fromWire(reply.error));
          return;
        case 'written':
          settled(reply.seq)?.resolve(reply.refused.length === 0 ? undefined : new Map(reply.refused.map(([i, e]) => [i, fromWire(e)])));
          return;
        case 'failed':
          settled(reply.seq)?.reject(fromWire(reply.error));
          return;
      }
    });
    worker.on('error', (cause) => stop(new BallastError('STORE_UNAVAILABLE', { detail: 'the SQLite writer thread failed', cause })));
    worker.on('exit', (code) => stop(new BallastError('STORE_UNAVAILABLE', { detail: `the SQLite writer thread stopped (exit code ${code})` })));

    const writer: BatchWriter = {
      write(rows) {
        if (failure !== undefined) return Promise.reject(failure);
        return new Promise((resolve, reject) => {
          const seq = ++lastSeq;
          inFlight.set(seq, { resolve, reject });
          if (inFlight.size === 1) worker.ref();
          try {
            worker.postMessage({ type: 'write', seq, rows } satisfies WriterRequest);
          } catch (error) {
            settled(seq);
            reject(error);
          }
        });
      },
      ping: () => (failure === undefined ? Promise.resolve() : Promise.reject(failure)),
      close() {
        if (closing === undefined) {
          worker.ref();
          if (failure === undefined) worker.postMessage({ type: 'close' } satisfies WriterRequest);
          closing = exited;
        }
        return closing;
      },
    };
  });
}

/** The BatchWriter of an in-memory database: prepared INSERTs on the store's own connection. */
export function createSqliteInThreadWriter(sqlite: SqliteDatabase.Database): BatchWriter {
  const insert = createSqliteBatchInsert(sqlite, sqliteRowErrorCodes);
  return {
    async write(rows) {
      const refused = insert(rows);
      return refused.length === 0 ? undefined : new Map(refused);
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

function fromWire(error: WireError): Error {
  return Object.assign(new Error(error.message), { code: error.code });
}
