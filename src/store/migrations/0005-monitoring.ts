import type { Kysely } from 'kysely';

/**
 * Monitoring state: sketch deltas per (service, version, segment, window) written at checkpoints,
 * the checkpoints themselves (for recovery after a crash), every monitor evaluation (history), and
 * each monitor's current status (for hysteresis across restarts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('monitor_sketches')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('segment', 'text', (col) => col.notNull())
    .addColumn('window_start', 'text', (col) => col.notNull())
    .addColumn('window_end', 'text', (col) => col.notNull())
    .addColumn('reference_id', 'text', (col) => col.notNull())
    .addColumn('writer', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('last_event_at', 'text', (col) => col.notNull())
    .addColumn('events', 'integer', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('monitor_sketches_window').on('monitor_sketches').columns(['service', 'window_start']).execute();
  await db.schema
    .createTable('monitor_checkpoints')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('writer', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('decisions_from', 'text', (col) => col.notNull())
    .addColumn('feedback_from', 'text', (col) => col.notNull())
    .addColumn('seen', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('monitor_evaluations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('monitor', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('segment', 'text', (col) => col.notNull())
    .addColumn('window_start', 'text', (col) => col.notNull())
    .addColumn('window_end', 'text', (col) => col.notNull())
    .addColumn('evaluated_at', 'text', (col) => col.notNull())
    .addColumn('observed', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('value', 'double precision')
    .addColumn('body', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('monitor_evaluations_monitor').on('monitor_evaluations').columns(['service', 'monitor', 'evaluated_at', 'id']).execute();
  await db.schema
    .createTable('monitor_status')
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('monitor', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('segment', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('monitor_status_pk', ['service', 'monitor', 'version', 'segment'])
    .execute();
}
