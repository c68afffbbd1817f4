// Approvals of model versions and per-service kill switches: both append-only, each row written with
// its audit event in one transaction. The checks that must not race (a principal deciding the same
// thing twice, a switch set to the state it is already in) run inside that transaction.
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { ApprovalsTable, KillSwitchesTable } from './schema.js';

export const approvalDecisions = ['approve', 'refuse'] as const;
export type ApprovalDecision = (typeof approvalDecisions)[number];

/** One principal's decision on one version, bound to its digest and the configuration revision. */
export interface StoredApproval {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly digest: string;
  readonly revision: number;
  readonly principal: string;
  readonly decision: ApprovalDecision;
  readonly reason: string;
  /** ISO 8601 UTC. */
  readonly at: string;
}

export interface ApprovalRepository {
  /**
   * Appends a decision with its audit event in one transaction; APPROVAL_NOT_ALLOWED when the principal's
   * latest decision on the same (version, digest, revision) is already this one.
   */
  append(approval: StoredApproval, audit: StoredAuditEvent): Promise<void>;
  /** Every decision on a version, oldest first (all digests and revisions). */
  list(options: { readonly service: string; readonly version: string }): Promise<StoredApproval[]>;
}

/** One change of a service's kill switch. */
export interface StoredKillSwitch {
  readonly id: string;
  readonly service: string;
  readonly engaged: boolean;
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
}

export interface KillSwitchRepository {
  /** Appends a change with its audit event in one transaction; false (nothing written) when the switch is already so. */
  append(row: StoredKillSwitch, audit: StoredAuditEvent): Promise<boolean>;
  /** The service's latest change, if it ever had one. */
  latest(service: string): Promise<StoredKillSwitch | undefined>;
  /** Every change of the service, oldest first. */
  list(service: string): Promise<StoredKillSwitch[]>;
  /** The latest change of every service that has one. */
  latestAll(): Promise<StoredKillSwitch[]>;
}

const decodeApproval = (row: ApprovalsTable): StoredApproval => ({
  id: row.id,
  service: row.service,
  version: row.version,
  digest: row.digest,
  revision: Number(row.revision),
  principal: row.principal,
  decision: row.decision === 'approve' ? 'approve' : 'refuse',
  reason: row.reason,
  at: row.at,
});

const decodeSwitch = (row: KillSwitchesTable): StoredKillSwitch => ({
  id: row.id,
  service: row.service,
  engaged: Number(row.engaged) === 1,
  at: row.at,
  actor: row.actor,
  reason: row.reason,
});

export function createApprovalRepository(ctx: RepositoryContext): ApprovalRepository {
  return {
    append: (a, audit) =>
      ctx.write(async (tx) => {
        checkInstant(a.at, 'at');
        const previous = await tx
          .selectFrom('approvals')
          .select('decision')
          .where('service', '=', a.service)
          .where('version', '=', a.version)
          .where('digest', '=', a.digest)
          .where('revision', '=', a.revision)
          .where('principal', '=', a.principal)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (previous?.decision === a.decision) {
          throw new BallastError('APPROVAL_NOT_ALLOWED', {
            detail: `${a.principal} already ${a.decision === 'approve' ? 'approved' : 'refused'} ${a.service}/${a.version} at digest ${a.digest.replace(/^sha256:/, '').slice(0, 12)} and revision ${a.revision}`,
          });
        }
        await tx
          .insertInto('approvals')
          .values({ id: a.id, service: a.service, version: a.version, digest: a.digest, revision: a.revision, principal: a.principal, decision: a.decision, reason: a.reason, at: a.at })
          .execute();
        await appendAuditInTransaction(tx, [audit]);
      }),
    list: (options) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('approvals').selectAll().where('service', '=', options.service).where('version', '=', options.version).orderBy('at', 'asc').orderBy('id', 'asc').execute();
        return rows.map(decodeApproval);
      }),
  };
}

export function createKillSwitchRepository(ctx: RepositoryContext): KillSwitchRepository {
  return {
    append: (row, audit) =>
      ctx.write(async (tx) => {
        checkInstant(row.at, 'at');
        const latest = await tx.selectFrom('kill_switches').select('engaged').where('service', '=', row.service).orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        const current = latest !== undefined && Number(latest.engaged) === 1;
        if (current === row.engaged) return false;
        await tx
          .insertInto('kill_switches')
          .values({ id: row.id, service: row.service, engaged: row.engaged ? 1 : 0, at: row.at, actor: row.actor, reason: row.reason })
          .execute();
        await appendAuditInTransaction(tx, [audit]);
        return true;
      }),
    latest: (service) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('kill_switches').selectAll().where('service', '=', service).orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        return row === undefined ? undefined : decodeSwitch(row);
      }),
    list: (service) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('kill_switches').selectAll().where('service', '=', service).orderBy('at', 'asc').orderBy('id', 'asc').execute();
        return rows.map(decodeSwitch);
      }),
    latestAll: () =>
      ctx.read(async (db) => {
        // Few services and few changes each: newest first, the first row seen per service wins.
        const rows = await db.selectFrom('kill_switches').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').execute();
        const latest = new Map<string, StoredKillSwitch>();
        for (const row of rows) if (!latest.has(row.service)) latest.set(row.service, decodeSwitch(row));
        return [...latest.values()];
      }),
  };
}
