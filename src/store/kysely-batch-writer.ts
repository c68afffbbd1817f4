// The portable BatchWriter: multi-row INSERTs in a Kysely transaction on the store's connection.
// It cannot refuse a single row, so a bad row fails the batch and group commit retries row by row.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { BatchWriter, StoreWrite } from './batch-writer.js';
import type { Database } from './schema.js';

/** A BatchWriter over `db`, whose statements stay below `maxBindParameters` (PostgreSQL 65535). */
export function createKyselyBatchWriter(db: Kysely<Database>, maxBindParameters: number): BatchWriter {
  return {
    write: (rows) => db.transaction().execute((trx) => insertAll(trx, rows, maxBindParameters)),
    ping: () => Promise.resolve(),
    // The connection belongs to the store, which destroys it after this.
    close: () => Promise.resolve(),
  };
}

async function insertAll(trx: Transaction<Database>, items: readonly StoreWrite[], maxParams: number): Promise<void> {
  const decisions = items.flatMap((i) => (i.table === 'decisions' ? [i.row] : []));
  const feedback = items.flatMap((i) => (i.table === 'feedback' ? [i.row] : []));
  const audit = items.flatMap((i) => (i.table === 'audit_events' ? [i.row] : i.table === 'feedback' && i.audit !== undefined ? [i.audit.row] : []));
  for (const rows of chunks(decisions, maxParams)) await trx.insertInto('decisions').values(rows).execute();
  for (const rows of chunks(feedback, maxParams)) await trx.insertInto('feedback').values(rows).execute();
  for (const rows of chunks(audit, maxParams)) await trx.insertInto('audit_events').values(rows).execute();
  const reviews = items.flatMap((i) => (i.table === 'decisions' && i.review !== undefined ? [i.review] : []));
  for (const rows of chunks(reviews, maxParams)) await trx.insertInto('review_items').values(rows).execute();
  const shadows = items.flatMap((i) => (i.table === 'shadow_decisions' ? [i.row] : []));
  for (const rows of chunks(shadows, maxParams)) await trx.insertInto('shadow_decisions').values(rows).execute();
  // Leaves in item order, numbered after the last one; the dialect's writer must hold the table's
  // write lock for the transaction (PostgreSQL: lock audit_leaves first) so indices stay dense.
  const { next } = await trx.selectFrom('audit_leaves').select(sql<number | string>`coalesce(max(idx) + 1, 0)`.as('next')).executeTakeFirstOrThrow();
  let idx = Number(next);
  const leaves = items.flatMap((i) => (i.table === 'shadow_decisions' ? [] : [i.leaf, ...(i.table === 'feedback' && i.audit !== undefined ? [i.audit.leaf] : [])])).map((leaf) => ({ ...leaf, idx: idx++ }));
  for (const rows of chunks(leaves, maxParams)) await trx.insertInto('audit_leaves').values(rows).execute();
}

function chunks<R extends object>(rows: readonly R[], maxParams: number): R[][] {
  const first = rows[0];
  if (first === undefined) return [];
  const size = Math.max(1, Math.floor(maxParams / Object.keys(first).length));
  const out: R[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
