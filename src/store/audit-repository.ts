// The audit log and the Merkle log over Kysely. Events that ride the request path (feedback,
// denials) go through group commit with their leaves; privileged changes write their events in the
// same transaction as the change (appendInTransaction). Nothing here updates or deletes a row.
import type { Kysely } from 'kysely';
import { BallastError } from '../errors/index.js';
import { auditLeaf, decisionLeafData, feedbackLeafData, auditLeafData, type LeafKind } from './audit-leaf.js';
import type { AuditWrite } from './batch-writer.js';
import type { Actor, StoredAuditCheckpoint, StoredAuditEvent, StoredLeaf } from './governance-records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { AuditCheckpointsTable, AuditEventsTable, AuditLeavesTable, Database } from './schema.js';
import type { PageOptions } from './store.js';

/** A page of audit events ordered by time then id; `since`/`until` bound `at`. */
export interface AuditListOptions extends PageOptions {
  readonly action?: string;
  readonly resourceId?: string;
  readonly principal?: string;
}

/** How many rows each logged table holds: every one of them must have exactly one leaf. */
export interface LoggedRowCounts {
  readonly decision: number;
  readonly feedback: number;
  readonly audit: number;
}

export interface AuditRepository {
  /** Appends one event through group commit (for events of the request path); durable when it resolves. */
  append(event: StoredAuditEvent): Promise<void>;
  get(id: string): Promise<StoredAuditEvent | undefined>;
  list(options: AuditListOptions): Promise<StoredAuditEvent[]>;
  /** Leaves in the log (the next leaf's index). */
  leafCount(): Promise<number>;
  /** Leaves with from <= index < to, in index order, at most 1000. */
  leaves(from: number, to: number): Promise<StoredLeaf[]>;
  /** The leaf of a row (decision, feedback or audit event id). */
  leafOf(refId: string): Promise<StoredLeaf | undefined>;
  /** The leaf data each row would have now, recomputed from the rows (for verification); missing rows are absent. */
  recomputeLeafData(kind: LeafKind, ids: readonly string[]): Promise<Map<string, string>>;
  countLoggedRows(): Promise<LoggedRowCounts>;
  /** Decisions whose raw input or context was removed, and the decisions that purge and erasure events list. */
  purgeRecord(): Promise<{ readonly purged: readonly string[]; readonly listed: ReadonlySet<string>; readonly deleted: ReadonlySet<string> }>;
  putCheckpoint(checkpoint: StoredAuditCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredAuditCheckpoint | undefined>;
  /** A checkpoint of exactly this tree size (the earliest made), if there is one. */
  checkpointAt(treeSize: number): Promise<StoredAuditCheckpoint | undefined>;
  /**
   * A page of checkpoints by tree size then time, oldest first (`newestFirst`: the other way), after
   * the cursor `after` (the last one of the previous page). `withFrontier: false` leaves the compact
   * frontier out (as `null`), for reading many.
   */
  listCheckpoints(options?: { readonly limit?: number; readonly after?: { readonly treeSize: number; readonly id: string }; readonly newestFirst?: boolean; readonly withFrontier?: boolean }): Promise<StoredAuditCheckpoint[]>;
}

const text = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (value: string | null): unknown => (value === null ? null : JSON.parse(value));

/** The row of an audit event; throws INTERNAL when it cannot be stored. */
export function encodeAuditEvent(e: StoredAuditEvent): AuditEventsTable {
  checkInstant(e.at, 'at');
  return {
    id: e.id,
    at: e.at,
    actor_principal: e.actor.principal,
    actor_key: e.actor.keyId,
    actor_role: e.actor.role,
    action: e.action,
    resource_kind: e.resource.kind,
    resource_id: e.resource.id,
    service: e.service,
    before_digest: e.beforeDigest,
    after_digest: e.afterDigest,
    before_body: text(e.before),
    after_body: text(e.after),
    request_id: e.requestId,
    detail: e.detail,
  };
}

function decodeAuditEvent(row: AuditEventsTable): StoredAuditEvent {
  const actor: Actor = { principal: row.actor_principal, keyId: row.actor_key, role: row.actor_role };
  return {
    id: row.id,
    at: row.at,
    actor,
    action: row.action,
    resource: { kind: row.resource_kind, id: row.resource_id },
    service: row.service,
    beforeDigest: row.before_digest,
    afterDigest: row.after_digest,
    before: parse(row.before_body),
    after: parse(row.after_body),
    requestId: row.request_id,
    detail: row.detail,
  };
}

/** An audit event ready for group commit with the row it records. */
export function auditWrite(event: StoredAuditEvent): AuditWrite {
  const row = encodeAuditEvent(event);
  return { row, leaf: auditLeaf(row) };
}

const decodeLeaf = (row: AuditLeavesTable): StoredLeaf => ({ index: Number(row.idx), kind: row.kind, refId: row.ref_id, hash: row.hash });

const decodeCheckpoint = (row: AuditCheckpointsTable): StoredAuditCheckpoint => ({
  id: row.id,
  createdAt: row.created_at,
  treeSize: Number(row.tree_size),
  rootHash: row.root_hash,
  note: row.note,
  frontier: JSON.parse(row.frontier),
});

/**
 * Writes audit events and their leaves inside a transaction that ctx.write opened (its write lock
 * held, so the next index is ours until commit): the change and its record land together or not at all.
 */
export async function appendAuditInTransaction(tx: Kysely<Database>, events: readonly StoredAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { next } = await tx.selectFrom('audit_leaves').select((eb) => eb.fn.max('idx').as('next')).executeTakeFirstOrThrow();
  let idx = next === null || next === undefined ? 0 : Number(next) + 1;
  for (const event of events) {
    const { row, leaf } = auditWrite(event);
    await tx.insertInto('audit_events').values(row).execute();
    await tx.insertInto('audit_leaves').values({ ...leaf, idx: idx++ }).execute();
  }
}

/** Creates the audit repository of a store. */
export function createAuditRepository(ctx: RepositoryContext): AuditRepository {
  return {
    append(event) {
      try {
        const { row, leaf } = auditWrite(event);
        return ctx.commit.append({ table: 'audit_events', row, leaf });
      } catch (error) {
        return Promise.reject(error);
      }
    },

    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decodeAuditEvent(row);
      }),

