// A store made before the audit log: its decisions and feedback become the log's first leaves when
// it is opened by this release, oldest first, and the log verifies.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { decisionLeaf, feedbackLeaf } from '../audit-leaf.js';
import { openStore } from '../open-store.js';
import { encodeDecision, encodeFeedback } from '../row-codec.js';
import type { Database } from '../schema.js';
import { makeDecision, tempDir } from '../testing/fixtures.js';
import { configureSqliteConnection } from '../sqlite/sqlite-batch-insert.js';
import { migrateTo } from './migrate.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

it('gives the rows of an older store their leaves, decisions then feedback, each by time', async () => {
  tmp = tempDir();
  mkdirSync(dirname(tmp.dbPath), { recursive: true });
  const raw = new SqliteDatabase(tmp.dbPath);
  configureSqliteConnection(raw);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  await migrateTo(db as Kysely<unknown>, '0005-monitoring');
  // Written out of time order on purpose, and more than one page of the backfill (1000 rows).
  const decisions = Array.from({ length: 1203 }, (_, i) => encodeDecision(makeDecision({ createdAt: new Date(Date.UTC(2025, 0, 1) + ((i * 7919) % 1203) * 1000).toISOString() })));
  const feedback = decisions.slice(0, 5).map((d, i) => encodeFeedback({ id: `fb_${String(i).padStart(26, '0')}`, decisionId: d.id, kind: 'label', value: { label: 'ham' }, source: null, note: null, supersedes: null, createdAt: new Date(Date.UTC(2025, 1, 1) - i * 1000).toISOString() }));
  for (let i = 0; i < decisions.length; i += 200) await db.insertInto('decisions').values(decisions.slice(i, i + 200)).execute();
  await db.insertInto('feedback').values(feedback).execute();
  await db.destroy();

  const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  try {
    expect(await store.audit.leafCount()).toBe(decisions.length + feedback.length);
    const leaves = [];
    for (let at = 0; at < decisions.length + feedback.length; at = leaves.length) leaves.push(...(await store.audit.leaves(at, decisions.length + feedback.length)));
    const byTime = <T extends { created_at: string; id: string }>(rows: T[]) => [...rows].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    const expected = [...byTime(decisions).map(decisionLeaf), ...byTime(feedback).map(feedbackLeaf)];
    expect(leaves.map((l) => [l.index, l.refId, l.hash])).toEqual(expected.map((l, i) => [i, l.ref_id, l.hash]));
    // New writes continue after the backfilled leaves.
    await store.decisions.append(makeDecision());
    expect(await store.audit.leafCount()).toBe(decisions.length + feedback.length + 1);
  } finally {
    await store.close();
  }
});
