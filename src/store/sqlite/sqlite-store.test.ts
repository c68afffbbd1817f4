// What only the SQLite dialect does: file setup, pragmas, migrations as SQLite records them, errors.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../migrations/migrate.js';
import { openStore } from '../open-store.js';
import { makeDecision, tempDir } from '../testing/fixtures.js';
import { configureSqliteConnection } from './sqlite-batch-insert.js';
import { classifySqliteError } from './sqlite-errors.js';
import { sqliteSynchronousOf } from './sqlite-store.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => tmp.remove());

/** Runs `check` on a second, raw connection to the database file. */
function inspect(dbPath: string, check: (raw: SqliteDatabase.Database) => void): void {
  const raw = new SqliteDatabase(dbPath);
  try {
    check(raw);
  } finally {
    raw.close();
  }
}

describe('openSqliteStore', () => {
  it('creates the directory, switches the file to WAL, and builds the tables and indexes', async () => {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    await store.ping();
    await store.close();
    inspect(tmp.dbPath, (raw) => {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const indexes = raw.prepare("select name from sqlite_master where type = 'index' and name not like 'sqlite_%' order by name").pluck().all();
      // Containment, not equality: later migrations add their own tables and indexes.
      expect(indexes).toEqual(expect.arrayContaining(['decisions_created_at', 'decisions_service_created_at', 'feedback_created_at', 'feedback_decision_id']));
      // No foreign key: feedback may precede its decision (see sqlite-store.ts).
      expect(raw.pragma('foreign_key_list(feedback)')).toEqual([]);
    });
  });

  it('records each migration once, however often the database is opened', async () => {
    for (let i = 0; i < 3; i++) await (await openStore({ kind: 'sqlite', path: tmp.dbPath })).close();
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(tmp.dbPath) }) });
    try {
      expect(await migrateToLatest(db)).toEqual([]);
    } finally {
      await db.destroy();
    }
    inspect(tmp.dbPath, (raw) => {
      const names = raw.prepare('select name from ballast_migrations order by name').pluck().all();
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining(['0001-decisions', '0002-feedback', '0003-alerts']));
    });
  });

  it('refuses a database migrated by a newer Ballast, rather than writing to a schema it does not know', async () => {
    await (await openStore({ kind: 'sqlite', path: tmp.dbPath })).close();
    inspect(tmp.dbPath, (raw) => raw.prepare("insert into ballast_migrations (name, timestamp) values ('0099-future', '2030-01-01')").run());
    await expect(openStore({ kind: 'sqlite', path: tmp.dbPath })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('sets the same pragmas on every connection, the writer thread\'s included (it runs the same function)', () => {
    const raw = new SqliteDatabase(join(tmp.dir, 'pragmas.db'));
    try {
      configureSqliteConnection(raw);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(raw.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(raw.pragma('foreign_keys', { simple: true })).toBe(0);
    } finally {
      raw.close();
    }
  });

  it("uses synchronous = NORMAL with durability 'process', on a plain connection as on both of a store's", async () => {
    const raw = new SqliteDatabase(join(tmp.dir, 'process.db'));
    try {
      configureSqliteConnection(raw, 'process');
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    } finally {
      raw.close();
    }
    // Read back on the store's connection and on the writer thread's (reported by the thread).
    const cases = [
      { durability: undefined, expected: { main: 2, writer: 2 } },
      { durability: 'full' as const, expected: { main: 2, writer: 2 } },
      { durability: 'process' as const, expected: { main: 1, writer: 1 } },
    ];
    for (const { durability, expected } of cases) {
      const store = await openStore({ kind: 'sqlite', path: tmp.dbPath, ...(durability === undefined ? {} : { durability }) });
      try {
        expect(sqliteSynchronousOf(store)).toEqual(expected);
        // Still WAL, and writes go through: only the fsync policy changed.
        const decision = makeDecision();
        await store.decisions.append(decision);
        expect(await store.decisions.get(decision.id)).toStrictEqual(decision);
      } finally {
        await store.close();
      }
      inspect(tmp.dbPath, (check) => expect(check.pragma('journal_mode', { simple: true })).toBe('wal'));
    }
  });

  it("ignores durability in memory: there is no disk to fsync", async () => {
    const store = await openStore({ kind: 'sqlite', path: ':memory:', durability: 'process' });
    try {
      expect(sqliteSynchronousOf(store)).toEqual({ main: 2, writer: 2 });
    } finally {
      await store.close();
    }
  });

  it('works in memory', async () => {
    const store = await openStore({ kind: 'sqlite', path: ':memory:' });
    const decision = makeDecision();
    await store.decisions.append(decision);
    expect(await store.decisions.get(decision.id)).toStrictEqual(decision);
    await store.close();
  });

  it('answers STORE_UNAVAILABLE when the file cannot be opened', async () => {
    writeFileSync(join(tmp.dir, 'a-file'), '');
    await expect(openStore({ kind: 'sqlite', path: join(tmp.dir, 'a-file', 'ballast.db') })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('classifySqliteError', () => {
  const sqliteError = (code: string) => Object.assign(new Error(code), { code });

  it('blames the row for constraint errors (not retryable) and the database for the rest (retryable)', () => {
    expect(classifySqliteError(sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY'))).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect(classifySqliteError(sqliteError('SQLITE_CONSTRAINT_NOTNULL'))).toMatchObject({ code: 'INTERNAL', retryable: false });
    for (const code of ['SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_IOERR_FSYNC', 'SQLITE_READONLY']) {
      expect(classifySqliteError(sqliteError(code))).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    }
    expect(classifySqliteError('odd')).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
