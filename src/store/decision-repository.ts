// The decision log over Kysely: appends through group commit, reads with portable SQL only.
import { BallastError } from '../errors/index.js';
import { decisionLeaf } from './audit-leaf.js';
import { outcomes, type Outcome } from './records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { decodeDecision, encodeDecision } from './row-codec.js';
import { encodeReviewItem } from './review-repository.js';
import type { DecisionRepository, PageOptions, TimeRangeOptions } from './store.js';

/** Creates the decision repository of a store. */
export function createDecisionRepository(ctx: RepositoryContext): DecisionRepository {
  return {
    append(decision, review) {
      try {
        const row = encodeDecision(decision);
        if (review !== undefined && (review.decisionId !== decision.id || review.service !== decision.service || decision.outcome !== 'review')) {
          throw new BallastError('INTERNAL', { detail: `review item ${review.id} does not belong to decision ${decision.id} (outcome ${decision.outcome})` });
        }
        return ctx.commit.append({ table: 'decisions', row, leaf: decisionLeaf(row), ...(review === undefined ? {} : { review: encodeReviewItem(review) }) });
      } catch (error) {
        return Promise.reject(error);
      }
    },

    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decodeDecision(row);
      }),

    list: (options: PageOptions) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db.selectFrom('decisions').selectAll().orderBy('created_at').orderBy('id').limit(limit);
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        if (options.since !== undefined) query = query.where('created_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('created_at', '<', options.until);
        if (options.after !== undefined) {
          const after = options.after;
          const cursor = await db.selectFrom('decisions').select('created_at').where('id', '=', after).executeTakeFirst();
          if (cursor === undefined) throw new BallastError('REQUEST_INVALID', { detail: `unknown cursor '${after}'` });
          // (created_at, id) > (cursor.created_at, after), spelled out: row values read poorly in Kysely.
          query = query.where((eb) =>
            eb.or([
              eb('created_at', '>', cursor.created_at),
              eb.and([eb('created_at', '=', cursor.created_at), eb('id', '>', after)]),
            ]),
          );
        }
        return (await query.execute()).map(decodeDecision);
      }),

    countByOutcome: (options: TimeRangeOptions = {}) =>
      ctx.read(async (db) => {
        let query = db
          .selectFrom('decisions')
          .select((eb) => ['outcome', eb.fn.countAll<number | string | bigint>().as('n')])
          .groupBy('outcome');
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        if (options.since !== undefined) query = query.where('created_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('created_at', '<', options.until);
        const counts = Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>;
        // count(*) is a number in SQLite and a bigint-as-string in PostgreSQL.
        for (const { outcome, n } of await query.execute()) {
          if ((outcomes as readonly string[]).includes(outcome)) counts[outcome as Outcome] = Number(n);
        }
        return counts;
      }),

    countRouted: (options) =>
      ctx.read(async (db) => {
        let query = db
          .selectFrom('decisions')
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .where('service', '=', options.service)
          .where('created_at', '>=', options.since)
          .where(ctx.jsonTextAt('explanation', ['routing', 'rollout']), '=', options.rolloutId)
          .where(ctx.jsonTextAt('explanation', ['routing', 'arm']), 'in', ['stable', 'candidate']);
        if (options.until !== undefined) query = query.where('created_at', '<', options.until);
        const row = await query.executeTakeFirst();
        return Number(row?.n ?? 0);
      }),
  };
}

