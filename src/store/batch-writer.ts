// How group commit reaches the database: one call, one transaction. A dialect brings the writer
// that suits it (SQLite's runs on its own thread); kysely-batch-writer.ts is the portable one.
import type { LeafWrite } from './audit-leaf.js';
import type { RefusedItems } from './group-commit.js';
import type { AuditEventsTable, DecisionsTable, FeedbackTable, ReviewItemsTable, ShadowDecisionsTable } from './schema.js';

/** An audit event with its leaf, written in the same transaction as the change it records. */
export interface AuditWrite {
  readonly row: AuditEventsTable;
  readonly leaf: LeafWrite;
}

/**
 * One item waiting for group commit, tagged with its table: the row, its Merkle leaf and, for a
 * privileged change, its audit event. The writer refuses or commits an item whole; it gives each
 * leaf the next index of the log inside the transaction.
 */
export type StoreWrite =
  // A decision that went to review brings its review item: both land in one transaction, or neither.
  | { readonly table: 'decisions'; readonly row: DecisionsTable; readonly leaf: LeafWrite; readonly review?: ReviewItemsTable }
  | { readonly table: 'feedback'; readonly row: FeedbackTable; readonly leaf: LeafWrite; readonly audit?: AuditWrite }
  | { readonly table: 'audit_events'; readonly row: AuditEventsTable; readonly leaf: LeafWrite }
  // Never answered to anyone and not in the audit log: no leaf. Written here only to keep fsyncs off the event loop.
  | { readonly table: 'shadow_decisions'; readonly row: ShadowDecisionsTable };

/** Writes batches of encoded rows, each batch in one durable transaction. */
export interface BatchWriter {
  /**
   * Resolves once the transaction committed: with the rows it refused (nothing of them written)
   * when the writer can drop a bad row and keep the rest, else with nothing. Rejects when nothing
   * was written.
   */
  write(rows: readonly StoreWrite[]): Promise<RefusedItems | void>;
  /** Rejects with STORE_UNAVAILABLE when the writer can no longer write (for /readyz). */
  ping(): Promise<void>;
  /** Releases what the writer holds; called once every write has settled. */
  close(): Promise<void>;
}
