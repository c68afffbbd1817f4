// Shadow decisions: what a shadowed candidate answered for a copy of a request. They are never
// answered to anyone and have no leaf in the audit log; they go through the decision log's group commit
// so that the writer's thread, not the event loop, waits for the fsync. A crash may lose the shadow
// runner's last unwritten batch, never an acknowledged decision.
import { pageSize, type RepositoryContext } from './repository-context.js';
import type { ShadowDecisionsTable } from './schema.js';

export interface StoredShadowDecision {
  readonly id: string;
  /** The served decision this was a copy of. */
  readonly decisionId: string;
  readonly service: string;
  readonly version: string;
  readonly rolloutId: string;
  readonly revision: number;
  readonly createdAt: string;
  readonly output: unknown;
  readonly confidence: number | null;
  /** The failure's code when the candidate failed (its output is then null). */
  readonly errorCode: string | null;
  readonly latencyMs: number;
}

export interface ShadowRepository {
  appendMany(rows: readonly StoredShadowDecision[]): Promise<void>;
  /** A rollout's shadow decisions in a time window, oldest first, a page at a time (by id). */
  list(options: { readonly rolloutId: string; readonly since?: string; readonly until?: string; readonly after?: string; readonly limit: number }): Promise<StoredShadowDecision[]>;
  /**
   * A rollout's shadow answers by `version` created in [since, until) whose served decision, of `service`, was
   * created in the same window: the pairs the rollout's analysis compares.
   */
  countPaired(options: { readonly rolloutId: string; readonly service: string; readonly version: string; readonly since: string; readonly until?: string }): Promise<number>;
}

const decode = (row: ShadowDecisionsTable): StoredShadowDecision => ({
  id: row.id,
  decisionId: row.decision_id,
  service: row.service,
  version: row.version,
  rolloutId: row.rollout_id,
  revision: Number(row.revision),
  createdAt: row.created_at,
  output: row.output === null ? null : (JSON.parse(row.output) as unknown),
  confidence: row.confidence,
  errorCode: row.error_code,
  latencyMs: row.latency_ms,
});

export function createShadowRepository(ctx: RepositoryContext): ShadowRepository {
  return {
    // Through group commit, like decisions: the writer (SQLite's own thread) pays the fsync, not the event loop
    // that answers requests. Appended whole; each row resolves with its batch.
    appendMany: async (rows) => {
      await Promise.all(
        rows.map((r) =>
          ctx.commit.append({
            table: 'shadow_decisions',
            row: {
              id: r.id,
              decision_id: r.decisionId,
              service: r.service,
              version: r.version,
              rollout_id: r.rolloutId,
              revision: r.revision,
              created_at: r.createdAt,
              output: r.output === undefined || r.output === null ? null : JSON.stringify(r.output),
              confidence: r.confidence,
              error_code: r.errorCode,
              latency_ms: r.latencyMs,
            },
          }),
        ),
      );
    },
    list: (options) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('shadow_decisions').selectAll().where('rollout_id', '=', options.rolloutId);
        if (options.since !== undefined) query = query.where('created_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('created_at', '<', options.until);
        if (options.after !== undefined) query = query.where('id', '>', options.after);
        const rows = await query.orderBy('id').limit(pageSize(options.limit)).execute();
        return rows.map(decode);
      }),
    countPaired: (options) =>
      ctx.read(async (db) => {
        let query = db
          .selectFrom('shadow_decisions as s')
          .innerJoin('decisions as d', 'd.id', 's.decision_id')
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .where('s.rollout_id', '=', options.rolloutId)
          .where('s.version', '=', options.version)
          .where('s.created_at', '>=', options.since)
          .where('d.service', '=', options.service)
          .where('d.created_at', '>=', options.since);
        if (options.until !== undefined) query = query.where('s.created_at', '<', options.until).where('d.created_at', '<', options.until);
        const row = await query.executeTakeFirst();
        // count(*) is a number in SQLite and a bigint-as-string in PostgreSQL.
        return Number(row?.n ?? 0);
      }),
  };
}
