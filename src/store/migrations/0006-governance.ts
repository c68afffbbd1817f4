import type { Kysely } from 'kysely';
import { decisionLeaf, feedbackLeaf } from '../audit-leaf.js';
import type { Database, DecisionsTable, FeedbackTable } from '../schema.js';

/**
 * Identity and audit: principals, their API keys (only hashes), the append-only audit events, the
 * leaves of the Merkle log (audit events, decisions and feedback, in commit order) and its signed
 * checkpoints. Audit events, leaves and checkpoints are never updated or deleted. The decisions
 * and feedback already in the store become the first leaves, oldest first, so that a store made
 * before the audit log verifies too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('principals')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('email', 'text')
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('principal', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('service', 'text')
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('rotated_to', 'text')
    .execute();
  await db.schema.createIndex('api_keys_principal').on('api_keys').column('principal').execute();
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('actor_principal', 'text', (col) => col.notNull())
    .addColumn('actor_key', 'text')
    .addColumn('actor_role', 'text')
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('resource_kind', 'text', (col) => col.notNull())
    .addColumn('resource_id', 'text', (col) => col.notNull())
    .addColumn('service', 'text')
    .addColumn('before_digest', 'text')
    .addColumn('after_digest', 'text')
    .addColumn('before_body', 'text')
    .addColumn('after_body', 'text')
    .addColumn('request_id', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_events_resource').on('audit_events').columns(['resource_kind', 'resource_id']).execute();
  await db.schema
    .createTable('audit_leaves')
    // `integer primary key` is SQLite's rowid: one B-tree, appended in order (a PostgreSQL store
    // would want bigint here). The leaf's data is not stored: it is recomputed from its row.
    .addColumn('idx', 'integer', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('ref_id', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .execute();
  // No index on ref_id: it would cost every decision a second B-tree insert for the sake of proofs,
  // which read every leaf hash anyway (a proof is O(n) in the log's size today).
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('tree_size', 'bigint', (col) => col.notNull())
    .addColumn('root_hash', 'text', (col) => col.notNull())
    .addColumn('note', 'text', (col) => col.notNull())
    .addColumn('frontier', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('audit_checkpoints_size').on('audit_checkpoints').columns(['tree_size']).execute();
  await backfillLeaves(db as unknown as Kysely<Database>);
}

/** Leaves for the rows that predate the log: decisions, then feedback, each by (created_at, id). */
async function backfillLeaves(db: Kysely<Database>): Promise<void> {
  let idx = 0;
  const page = 1000;
  for (const table of ['decisions', 'feedback'] as const) {
    for (let after: { created_at: string; id: string } | undefined; ; ) {
      const cursor = after;
      const rows = (await db
        .selectFrom(table)
        .selectAll()
        .$if(cursor !== undefined, (q) => q.where((eb) => eb.or([eb('created_at', '>', cursor!.created_at), eb.and([eb('created_at', '=', cursor!.created_at), eb('id', '>', cursor!.id)])])))
        .orderBy('created_at')
        .orderBy('id')
        .limit(page)
        .execute()) as (DecisionsTable | FeedbackTable)[];
      if (rows.length === 0) break;
      const leaves = rows.map((row) => ({ ...(table === 'decisions' ? decisionLeaf(row as DecisionsTable) : feedbackLeaf(row as FeedbackTable)), idx: idx++ }));
      await db.insertInto('audit_leaves').values(leaves).execute();
      const last = rows[rows.length - 1]!;
      after = { created_at: last.created_at, id: last.id };
    }
  }
}
