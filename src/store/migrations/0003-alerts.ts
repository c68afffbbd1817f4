import type { Kysely } from 'kysely';

/**
 * Creates the alerts, the webhook outbox and the delivery log. At most one alert per key fires at a
 * time: `active_key` holds the key while firing and NULL once resolved, under a unique index (both
 * dialects let a unique index hold many NULLs), so firing is one INSERT ... ON CONFLICT DO NOTHING.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('monitor', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('segment', 'text', (col) => col.notNull())
    .addColumn('rule', 'text', (col) => col.notNull())
    .addColumn('severity', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('fired_at', 'text', (col) => col.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('summary', 'text', (col) => col.notNull())
    .addColumn('values', 'text', (col) => col.notNull())
    .addColumn('active_key', 'text')
    .execute();
  await db.schema.createIndex('alerts_active_key').on('alerts').column('active_key').unique().execute();
  await db.schema.createIndex('alerts_service_fired_at').on('alerts').columns(['service', 'fired_at', 'id']).execute();
  await db.schema.createIndex('alerts_fired_at').on('alerts').columns(['fired_at', 'id']).execute();

  await db.schema
    .createTable('alert_outbox')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('alert_id', 'text', (col) => col.notNull())
    .addColumn('rule', 'text', (col) => col.notNull())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('secret_name', 'text', (col) => col.notNull())
    .addColumn('timeout_ms', 'integer', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('next_attempt_at', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('alert_outbox_due').on('alert_outbox').columns(['status', 'next_attempt_at', 'id']).execute();
  await db.schema.createIndex('alert_outbox_alert_id').on('alert_outbox').columns(['alert_id', 'id']).execute();

  await db.schema
    .createTable('alert_deliveries')
    .addColumn('delivery_id', 'text', (col) => col.notNull())
    .addColumn('attempt', 'integer', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('duration_ms', 'double precision', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('alert_deliveries_pk', ['delivery_id', 'attempt'])
    .execute();
}
