// The contract suite of BatchWriter, run against every writer: the portable Kysely one and both of
// SQLite's (its own thread for a file, the store's connection for ':memory:').
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decisionLeaf, feedbackLeaf } from './audit-leaf.js';
import type { BatchWriter, StoreWrite } from './batch-writer.js';
import { createKyselyBatchWriter } from './kysely-batch-writer.js';
import { migrateToLatest } from './migrations/migrate.js';
import { newId } from './ids.js';
import { encodeReviewItem } from './review-repository.js';
import { decodeDecision, encodeDecision, encodeFeedback } from './row-codec.js';
import type { Database } from './schema.js';
import { configureSqliteConnection } from './sqlite/sqlite-batch-insert.js';
import { createSqliteInThreadWriter, createSqliteWorkerWriter, startSqliteWriterWorker } from './sqlite/sqlite-batch-writer.js';
import { makeDecision, makeFeedback, tempDir } from './testing/fixtures.js';

interface OpenWriter {
  readonly writer: BatchWriter;
  /** A connection to read back what the writer wrote (the writer's own, or another one). */
  readonly db: Kysely<Database>;
}

/** Opens a migrated database with Ballast's pragmas, as the SQLite store does. */
async function openMigrated(path: string): Promise<{ sqlite: SqliteDatabase.Database; db: Kysely<Database> }> {
  const sqlite = new SqliteDatabase(path);
  configureSqliteConnection(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db as Kysely<unknown>);
  return { sqlite, db };
}

const writers: readonly { readonly name: string; readonly refusesRows: boolean; open(path: string): Promise<OpenWriter> }[] = [
  {
    name: 'kysely (multi-row INSERT, SQLite file)',
    refusesRows: false,
    async open(path) {
      const { db } = await openMigrated(path);
      return { writer: createKyselyBatchWriter(db, 32_766), db };
    },
  },
  {
    name: 'sqlite writer thread (file)',
    refusesRows: true,
    async open(path) {
      const { db } = await openMigrated(path);
      return { writer: await createSqliteWorkerWriter(startSqliteWriterWorker(path)), db };
    },
  },
  {
    name: 'sqlite in-thread (:memory:)',
    refusesRows: true,
    async open() {
      const { sqlite, db } = await openMigrated(':memory:');
      return { writer: createSqliteInThreadWriter(sqlite), db };
    },
  },
];

