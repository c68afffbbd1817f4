// Retention over Kysely: legal holds, and purges that remove decisions' raw input and context but
// keep their digests (so the Merkle log still verifies). Every change is one transaction that also
// writes its audit event; a purge works in batches, each with its own event.
import { BallastError } from '../errors/index.js';
import { textDigest } from './audit-leaf.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { SelectQueryBuilder } from 'kysely';
import type { Database, LegalHoldsTable } from './schema.js';

/** A legal hold on a whole service or one decision: no purge touches what it covers until released. */
export interface StoredHold {
  readonly id: string;
  readonly service: string | null;
  readonly decisionId: string | null;
  readonly reason: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly releasedAt: string | null;
  readonly releasedBy: string | null;
}

/** Which decisions a purge takes (all given conditions hold); held and already purged ones never. */
export interface PurgeSelection {
  readonly service?: string;
  /** Created before this instant. */
  readonly before?: string;
  readonly subjectHash?: string;
}

export interface RetentionRepository {
  placeHold(hold: StoredHold, audit: StoredAuditEvent): Promise<void>;
  /** Releases an active hold; HOLD_NOT_FOUND when there is none with that id. */
  releaseHold(id: string, release: { at: string; by: string }, audit: (before: StoredHold) => StoredAuditEvent): Promise<StoredHold>;
  listHolds(options?: { readonly active?: boolean }): Promise<StoredHold[]>;
  /**
   * Purges at most `limit` decisions of the selection in one transaction with the audit event that
   * `audit` makes of their ids (none when nothing matched); returns the ids. Call again until empty.
   */
  purgeInputs(selection: PurgeSelection, options: { readonly limit: number; readonly at: string; readonly audit: (ids: readonly string[]) => StoredAuditEvent }): Promise<string[]>;
  /**
   * Deletes at most `limit` whole decisions of the selection (and their feedback) in one transaction
   * with the audit event `audit` makes of their ids; their leaves stay, so the log still verifies.
   */
  deleteDecisions(selection: PurgeSelection, options: { readonly limit: number; readonly audit: (decisions: readonly string[], feedback: readonly string[]) => StoredAuditEvent }): Promise<string[]>;
  /** Makes what purges removed unrecoverable from the files (SQLite: checkpoints and truncates the WAL); false when it could not (busy readers). */
  scrubFreedSpace(): Promise<boolean>;
}

const decodeHold = (row: LegalHoldsTable): StoredHold => ({
  id: row.id,
  service: row.service,
  decisionId: row.decision_id,
  reason: row.reason,
  createdAt: row.created_at,
  createdBy: row.created_by,
  releasedAt: row.released_at,
  releasedBy: row.released_by,
});

/** Narrows a query of decisions to the selection, leaving out every decision an active legal hold covers. */
function eligible(selection: PurgeSelection) {
  return <O>(query: SelectQueryBuilder<Database, 'decisions', O>): SelectQueryBuilder<Database, 'decisions', O> => {
    let q = query
      .where('service', 'not in', (eb) => eb.selectFrom('legal_holds').select('service').where('released_at', 'is', null).where('service', 'is not', null).$narrowType<{ service: string }>())
      .where('id', 'not in', (eb) => eb.selectFrom('legal_holds').select('decision_id').where('released_at', 'is', null).where('decision_id', 'is not', null).$narrowType<{ decision_id: string }>());
    if (selection.service !== undefined) q = q.where('service', '=', selection.service);
    if (selection.before !== undefined) q = q.where('created_at', '<', selection.before);
    if (selection.subjectHash !== undefined) q = q.where('subject_hash', '=', selection.subjectHash);
    return q;
  };
}

/** Creates the retention repository; `scrub` is the dialect's way of wiping freed space. */
export function createRetentionRepository(ctx: RepositoryContext, scrub: () => Promise<boolean>): RetentionRepository {
  return {
    placeHold: (hold, audit) =>
      ctx.write(async (tx) => {
        checkInstant(hold.createdAt, 'createdAt');
        await tx
          .insertInto('legal_holds')
          .values({ id: hold.id, service: hold.service, decision_id: hold.decisionId, reason: hold.reason, created_at: hold.createdAt, created_by: hold.createdBy, released_at: null, released_by: null })
          .execute();
        await appendAuditInTransaction(tx, [audit]);
      }),

    releaseHold: (id, release, audit) =>
      ctx.write(async (tx) => {
        const row = await tx.selectFrom('legal_holds').selectAll().where('id', '=', id).where('released_at', 'is', null).executeTakeFirst();
        if (row === undefined) throw new BallastError('HOLD_NOT_FOUND', { detail: `no active legal hold '${id}'` });
        await tx.updateTable('legal_holds').set({ released_at: release.at, released_by: release.by }).where('id', '=', id).execute();
        const before = decodeHold(row);
        await appendAuditInTransaction(tx, [audit(before)]);
        return { ...before, releasedAt: release.at, releasedBy: release.by };
      }),

    listHolds: (options = {}) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('legal_holds').selectAll().orderBy('created_at').orderBy('id');
        if (options.active === true) query = query.where('released_at', 'is', null);
        return (await query.execute()).map(decodeHold);
      }),

    purgeInputs: (selection, options) =>
      ctx.write(async (tx) => {
        const rows = await tx
          .selectFrom('decisions')
          .select(['id', 'input', 'context'])
          .where('purged_at', 'is', null)
          .where((eb) => eb.or([eb('input', 'is not', null), eb('context', 'is not', null)]))
          .$call(eligible(selection))
          .orderBy('created_at')
          .limit(options.limit)
          .execute();
        if (rows.length === 0) return [];
        for (const row of rows) {
          await tx
            .updateTable('decisions')
            .set({ input: null, context: null, input_digest: textDigest(row.input), context_digest: textDigest(row.context), purged_at: options.at })
            .where('id', '=', row.id)
            .execute();
        }
        const ids = rows.map((r) => r.id);
        await appendAuditInTransaction(tx, [options.audit(ids)]);
        return ids;
      }),

    deleteDecisions: (selection, options) =>
      ctx.write(async (tx) => {
        const ids = (await tx.selectFrom('decisions').select('id').$call(eligible(selection)).orderBy('created_at').limit(options.limit).execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        const feedback = (await tx.selectFrom('feedback').select('id').where('decision_id', 'in', ids).orderBy('id').execute()).map((r) => r.id);
        if (feedback.length > 0) await tx.deleteFrom('feedback').where('decision_id', 'in', ids).execute();
        await tx.deleteFrom('decisions').where('id', 'in', ids).execute();
        await appendAuditInTransaction(tx, [options.audit(ids, feedback)]);
        return ids;
      }),

    scrubFreedSpace: () => scrub(),
  };
}
