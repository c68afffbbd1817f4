// What the dialect-neutral repositories share: the Kysely instance, the one group-commit queue
// (decisions and feedback go through the same transactions) and the guard around reads.
import type { Kysely, RawBuilder } from 'kysely';
import type { StoreWrite } from './batch-writer.js';
import type { GroupCommit } from './group-commit.js';
import type { Database } from './schema.js';

/**
 * The text at `path` (object keys) in a column of JSON text, null when absent or not a string: JSON functions
 * are spelled differently in each dialect (SQLite `json_extract`, PostgreSQL `#>>` on a cast to json).
 */
export type JsonTextAt = (column: string, path: readonly string[]) => RawBuilder<string | null>;

/** What each repository is built from. */
export interface RepositoryContext {
  readonly db: Kysely<Database>;
  /** The dialect's reading of a string inside a JSON text column. */
  readonly jsonTextAt: JsonTextAt;
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
