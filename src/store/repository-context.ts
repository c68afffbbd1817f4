// What the dialect-neutral repositories share: the Kysely instance, the one group-commit queue
// (decisions and feedback go through the same transactions) and the guard around reads.
import type { Kysely } from 'kysely';
import type { StoreWrite } from './batch-writer.js';
import type { GroupCommit } from './group-commit.js';
import type { Database } from './schema.js';

/** What each repository is built from. */
export interface RepositoryContext {
  readonly db: Kysely<Database>;
  readonly commit: GroupCommit<StoreWrite>;
  /** Runs a query: SERVER_DRAINING once the store is closing, STORE_UNAVAILABLE when the database fails. */
  read<R>(query: (db: Kysely<Database>) => Promise<R>): Promise<R>;
  /**
   * Runs low-rate writes (monitor checkpoints, alerts, references) in one transaction on the reading
   * connection, outside group commit; durable when it resolves. Same guard and errors as `read`.
   */
  write<R>(work: (tx: Kysely<Database>) => Promise<R>): Promise<R>;
}

/** Clamps a page size to 0..1000 (the largest page any caller gets). */
export function pageSize(limit: number): number {
  return Number.isFinite(limit) ? Math.min(Math.max(Math.trunc(limit), 0), 1000) : 1000;
}
