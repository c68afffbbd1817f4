import type { Kysely } from 'kysely';

/**
 * Retention: a purge removes a decision's raw input and context but keeps their SHA-256 digests in
 * the row, so its Merkle leaf still recomputes; legal holds (per service or decision) stop purges.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').addColumn('input_digest', 'text').execute();
  await db.schema.alterTable('decisions').addColumn('context_digest', 'text').execute();
  await db.schema.alterTable('decisions').addColumn('purged_at', 'text').execute();
  await db.schema
    .createTable('legal_holds')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text')
    .addColumn('decision_id', 'text')
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('released_at', 'text')
    .addColumn('released_by', 'text')
    .execute();
  await db.schema.createIndex('legal_holds_decision').on('legal_holds').columns(['decision_id']).execute();
}
