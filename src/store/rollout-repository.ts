// Rollouts: one row per rollout holding its current state, and every change of it as an event kept
// for good. A change writes the row, its events and the audit event in one transaction, and only if
// the row is still as the writer last read it (another writer or replica may have moved it).
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { RolloutEventsTable, RolloutsTable } from './schema.js';

/** The states in which a rollout claims traffic; at most one per service. */
export const activeRolloutStates = ['running', 'paused'] as const;

/** One rollout's current state. `spec` and `status` are the controller's JSON, opaque here. */
export interface StoredRollout {
  readonly id: string;
  readonly service: string;
  readonly stable: string;
  readonly candidate: string;
  readonly strategy: string;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly state: string;
  readonly step: number;
  readonly weight: number;
  readonly createdAt: string;
  /** The principal who started it. */
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly stepStartedAt: string;
  readonly endedAt: string | null;
  readonly retryOf: string | null;
  readonly status: Readonly<Record<string, unknown>>;
}

/** One change of a rollout (or a verdict of its analysis), append-only. */
export interface StoredRolloutEvent {
  readonly id: string;
  readonly rolloutId: string;
  readonly service: string;
  readonly at: string;
  readonly kind: string;
  /** The principal (`system:rollouts` for automatic changes). */
  readonly actor: string;
  readonly step: number;
  readonly weight: number;
  /** The verdict with its numbers, the reason, the state before and after. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** What a change must find in the row to apply: the state and update time its writer read. */
export interface RolloutExpectation {
  readonly state: string;
  readonly updatedAt: string;
}

export interface RolloutRepository {
  /** Inserts a new rollout with its events and audit; ROLLOUT_ACTIVE when the service already has an active one. */
  create(rollout: StoredRollout, events: readonly StoredRolloutEvent[], audit?: StoredAuditEvent): Promise<void>;
  /** Replaces the row, appends events and audit, in one transaction; ROLLOUT_STATE_INVALID when the row moved since `expect`. */
  update(rollout: StoredRollout, expect: RolloutExpectation, events: readonly StoredRolloutEvent[], audit?: StoredAuditEvent): Promise<void>;
  /** Appends events that change no state (e.g. the revision a promotion made). */
  appendEvents(events: readonly StoredRolloutEvent[]): Promise<void>;
  get(id: string): Promise<StoredRollout | undefined>;
  /** Every running or paused rollout, oldest first. */
  active(): Promise<StoredRollout[]>;
  /** A service's rollouts, newest first. */
  list(options: { readonly service: string; readonly limit: number }): Promise<StoredRollout[]>;
  /** A rollout's events, oldest first. */
  events(rolloutId: string): Promise<StoredRolloutEvent[]>;
}

const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

const decode = (row: RolloutsTable): StoredRollout => ({
  id: row.id,
  service: row.service,
  stable: row.stable,
  candidate: row.candidate,
  strategy: row.strategy,
  spec: json(row.spec),
  state: row.state,
  step: Number(row.step),
  weight: Number(row.weight),
  createdAt: row.created_at,
  createdBy: row.created_by,
  updatedAt: row.updated_at,
  stepStartedAt: row.step_started_at,
  endedAt: row.ended_at,
  retryOf: row.retry_of,
  status: json(row.status),
});

const decodeEvent = (row: RolloutEventsTable): StoredRolloutEvent => ({
  id: row.id,
  rolloutId: row.rollout_id,
  service: row.service,
  at: row.at,
  kind: row.kind,
  actor: row.actor,
  step: Number(row.step),
  weight: Number(row.weight),
  detail: json(row.detail),
});

function encode(r: StoredRollout): RolloutsTable {
  checkInstant(r.createdAt, 'createdAt');
  checkInstant(r.updatedAt, 'updatedAt');
  checkInstant(r.stepStartedAt, 'stepStartedAt');
  if (r.endedAt !== null) checkInstant(r.endedAt, 'endedAt');
  return {
    id: r.id,
    service: r.service,
    stable: r.stable,
    candidate: r.candidate,
    strategy: r.strategy,
    spec: JSON.stringify(r.spec),
    state: r.state,
    step: r.step,
    weight: r.weight,
    created_at: r.createdAt,
    created_by: r.createdBy,
    updated_at: r.updatedAt,
    step_started_at: r.stepStartedAt,
    ended_at: r.endedAt,
    retry_of: r.retryOf,
    status: JSON.stringify(r.status),
  };
}

function encodeEvent(e: StoredRolloutEvent): RolloutEventsTable {
  checkInstant(e.at, 'at');
  return { id: e.id, rollout_id: e.rolloutId, service: e.service, at: e.at, kind: e.kind, actor: e.actor, step: e.step, weight: e.weight, detail: JSON.stringify(e.detail) };
}

export function createRolloutRepository(ctx: RepositoryContext): RolloutRepository {
  const insertEvents = async (tx: Parameters<Parameters<RepositoryContext['write']>[0]>[0], events: readonly StoredRolloutEvent[]) => {
    if (events.length > 0) await tx.insertInto('rollout_events').values(events.map(encodeEvent)).execute();
  };
  return {
    create: (rollout, events, audit) =>
      ctx.write(async (tx) => {
        const row = encode(rollout);
        const busy = await tx
          .selectFrom('rollouts')
          .select(['id', 'state'])
          .where('service', '=', rollout.service)
          .where('state', 'in', [...activeRolloutStates])
          .executeTakeFirst();
        if (busy !== undefined) {
          throw new BallastError('ROLLOUT_ACTIVE', { detail: `service '${rollout.service}' already has rollout ${busy.id} (${busy.state}); pause, promote or abort it first` });
        }
        await tx.insertInto('rollouts').values(row).execute();
        await insertEvents(tx, events);
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit]);
      }),
    update: (rollout, expect, events, audit) =>
      ctx.write(async (tx) => {
        const { id, ...row } = encode(rollout);
        const result = await tx
          .updateTable('rollouts')
          .set(row)
          .where('id', '=', id)
          .where('state', '=', expect.state)
          .where('updated_at', '=', expect.updatedAt)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) {
          throw new BallastError('ROLLOUT_STATE_INVALID', { detail: `rollout ${id} changed since it was read as ${expect.state} at ${expect.updatedAt}; read its status again` });
        }
        await insertEvents(tx, events);
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit]);
      }),
    appendEvents: (events) => ctx.write((tx) => insertEvents(tx, events)),
    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decode(row);
      }),
    active: () =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('rollouts').selectAll().where('state', 'in', [...activeRolloutStates]).orderBy('created_at').orderBy('id').execute();
        return rows.map(decode);
      }),
    list: (options) =>
      ctx.read(async (db) => {
        const rows = await db
          .selectFrom('rollouts')
          .selectAll()
          .where('service', '=', options.service)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(pageSize(options.limit))
          .execute();
        return rows.map(decode);
      }),
    events: (rolloutId) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('rollout_events').selectAll().where('rollout_id', '=', rolloutId).orderBy('at').orderBy('id').execute();
        return rows.map(decodeEvent);
      }),
  };
}
