import { sql, type Kysely } from 'kysely';

/**
 * Alerts that reach the person on call: who acknowledged an alert (once; the first acknowledgement
 * stands) and when it escalated (set once, by the one guarded update that also enqueues the
 * escalation's delivery, so no restart and no second process escalates it again).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('acknowledged_by', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('acknowledged_at', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('ack_note', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('escalated_at', 'text').execute();
  // The escalation sweep: per service, firing alerts nobody acknowledged that have not escalated, oldest first.
  await db.schema
    .createIndex('alerts_escalation_due')
    .on('alerts')
    .columns(['service', 'fired_at', 'id'])
    .where(sql.ref('active_key'), 'is not', null)
    .where(sql.ref('escalated_at'), 'is', null)
    .where(sql.ref('acknowledged_at'), 'is', null)
    .execute();
}
