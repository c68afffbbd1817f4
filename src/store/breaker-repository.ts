// The kept history of circuit breakers: each state change with the figures behind it, and for an
// operator's action the audit event in the same transaction.
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { BreakerTransitionsTable } from './schema.js';

/** One state change of one version's breaker. */
export interface StoredBreakerTransition {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  /** `errors` (calls failing or slow) or `quality` (a monitor). */
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  /** ISO 8601 UTC. */
  readonly at: string;
  readonly reason: string;
  /** The numbers behind the change: calls, failure and slow-call rates, or the monitor's values. */
  readonly figures: Readonly<Record<string, unknown>>;
  /** The principal who forced it; null when the breaker itself changed. */
  readonly actor: string | null;
}

export interface BreakerRepository {
  /** Appends a change, with its audit event in the same transaction when an operator made it. */
  append(transition: StoredBreakerTransition, audit?: StoredAuditEvent): Promise<void>;
  /** Changes, newest first, of a service (and a version when given). */
  list(options: { readonly service: string; readonly version?: string; readonly limit: number }): Promise<StoredBreakerTransition[]>;
}

const decode = (row: BreakerTransitionsTable): StoredBreakerTransition => ({
  id: row.id,
  service: row.service,
  version: row.version,
  kind: row.kind,
  from: row.from_state,
  to: row.to_state,
  at: row.at,
  reason: row.reason,
  figures: JSON.parse(row.figures) as Record<string, unknown>,
  actor: row.actor,
});

export function createBreakerRepository(ctx: RepositoryContext): BreakerRepository {
  return {
    append: (t, audit) =>
      ctx.write(async (tx) => {
        checkInstant(t.at, 'at');
        await tx
          .insertInto('breaker_transitions')
          .values({ id: t.id, service: t.service, version: t.version, kind: t.kind, from_state: t.from, to_state: t.to, at: t.at, reason: t.reason, figures: JSON.stringify(t.figures), actor: t.actor })
          .execute();
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit]);
      }),
    list: (options) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('breaker_transitions').selectAll().where('service', '=', options.service);
        if (options.version !== undefined) query = query.where('version', '=', options.version);
        const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(pageSize(options.limit)).execute();
        return rows.map(decode);
      }),
  };
}
