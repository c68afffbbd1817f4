// The Store over any Kysely dialect: the dialect folders open the database and pass in only what
// differs (how rows reach the database, how their errors read).
import { sql, type Kysely } from 'kysely';
import { createAuditRepository } from './audit-repository.js';
import { createIdentityRepository } from './identity-repository.js';
import { createRetentionRepository } from './retention-repository.js';
import { createBreakerRepository } from './breaker-repository.js';
import { createRolloutRepository } from './rollout-repository.js';
import { createRevisionRepository } from './revision-repository.js';
import { createShadowRepository } from './shadow-repository.js';
import { createApprovalRepository, createKillSwitchRepository } from './approval-repository.js';
import { createRegistryRepository } from './registry-repository.js';
import { createReviewRepository } from './review-repository.js';
import { BallastError } from '../errors/index.js';
import type { BatchWriter, StoreWrite } from './batch-writer.js';
import { createDecisionRepository } from './decision-repository.js';
import { createFeedbackRepository } from './feedback-repository.js';
import { createAlertRepository } from './alert-repository.js';
import { createMonitoringRepository } from './monitoring-repository.js';
import { createReferenceRepository } from './reference-repository.js';
import { GroupCommit } from './group-commit.js';
import type { JsonTextAt, RepositoryContext } from './repository-context.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/** What a dialect tells the shared store. */
export interface KyselyStoreOptions {
  /** Writes the group-commit batches (createKyselyBatchWriter unless the dialect has a better one). */
  readonly writer: BatchWriter;
  /** Turns a driver error into a BallastError: non-retryable when the row itself is bad. */
  readonly classifyError: (error: unknown) => BallastError;
  /** Rows per group-commit transaction (default 512). */
  readonly maxBatchSize?: number;
  /** Rows queued or in flight before appends answer SERVER_BUSY (default 10,000). */
  readonly maxPending?: number;
  /**
   * Opens ctx.write's transactions with BEGIN IMMEDIATE (SQLite): the write lock is taken up front,
   * so a transaction that reads before it writes waits for another writer instead of failing.
   */
  readonly immediateWrites?: boolean;
  /** Wipes what deletes and purges freed from the files (SQLite: a WAL checkpoint that truncates it). */
  readonly scrubFreedSpace?: (db: Kysely<Database>) => Promise<boolean>;
  /** Reads a string inside a JSON text column (the only JSON the portable queries need). */
  readonly jsonTextAt: JsonTextAt;
}

/** Builds a Store on an open, migrated Kysely instance, which serves reads; `close()` closes the writer and destroys it. */
export function createKyselyStore(db: Kysely<Database>, options: KyselyStoreOptions): Store {
  const { writer } = options;
  const commit = new GroupCommit<StoreWrite>({
    write: (items) => writer.write(items),
    classifyError: options.classifyError,
    maxBatchSize: options.maxBatchSize,
    maxPending: options.maxPending,
  });
  let closing: Promise<void> | undefined;

  const ctx: RepositoryContext = {
    db,
    jsonTextAt: options.jsonTextAt,
    commit,
    async read(query) {
      if (closing !== undefined) throw new BallastError('SERVER_DRAINING', { detail: 'the store is closed' });
      try {
        return await query(db);
      } catch (error) {
        throw error instanceof BallastError ? error : options.classifyError(error);
      }
    },
    async write(work) {
      if (closing !== undefined) throw new BallastError('SERVER_DRAINING', { detail: 'the store is closed' });
      try {
        if (options.immediateWrites !== true) return await db.transaction().execute(work);
        return await db.connection().execute(async (conn) => {
          await sql`begin immediate`.execute(conn);
          try {
            const result = await work(conn);
            await sql`commit`.execute(conn);
            return result;
          } catch (error) {
            await sql`rollback`.execute(conn).catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        throw error instanceof BallastError ? error : options.classifyError(error);
      }
    },
  };

  return {
    decisions: createDecisionRepository(ctx),
    feedback: createFeedbackRepository(ctx),
    alerts: createAlertRepository(ctx),
    monitoring: createMonitoringRepository(ctx),
    references: createReferenceRepository(ctx),
    identity: createIdentityRepository(ctx),
    audit: createAuditRepository(ctx),
    retention: createRetentionRepository(ctx, () => ctx.read(async (conn) => (options.scrubFreedSpace === undefined ? true : options.scrubFreedSpace(conn)))),
    breakers: createBreakerRepository(ctx),
    rollouts: createRolloutRepository(ctx),
    revisions: createRevisionRepository(ctx),
    shadows: createShadowRepository(ctx),
    approvals: createApprovalRepository(ctx),
    killSwitches: createKillSwitchRepository(ctx),
    registry: createRegistryRepository(ctx),
    reviews: createReviewRepository(ctx),
    flush: () => commit.flush(),
    close() {
      closing ??= commit
        .close()
        .then(() => writer.close())
        .finally(() => db.destroy());
      return closing;
    },
    async ping() {
      await ctx.read(async (conn) => void (await conn.selectNoFrom((eb) => eb.lit(1).as('one')).execute()));
      await writer.ping();
    },
    groupCommitStats: () => commit.stats(),
  };
}
