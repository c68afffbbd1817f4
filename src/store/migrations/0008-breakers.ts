import type { Kysely } from 'kysely';

/** The kept history of circuit breakers: every state change of every version's breaker, append-only. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('breaker_transitions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('from_state', 'text', (col) => col.notNull())
    .addColumn('to_state', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    // JSON of the figures behind the change (calls, rates; a quality breaker's monitor values).
    .addColumn('figures', 'text', (col) => col.notNull())
    .addColumn('actor', 'text')
    .execute();
  await db.schema.createIndex('breaker_transitions_service_at').on('breaker_transitions').columns(['service', 'at']).execute();
}