describe.each(writers)('BatchWriter: $name', (kind) => {
  let tmp: ReturnType<typeof tempDir>;
  let open: OpenWriter;

  beforeEach(async () => {
    tmp = tempDir();
    open = await kind.open(join(tmp.dir, 'writer.db'));
  });

  afterEach(async () => {
    await open.writer.close();
    await open.db.destroy();
    tmp.remove();
  });

  const decisionWrite = (d = makeDecision()): StoreWrite => {
    const row = encodeDecision(d);
    return { table: 'decisions', row, leaf: decisionLeaf(row) };
  };
  const leafRefs = async () => (await open.db.selectFrom('audit_leaves').select(['idx', 'ref_id']).orderBy('idx').execute()).map((r) => [Number(r.idx), r.ref_id]);
  const ids = async (table: 'decisions' | 'feedback') => (await open.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id);

  it('commits decisions and feedback of one batch, readable on the reading connection as soon as it resolves', async () => {
    const decisions = Array.from({ length: 30 }, () => makeDecision({ input: { text: 'é'.repeat(2000) } }));
    const feedback = makeFeedback(decisions[0]!.id);
    const feedbackRow = encodeFeedback(feedback);
    const rows: StoreWrite[] = [...decisions.map((d) => decisionWrite(d)), { table: 'feedback', row: feedbackRow, leaf: feedbackLeaf(feedbackRow) }];
    await expect(open.writer.write(rows)).resolves.toBeUndefined();
    expect(await ids('decisions')).toEqual(decisions.map((d) => d.id).sort());
    expect(await ids('feedback')).toEqual([feedback.id]);
    const stored = await open.db.selectFrom('decisions').selectAll().where('id', '=', decisions[7]!.id).executeTakeFirstOrThrow();
    expect(decodeDecision(stored)).toStrictEqual(decisions[7]);
    // One leaf per row, numbered from 0 in the batch's order.
    expect(await leafRefs()).toEqual(rows.map((r, i) => [i, r.row.id]));
  });

  it(`on a bad row, ${kind.refusesRows ? 'refuses that row alone and commits the rest' : 'rejects the batch and writes nothing'}`, async () => {
    const existing = decisionWrite();
    await open.writer.write([existing]);
    const good = [decisionWrite(), decisionWrite(), decisionWrite()];
    const duplicateRow = { ...encodeDecision(makeDecision()), id: existing.row.id };
    const duplicate: StoreWrite = { table: 'decisions', row: duplicateRow, leaf: decisionLeaf(duplicateRow) };
    const rows = [good[0]!, duplicate, good[1]!, good[2]!];
    const written = open.writer.write(rows);
    if (kind.refusesRows) {
      const refused = await written;
      expect([...(refused ?? new Map()).keys()]).toEqual([1]);
      expect(refused?.get(1)).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      expect(await ids('decisions')).toEqual([existing, ...good].map((w) => w.row.id).sort());
      // The refused row takes no index: the log stays dense.
      expect(await leafRefs()).toEqual([existing, ...good].map((w, i) => [i, w.row.id]));
    } else {
      await expect(written).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      expect(await ids('decisions')).toEqual([existing.row.id]);
      expect(await leafRefs()).toEqual([[0, existing.row.id]]);
    }
    // The writer goes on as before.
    await expect(open.writer.write([decisionWrite()])).resolves.toBeUndefined();
  });

  it('writes a review item with its decision, and none with a decision it refuses', async () => {
    const item = (d: ReturnType<typeof makeDecision>) =>
      encodeReviewItem({ id: newId('rvw'), decisionId: d.id, service: d.service, version: d.version, createdAt: d.createdAt, priority: 10, reasons: [{ kind: 'rule' }], dueAt: d.createdAt, requiredReviews: 2, kind: 'decision', detail: null });
    const first = makeDecision({ outcome: 'review' });
    const withItem = (d: ReturnType<typeof makeDecision>): StoreWrite => ({ ...(decisionWrite(d) as Extract<StoreWrite, { table: 'decisions' }>), review: item(d) });
    const firstWrite = withItem(first) as Extract<StoreWrite, { table: 'decisions' }>;
    await open.writer.write([firstWrite, decisionWrite()]);
    const reviews = async () => (await open.db.selectFrom('review_items').select(['decision_id', 'priority', 'state']).orderBy('id').execute()).map((r) => [r.decision_id, Number(r.priority), r.state]);
    expect(await reviews()).toEqual([[first.id, 10, 'open']]);
    // A duplicate decision id: its item is not written (the writer that refuses rows keeps the rest).
    const duplicate = { ...makeDecision({ outcome: 'review' }), id: first.id };
    const other = makeDecision({ outcome: 'review' });
    const written = open.writer.write([withItem(duplicate), withItem(other)]);
    if (kind.refusesRows) {
      expect([...((await written) ?? new Map()).keys()]).toEqual([0]);
      expect(await reviews()).toEqual([[first.id, 10, 'open'], [other.id, 10, 'open']]);
    } else {
      await expect(written).rejects.toBeDefined();
      expect(await reviews()).toEqual([[first.id, 10, 'open']]);
    }
    // No leaf of its own: the decision's leaf covers it.
    const refs = (await leafRefs()).map(([, ref]) => ref);
    expect(refs).toContain(first.id);
    expect(refs).not.toContain(firstWrite.review!.id);
  });

  it('finishes a write in flight when closed, and answers ping until then', async () => {
    await expect(open.writer.ping()).resolves.toBeUndefined();
    const rows = Array.from({ length: 200 }, () => decisionWrite());
    const written = open.writer.write(rows);
    const closed = open.writer.close();
    await expect(written).resolves.toBeUndefined();
    await closed;
    expect(await ids('decisions')).toHaveLength(200);
  });
});