    list: (options) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db.selectFrom('audit_events').selectAll().orderBy('at').orderBy('id').limit(limit);
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        if (options.since !== undefined) query = query.where('at', '>=', options.since);
        if (options.until !== undefined) query = query.where('at', '<', options.until);
        if (options.action !== undefined) query = query.where('action', '=', options.action);
        if (options.resourceId !== undefined) query = query.where('resource_id', '=', options.resourceId);
        if (options.principal !== undefined) query = query.where('actor_principal', '=', options.principal);
        if (options.after !== undefined) {
          const after = options.after;
          const cursor = await db.selectFrom('audit_events').select('at').where('id', '=', after).executeTakeFirst();
          if (cursor === undefined) throw new BallastError('REQUEST_INVALID', { detail: `unknown cursor '${after}'` });
          query = query.where((eb) => eb.or([eb('at', '>', cursor.at), eb.and([eb('at', '=', cursor.at), eb('id', '>', after)])]));
        }
        return (await query.execute()).map(decodeAuditEvent);
      }),

    leafCount: () =>
      ctx.read(async (db) => {
        const { n } = await db.selectFrom('audit_leaves').select((eb) => eb.fn.max('idx').as('n')).executeTakeFirstOrThrow();
        return n === null || n === undefined ? 0 : Number(n) + 1;
      }),

    leaves: (from, to) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('audit_leaves').selectAll().where('idx', '>=', from).where('idx', '<', to).orderBy('idx').limit(1000).execute();
        return rows.map(decodeLeaf);
      }),

    leafOf: (refId) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('audit_leaves').selectAll().where('ref_id', '=', refId).orderBy('idx').executeTakeFirst();
        return row === undefined ? undefined : decodeLeaf(row);
      }),

    recomputeLeafData: (kind, ids) =>
      ctx.read(async (db) => {
        const out = new Map<string, string>();
        if (ids.length === 0) return out;
        if (kind === 'decision') {
          for (const row of await db.selectFrom('decisions').selectAll().where('id', 'in', [...ids]).execute()) out.set(row.id, decisionLeafData(row));
        } else if (kind === 'feedback') {
          for (const row of await db.selectFrom('feedback').selectAll().where('id', 'in', [...ids]).execute()) out.set(row.id, feedbackLeafData(row));
        } else {
          for (const row of await db.selectFrom('audit_events').selectAll().where('id', 'in', [...ids]).execute()) out.set(row.id, auditLeafData(row));
        }
        return out;
      }),

    countLoggedRows: () =>
      ctx.read(async (db) => {
        const count = async (table: 'decisions' | 'feedback' | 'audit_events') =>
          Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);
        return { decision: await count('decisions'), feedback: await count('feedback'), audit: await count('audit_events') };
      }),

    purgeRecord: () =>
      ctx.read(async (db) => {
        const purged = await db
          .selectFrom('decisions')
          .select('id')
          .where((eb) => eb.or([eb('input_digest', 'is not', null), eb('context_digest', 'is not', null), eb('purged_at', 'is not', null)]))
          .execute();
        const events = await db.selectFrom('audit_events').select(['action', 'after_body']).where('action', 'in', ['retention.purged', 'subject.erased', 'retention.deleted']).execute();
        const listed = new Set<string>();
        const deleted = new Set<string>();
        for (const e of events) {
          const body = parse(e.after_body) as { decisions?: unknown; feedback?: unknown } | null;
          const into = e.action === 'retention.deleted' ? deleted : listed;
          for (const ids of [body?.decisions, body?.feedback]) if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') into.add(id);
        }
        return { purged: purged.map((r) => r.id), listed, deleted };
      }),

    putCheckpoint: (c) =>
      ctx.write(async (tx) => {
        checkInstant(c.createdAt, 'createdAt');
        await tx
          .insertInto('audit_checkpoints')
          .values({ id: c.id, created_at: c.createdAt, tree_size: c.treeSize, root_hash: c.rootHash, note: c.note, frontier: JSON.stringify(c.frontier) })
          .execute();
      }),

    latestCheckpoint: () =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('audit_checkpoints').selectAll().orderBy('tree_size', 'desc').orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
        return row === undefined ? undefined : decodeCheckpoint(row);
      }),

    checkpointAt: (treeSize) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('audit_checkpoints').selectAll().where('tree_size', '=', treeSize).orderBy('created_at').orderBy('id').executeTakeFirst();
        return row === undefined ? undefined : decodeCheckpoint(row);
      }),

    listCheckpoints: (options = {}) =>
      ctx.read(async (db) => {
        const dir = options.newestFirst === true ? 'desc' : 'asc';
        const cmp = options.newestFirst === true ? '<' : '>';
        let query = db
          .selectFrom('audit_checkpoints')
          .select(['id', 'created_at', 'tree_size', 'root_hash', 'note'])
          .$if(options.withFrontier !== false, (q) => q.select('frontier'))
          .orderBy('tree_size', dir)
          .orderBy('id', dir)
          .limit(pageSize(options.limit ?? 1000));
        const after = options.after;
        if (after !== undefined) query = query.where((eb) => eb.or([eb('tree_size', cmp, after.treeSize), eb.and([eb('tree_size', '=', after.treeSize), eb('id', cmp, after.id)])]));
        const rows = await query.execute();
        return rows.map((row) => decodeCheckpoint({ frontier: 'null', ...row } as AuditCheckpointsTable));
      }),
  };
}
