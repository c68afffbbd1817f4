import { sql, type Kysely } from 'kysely';

/**
 * The review queue: one row per item holding its current state (its lease, its escalation), and
 * every human decision on it in `review_decisions`, append-only. An item's row changes only by
 * claims, releases and decisions; what was decided is never edited.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('review_items')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('decision_id', 'text', (col) => col.notNull())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text')
    .addColumn('created_at', 'text', (col) => col.notNull())
    // Higher first (0 normal, 10 high stakes).
    .addColumn('priority', 'integer', (col) => col.notNull())
    // JSON: the reasons the decision went to review.
    .addColumn('reasons', 'text', (col) => col.notNull())
    .addColumn('due_at', 'text', (col) => col.notNull())
    .addColumn('required_reviews', 'integer', (col) => col.notNull())
    // open | claimed | decided | escalated
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('lease_holder', 'text')
    .addColumn('lease_until', 'text')
    // The role that alone may claim it, once escalated.
    .addColumn('escalation_role', 'text')
    .addColumn('updated_at', 'text', (col) => col.notNull())
    // decision | appeal
    .addColumn('kind', 'text', (col) => col.notNull())
    // JSON: an appeal's statement and who filed it.
    .addColumn('detail', 'text')
    .addColumn('claimed_at', 'text')
    // Set once, by the one sweep that escalates the breach.
    .addColumn('sla_breached_at', 'text')
    .execute();
  // The SLA sweep: undecided items not yet escalated for their due time, soonest due first.
  await db.schema
    .createIndex('review_items_due')
    .on('review_items')
    .columns(['due_at', 'id'])
    .where(sql.ref('sla_breached_at'), 'is', null)
    .execute();
  // The claim query: claimable states, highest priority, then oldest.
  await db.schema
    .createIndex('review_items_claim')
    .on('review_items')
    .columns(['state', 'priority desc', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('review_items_service_created').on('review_items').columns(['service', 'created_at', 'id']).execute();
  await db.schema.createIndex('review_items_decision').on('review_items').columns(['decision_id']).execute();

  await db.schema
    .createTable('review_decisions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('item_id', 'text', (col) => col.notNull())
    .addColumn('reviewer', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull())
    // accept | override | escalate
    .addColumn('decision', 'text', (col) => col.notNull())
    // JSON: the reviewer's label (an override's), or null.
    .addColumn('label', 'text')
    .addColumn('rationale', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('claimed_at', 'text')
    .execute();
  await db.schema
    .createTable('review_exclusions')
    .addColumn('item_id', 'text', (col) => col.notNull())
    .addColumn('reviewer', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('review_exclusions_pk', ['item_id', 'reviewer'])
    .execute();
  await db.schema.createIndex('review_decisions_item_at').on('review_decisions').columns(['item_id', 'at', 'id']).execute();
}
