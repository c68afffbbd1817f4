// Runs the numbered migrations at open, through Kysely's Migrator: each in a transaction where the
// dialect allows DDL in one (SQLite and PostgreSQL do), under a lock, recorded in ballast_migrations.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { BallastError } from '../../errors/index.js';
import * as decisions from './0001-decisions.js';
import * as feedback from './0002-feedback.js';
import * as alerts from './0003-alerts.js';
import * as references from './0004-references.js';
import * as monitoring from './0005-monitoring.js';
import * as governance from './0006-governance.js';
import * as retention from './0007-retention.js';
import * as breakers from './0008-breakers.js';
import * as safeChange from './0009-safe-change.js';
import * as reviewQueue from './0010-review-queue.js';
import * as alertOwnership from './0011-alert-ownership.js';

// Listed here rather than read from the folder, so that bundling or a changed cwd cannot skip one.
const migrations: Readonly<Record<string, Migration>> = {
  '0001-decisions': decisions,
  '0002-feedback': feedback,
  '0003-alerts': alerts,
  '0004-references': references,
  '0005-monitoring': monitoring,
  '0006-governance': governance,
  '0007-retention': retention,
  '0008-breakers': breakers,
  '0009-safe-change': safeChange,
  '0010-review-queue': reviewQueue,
  '0011-alert-ownership': alertOwnership,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...migrations }) };

const migratorOf = (db: Kysely<unknown>) => new Migrator({ db, provider, migrationTableName: 'ballast_migrations', migrationLockTableName: 'ballast_migrations_lock' });

/** Brings the schema up to the named migration (tests: a store as an older release left it). */
export async function migrateTo(db: Kysely<unknown>, name: string): Promise<void> {
  const { error } = await migratorOf(db).migrateTo(name);
  if (error !== undefined) throw error;
}

/** Brings the schema up to date; running it on an up-to-date database changes nothing. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<readonly string[]> {
  const { error, results = [] } = await migratorOf(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const detail = failed === undefined ? 'schema migration failed' : `schema migration ${failed} failed`;
    throw new BallastError('STORE_UNAVAILABLE', { detail, cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
