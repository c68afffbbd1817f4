// Feedback over Kysely: appends through the shared group commit, reads joined to decisions.
import { BallastError } from '../errors/index.js';
import { feedbackLeaf } from './audit-leaf.js';
import { auditWrite } from './audit-repository.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import type { StoredFeedback } from './records.js';
import type { Database } from './schema.js';
import type { Kysely } from 'kysely';
import { decodeFeedback, encodeFeedback } from './row-codec.js';
import type { FeedbackRepository, PageOptions } from './store.js';

/**
 * Writes a feedback row and its leaf inside a transaction that ctx.write opened (its write lock held):
 * a reviewer's override lands with the review decision it comes from, or not at all.
 */
export async function appendFeedbackInTransaction(tx: Kysely<Database>, feedback: StoredFeedback): Promise<void> {
  const row = encodeFeedback(feedback);
  const { next } = await tx.selectFrom('audit_leaves').select((eb) => eb.fn.max('idx').as('next')).executeTakeFirstOrThrow();
  await tx.insertInto('feedback').values(row).execute();
  await tx
    .insertInto('audit_leaves')
    .values({ ...feedbackLeaf(row), idx: next === null || next === undefined ? 0 : Number(next) + 1 })
    .execute();
}

/** Ids per `in (…)` of listForDecisions: well under SQLite's and PostgreSQL's bound-parameter limits. */
const idChunk = 500;

/** Creates the feedback repository of a store. */
export function createFeedbackRepository(ctx: RepositoryContext): FeedbackRepository {
  return {
    append(feedback, audit) {
      try {
        const row = encodeFeedback(feedback);
        return ctx.commit.append({ table: 'feedback', row, leaf: feedbackLeaf(row), ...(audit === undefined ? {} : { audit: auditWrite(audit) }) });
      } catch (error) {
        return Promise.reject(error);
      }
    },

    listForDecision: (decisionId) =>
      ctx.read(async (db) => {
        const rows = await db
          .selectFrom('feedback')
          .selectAll()
          .where('decision_id', '=', decisionId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(decodeFeedback);
      }),

    // One query per chunk instead of one per decision: an export of 10k decisions reads its labels in 20.
    listForDecisions: (decisionIds) =>
      ctx.read(async (db) => {
        const unique = [...new Set(decisionIds)];
        const rows: StoredFeedback[] = [];
        for (let i = 0; i < unique.length; i += idChunk) {
          const chunk = unique.slice(i, i + idChunk);
          const found = await db.selectFrom('feedback').selectAll().where('decision_id', 'in', chunk).orderBy('created_at').orderBy('id').execute();
          rows.push(...found.map(decodeFeedback));
        }
        // Chunks are each in order; the whole answer is too.
        return unique.length <= idChunk ? rows : rows.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),

    // An inner join: feedback that arrived before its decision (another replica) shows up once the
    // decision does, which is what accuracy needs (a label without a prediction measures nothing).
    list: (options: PageOptions) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db
          .selectFrom('feedback as f')
          .innerJoin('decisions as d', 'd.id', 'f.decision_id')
          .selectAll('f')
          .select('d.service')
          .orderBy('f.created_at')
          .orderBy('f.id')
          .limit(limit);
        if (options.service !== undefined) query = query.where('d.service', '=', options.service);
        if (options.since !== undefined) query = query.where('f.created_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('f.created_at', '<', options.until);
        if (options.after !== undefined) {
          const after = options.after;
          const cursor = await db.selectFrom('feedback').select('created_at').where('id', '=', after).executeTakeFirst();
          if (cursor === undefined) throw new BallastError('REQUEST_INVALID', { detail: `unknown cursor '${after}'` });
          query = query.where((eb) =>
            eb.or([
              eb('f.created_at', '>', cursor.created_at),
              eb.and([eb('f.created_at', '=', cursor.created_at), eb('f.id', '>', after)]),
            ]),
          );
        }
        return (await query.execute()).map(({ service, ...row }) => ({ ...decodeFeedback(row), service }));
      }),
  };
}
