import type { Kysely } from 'kysely';

/**
 * Safe change: the model registry and its lifecycle, configuration revisions, rollouts with their
 * kept history, approvals, kill switches, and shadow decisions. Everything is append-only except a
 * rollout's current state (`rollouts`), whose every change is also an event in `rollout_events`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per registered version, never updated: a changed digest is a new version.
  await db.schema
    .createTable('model_versions')
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('digest', 'text', (col) => col.notNull())
    // JSON: adapter, artifacts with digests, training data, evaluation, model card.
    .addColumn('spec', 'text', (col) => col.notNull())
    .addColumn('author', 'text', (col) => col.notNull())
    .addColumn('registered_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('model_versions_pk', ['service', 'name'])
    .execute();
  await db.schema
    .createTable('model_transitions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('rollout_id', 'text')
    .addColumn('revision', 'integer')
    .execute();
  await db.schema.createIndex('model_transitions_service_at').on('model_transitions').columns(['service', 'at']).execute();

  // Numbered, immutable snapshots of the whole configuration.
  await db.schema
    .createTable('config_revisions')
    .addColumn('number', 'integer', (col) => col.primaryKey())
    .addColumn('digest', 'text', (col) => col.notNull())
    // The configuration as YAML text (as applied, or as Ballast wrote it for a promotion).
    .addColumn('text', 'text', (col) => col.notNull())
    // The file name it came from (for problems' positions), or a description of who made it.
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    // The revision it was planned against (null for the first).
    .addColumn('based_on', 'integer')
    .execute();

  await db.schema
    .createTable('rollouts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('stable', 'text', (col) => col.notNull())
    .addColumn('candidate', 'text', (col) => col.notNull())
    .addColumn('strategy', 'text', (col) => col.notNull())
    // JSON: steps, pauses, analysis, limits as resolved when it started.
    .addColumn('spec', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('step', 'integer', (col) => col.notNull())
    .addColumn('weight', 'real', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .addColumn('step_started_at', 'text', (col) => col.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('retry_of', 'text')
    // JSON of mutable working state (consecutive inconclusive count, bandit weights, …).
    .addColumn('status', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('rollouts_service_created').on('rollouts').columns(['service', 'created_at']).execute();
  await db.schema
    .createTable('rollout_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('rollout_id', 'text', (col) => col.notNull())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('step', 'integer', (col) => col.notNull())
    .addColumn('weight', 'real', (col) => col.notNull())
    // JSON: the verdict with its numbers, the reason, the state before and after.
    .addColumn('detail', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('rollout_events_rollout_at').on('rollout_events').columns(['rollout_id', 'at']).execute();

  await db.schema
    .createTable('approvals')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('digest', 'text', (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('principal', 'text', (col) => col.notNull())
    // `approve` or `refuse`.
    .addColumn('decision', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('approvals_service_version').on('approvals').columns(['service', 'version']).execute();

  await db.schema
    .createTable('kill_switches')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('engaged', 'integer', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('kill_switches_service_at').on('kill_switches').columns(['service', 'at']).execute();

  // What a shadowed candidate answered for a copy of a request; never returned to the caller.
  await db.schema
    .createTable('shadow_decisions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('decision_id', 'text', (col) => col.notNull())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('version', 'text', (col) => col.notNull())
    .addColumn('rollout_id', 'text', (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('output', 'text')
    .addColumn('confidence', 'real')
    .addColumn('error_code', 'text')
    .addColumn('latency_ms', 'real', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('shadow_decisions_service_created').on('shadow_decisions').columns(['service', 'created_at']).execute();
  await db.schema.createIndex('shadow_decisions_decision').on('shadow_decisions').columns(['decision_id']).execute();
}
