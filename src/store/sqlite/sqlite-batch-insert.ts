// What both SQLite writers run: connection setup and the batch INSERT. The writer thread runs these
// functions from their source text (sqlite-batch-writer.ts), so each may use only its parameters
// and globals: no imports at run time (types are fine), no module-level values, no helpers.
import type SqliteDatabase from 'better-sqlite3';
import type { StoreWrite } from '../batch-writer.js';
import type { LeafWrite } from '../audit-leaf.js';
import type { AuditEventsTable, DecisionsTable, FeedbackTable, ReviewItemsTable, ShadowDecisionsTable } from '../schema.js';

/** A row a committed batch left out: its index in the batch and the driver's error. */
export type RefusedRow = readonly [index: number, error: unknown];

/**
 * Applies Ballast's pragmas to a connection; throws when a file database cannot use WAL.
 * `durability` picks `synchronous` for a file (see below); an in-memory database has no disk and ignores it.
 */
export function configureSqliteConnection(sqlite: SqliteDatabase.Database, durability: 'full' | 'process' = 'full'): void {
  if (!sqlite.memory) {
    // WAL: readers never block the writer, and a commit is one sequential append to the log.
    const mode: unknown = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is '${String(mode)}', WAL is required (network file system?)`);
  }
  // full: FULL fsyncs the WAL at every commit (one fsync per group-commit batch), so an acknowledged
  // decision survives a power cut or an OS crash. process: NORMAL in WAL mode fsyncs only at
  // checkpoints; a commit is still written to the WAL file (the OS holds it) before the caller is
  // answered, so a killed or crashed process loses nothing, but a power cut or OS crash can lose
  // the last commits, decisions already acknowledged. The operator picks that trade, FULL is the default.
  sqlite.pragma(!sqlite.memory && durability === 'process' ? 'synchronous = NORMAL' : 'synchronous = FULL');
  // Another connection (the CLI, a cluster worker, this process's other thread) makes us wait, not fail.
  sqlite.pragma('busy_timeout = 5000');
  // Off, and no FOREIGN KEY declared either: feedback may arrive for a decision that another
  // replica has not written yet, and an acknowledged label must never be refused for that.
  sqlite.pragma('foreign_keys = OFF');
  // A purge or an erasure must not leave the removed values in freed space of the file.
  sqlite.pragma('secure_delete = ON');
}

/**
 * Prepares the INSERTs once and returns a function that writes a batch in one transaction. A row
 * whose error matches `rowErrorCodes` is left out (SQLite undoes only its statement) and returned;
 * any other error rolls the whole batch back and is thrown.
 */
export function createSqliteBatchInsert(sqlite: SqliteDatabase.Database, rowErrorCodes: RegExp): (rows: readonly StoreWrite[]) => RefusedRow[] {
  const insertDecision = sqlite.prepare<DecisionsTable>(
    'insert into decisions (id, service, version, created_at, outcome, confidence, subject_hash, input, context, output, explanation, timings) ' +
      'values (@id, @service, @version, @created_at, @outcome, @confidence, @subject_hash, @input, @context, @output, @explanation, @timings)',
  );
  const insertFeedback = sqlite.prepare<FeedbackTable>(
    'insert into feedback (id, decision_id, kind, value, source, note, supersedes, created_at) ' +
      'values (@id, @decision_id, @kind, @value, @source, @note, @supersedes, @created_at)',
  );
  const insertAudit = sqlite.prepare<AuditEventsTable>(
    'insert into audit_events (id, at, actor_principal, actor_key, actor_role, action, resource_kind, resource_id, service, before_digest, after_digest, before_body, after_body, request_id, detail) ' +
      'values (@id, @at, @actor_principal, @actor_key, @actor_role, @action, @resource_kind, @resource_id, @service, @before_digest, @after_digest, @before_body, @after_body, @request_id, @detail)',
  );
  const insertShadow = sqlite.prepare<ShadowDecisionsTable>(
    'insert into shadow_decisions (id, decision_id, service, version, rollout_id, revision, created_at, output, confidence, error_code, latency_ms) ' +
      'values (@id, @decision_id, @service, @version, @rollout_id, @revision, @created_at, @output, @confidence, @error_code, @latency_ms)',
  );
  const insertReview = sqlite.prepare<ReviewItemsTable>(
    'insert into review_items (id, decision_id, service, version, created_at, priority, reasons, due_at, required_reviews, state, lease_holder, lease_until, escalation_role, updated_at, kind, detail, claimed_at, sla_breached_at) ' +
      'values (@id, @decision_id, @service, @version, @created_at, @priority, @reasons, @due_at, @required_reviews, @state, @lease_holder, @lease_until, @escalation_role, @updated_at, @kind, @detail, @claimed_at, @sla_breached_at)',
  );
  const insertLeaf = sqlite.prepare<LeafWrite & { idx: number }>('insert into audit_leaves (idx, kind, ref_id, hash) values (@idx, @kind, @ref_id, @hash)');
  const nextLeaf = sqlite.prepare('select coalesce(max(idx) + 1, 0) as next from audit_leaves').pluck();
  const insertAll = sqlite.transaction((rows: readonly StoreWrite[]) => {
    const refused: RefusedRow[] = [];
    // Under the write lock (IMMEDIATE): no other writer can take an index between this and commit.
    let next = Number(nextLeaf.get());
    for (const [index, write] of rows.entries()) {
      try {
        if (write.table === 'shadow_decisions') {
          insertShadow.run(write.row);
          continue;
        }
        if (write.table === 'decisions') insertDecision.run(write.row);
        else if (write.table === 'feedback') insertFeedback.run(write.row);
        else insertAudit.run(write.row);
      } catch (error) {
        const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
        // Some errors make SQLite roll the transaction back itself: then nothing of the batch stands.
        if (!rowErrorCodes.test(code) || !sqlite.inTransaction) throw error;
        refused.push([index, error]);
        continue;
      }
      // What depends on an accepted row cannot fail for that row's sake: an error here fails the batch.
      insertLeaf.run({ ...write.leaf, idx: next++ });
      if (write.table === 'decisions' && write.review !== undefined) insertReview.run(write.review);
      if (write.table === 'feedback' && write.audit !== undefined) {
        insertAudit.run(write.audit.row);
        insertLeaf.run({ ...write.audit.leaf, idx: next++ });
      }
    }
    return refused;
  });
  // IMMEDIATE takes the write lock up front: a busy database waits in busy_timeout, not mid-batch.
  return (rows) => insertAll.immediate(rows);
}
