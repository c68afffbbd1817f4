import type { Kysely } from 'kysely';

/**
 * Reference profiles: a service's reference (training data or a window of live traffic) kept as
 * statistics. Append-only: building a profile again under the same name adds a row, the newest wins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reference_profiles')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('row_count', 'bigint', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('features', 'text', (col) => col.notNull())
    .addColumn('sketch', 'text', (col) => col.notNull())
    .addColumn('vocabularies', 'text', (col) => col.notNull())
    .addColumn('calibration', 'text')
    .addColumn('accuracy', 'text')
    .execute();
  await db.schema.createIndex('reference_profiles_latest').on('reference_profiles').columns(['service', 'name', 'created_at', 'id']).execute();
}
