// SQLite through better-sqlite3: the only place that knows SQLite's pragmas and error codes.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { BallastError } from '../../errors/index.js';
import type { BatchWriter } from '../batch-writer.js';
import { createKyselyStore } from '../kysely-store.js';
import { migrateToLatest } from '../migrations/migrate.js';
import type { JsonTextAt } from '../repository-context.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { createSqliteInThreadWriter, createSqliteWorkerWriter, startSqliteWriterWorker } from './sqlite-batch-writer.js';
import { configureSqliteConnection } from './sqlite-batch-insert.js';
import { classifySqliteError } from './sqlite-errors.js';

/** JSON1's json_extract: SQL text for a JSON string; numbers and booleans stay numbers, so they never equal a text id. */
export const sqliteJsonTextAt: JsonTextAt = (column, path) => sql<string | null>`json_extract(${sql.ref(column)}, ${`$.${path.join('.')}`})`;

/** Where the embedded SQLite database lives and how writes are grouped. */
export interface SqliteStoreConfig {
  readonly kind: 'sqlite';
  /** A file path (its directory is created), or ':memory:' for a database that dies with the process. */
  readonly path: string;
  /** Rows per group-commit transaction (default 512). */
  readonly maxBatchSize?: number;
  /** Rows queued or in flight before appends answer SERVER_BUSY (default 10,000). */
  readonly maxPending?: number;
  /**
   * What an acknowledged write survives (default 'full'): 'full' (`synchronous = FULL`) a power cut
   * or OS crash; 'process' (`synchronous = NORMAL`) the process dying, not a power cut. Ignored in memory.
   */
  readonly durability?: 'full' | 'process';
}

/** `pragma synchronous` of a store's two connections, read back on each (1 NORMAL, 2 FULL). */
export interface SqliteSynchronous {
  readonly main: number;
  readonly writer: number;
}

// Filled by openSqliteStore, read by sqliteSynchronousOf: the Store interface knows no pragmas.
const synchronousOf = new WeakMap<Store, () => SqliteSynchronous>();

/** What `synchronous` a SQLite store's connections use (undefined for any other store): for tests and diagnostics. */
export function sqliteSynchronousOf(store: Store): SqliteSynchronous | undefined {
  return synchronousOf.get(store)?.();
}

/**
 * Opens (creating if needed) and migrates a SQLite database, and returns the Store over it. The
 * store's connection serves reads; a file database is written by a connection on its own thread.
 */
export async function openSqliteStore(config: SqliteStoreConfig): Promise<Store> {
  const durability = config.durability ?? 'full';
  const sqlite = openDatabase(config.path, durability);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  let writer: BatchWriter;
  let writerSynchronous: number;
  try {
    await migrateToLatest(db as Kysely<unknown>);
    // Only now: the writer prepares its INSERTs against the migrated schema.
    if (sqlite.memory) {
      writer = createSqliteInThreadWriter(sqlite);
      writerSynchronous = readSynchronous(sqlite);
    } else {
      const threaded = await createSqliteWorkerWriter(startSqliteWriterWorker(config.path, durability));
      writer = threaded;
      writerSynchronous = threaded.synchronous;
    }
  } catch (error) {
    await db.destroy();
    throw classifySqliteError(error);
  }
  const store = createKyselyStore(db, {
    writer,
    classifyError: classifySqliteError,
    maxBatchSize: config.maxBatchSize,
    maxPending: config.maxPending,
    immediateWrites: true,
    jsonTextAt: sqliteJsonTextAt,
    // secure_delete zeroes freed content in the pages; truncating the WAL drops the old page images.
    // Through Kysely, so it waits its turn on the connection; a reader elsewhere can make it busy: retried, then reported.
    scrubFreedSpace: async (conn) => {
      if (sqlite.memory) return true;
      for (let attempt = 0; attempt < 20; attempt++) {
        const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(conn);
        if (rows[0]?.busy === 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    },
  });
  synchronousOf.set(store, () => ({ main: readSynchronous(sqlite), writer: writerSynchronous }));
  return store;
}

function readSynchronous(sqlite: SqliteDatabase.Database): number {
  return Number(sqlite.pragma('synchronous', { simple: true }));
}

/**
 * The database holds inputs and context: only its owner may read it. SQLite gives the WAL and the
 * shared-memory file the mode of the database file, so making that 0600 first covers all three.
 */
function restrictFiles(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) if (existsSync(file)) chmodSync(file, 0o600);
}

function openDatabase(path: string, durability: 'full' | 'process'): SqliteDatabase.Database {
  try {
    if (path !== ':memory:') restrictFiles(path);
    const sqlite = new SqliteDatabase(path);
    try {
      configureSqliteConnection(sqlite, durability);
    } catch (error) {
      sqlite.close();
      throw error;
    }
    return sqlite;
  } catch (cause) {
    throw new BallastError('STORE_UNAVAILABLE', { detail: `cannot open SQLite database at ${path}`, cause });
  }
}
