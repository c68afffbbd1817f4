// What only SQLite's writer thread does: start on a migrated file, and fail loudly when it dies.
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKyselyStore } from '../kysely-store.js';
import { openStore } from '../open-store.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { makeDecision, tempDir } from '../testing/fixtures.js';
import { createSqliteWorkerWriter, startSqliteWriterWorker } from './sqlite-batch-writer.js';
import { classifySqliteError } from './sqlite-errors.js';
import { sqliteJsonTextAt } from './sqlite-store.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => tmp.remove());

describe('the SQLite writer thread', () => {
  it('refuses to start on a file that does not exist, rather than writing to a database without tables', async () => {
    await expect(createSqliteWorkerWriter(startSqliteWriterWorker(join(tmp.dir, 'missing.db')))).rejects.toMatchObject({ code: 'SQLITE_CANTOPEN' });
  });

  describe('when it dies', () => {
    let store: Store;
    let worker: ReturnType<typeof startSqliteWriterWorker>;
    let blocker: SqliteDatabase.Database;

    // A store assembled as openSqliteStore does, but holding the thread so that the test can kill it.
    beforeEach(async () => {
      await (await openStore({ kind: 'sqlite', path: tmp.dbPath })).close();
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(tmp.dbPath) }) });
      worker = startSqliteWriterWorker(tmp.dbPath);
      store = createKyselyStore(db, { writer: await createSqliteWorkerWriter(worker), classifyError: classifySqliteError, jsonTextAt: sqliteJsonTextAt });
      blocker = new SqliteDatabase(tmp.dbPath);
    });

    afterEach(async () => {
      blocker.close();
      await store.close();
    });

    it('rejects the appends in flight and every later one with STORE_UNAVAILABLE instead of hanging', async () => {
      await store.decisions.append(makeDecision());
      // Another connection holds the write lock, so the batch waits in the thread until the thread is gone.
      blocker.exec('begin immediate');
      const inFlight = Promise.allSettled(Array.from({ length: 20 }, () => store.decisions.append(makeDecision())));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(store.groupCommitStats().pending).toBe(20);
      const terminated = worker.terminate();
      blocker.exec('rollback');
      await terminated;

      for (const result of await inFlight) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'STORE_UNAVAILABLE', retryable: true } });
      expect(store.groupCommitStats().pending).toBe(0);
      await expect(store.decisions.append(makeDecision())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // Reads still work; only the one decision acknowledged before the thread died is there.
      expect(await store.decisions.list({ limit: 100 })).toHaveLength(1);
    });
  });
});
