// The model registry: one row per version (never updated) and the append-only log of its lifecycle
// transitions. Each write carries its audit event in the same transaction, and the checks that must
// not race (a name taken with another spec, a transition from a state that is no longer current) run
// inside it, on the single writer.
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { ModelTransitionsTable, ModelVersionsTable } from './schema.js';

/** A registered model version: immutable. */
export interface StoredModelVersion {
  readonly service: string;
  readonly name: string;
  /** `sha256:<hex>`. */
  readonly digest: string;
  /** The registered spec, every digest filled in (a plain JSON value). */
  readonly spec: unknown;
  readonly author: string;
  readonly registeredAt: string;
}

/** One lifecycle change of one version. */
export interface StoredModelTransition {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  /** null for the first transition, into `registered`. */
  readonly from: string | null;
  readonly to: string;
  /** ISO 8601 UTC. */
  readonly at: string;
  /** The principal who made it. */
  readonly actor: string;
  readonly reason: string;
  readonly rolloutId: string | null;
  readonly revision: number | null;
}

/** A version with the state of its latest transition. */
export interface StoredModelVersionWithState extends StoredModelVersion {
  readonly state: string;
  /** When it entered that state. */
  readonly since: string;
}

export interface RegistryRepository {
  /**
   * Inserts the version, its first transition and the audit event in one transaction. `exists` (nothing
   * written) when the name is registered with the same digest and spec; MODEL_VERSION_CONFLICT when
   * with another.
   */
  register(version: StoredModelVersion, transition: StoredModelTransition, audit: StoredAuditEvent): Promise<'created' | 'exists'>;
  /**
   * Appends a transition with its audit event when `from` is still the version's current state, else
   * MODEL_TRANSITION_INVALID (so of two racing transitions from one state exactly one applies);
   * VERSION_NOT_FOUND for a version never registered. Returns the transition as kept: its `at` is
   * never before the current state's, so the log's order is its time order.
   */
  transition(transition: StoredModelTransition, audit: StoredAuditEvent): Promise<StoredModelTransition>;
  get(service: string, name: string): Promise<StoredModelVersionWithState | undefined>;
  /** Versions of a service (of every service without one), by service then registration time. */
  list(service?: string): Promise<StoredModelVersionWithState[]>;
  /** Transitions of a service (of one version when given), oldest first. */
  history(service: string, name?: string): Promise<StoredModelTransition[]>;
  /** Transitions of a service made at or before `at`, oldest first. */
  transitionsUntil(service: string, at: string): Promise<StoredModelTransition[]>;
}

const decodeVersion = (row: ModelVersionsTable): StoredModelVersion => ({
  service: row.service,
  name: row.name,
  digest: row.digest,
  spec: JSON.parse(row.spec) as unknown,
  author: row.author,
  registeredAt: row.registered_at,
});

const decodeTransition = (row: ModelTransitionsTable): StoredModelTransition => ({
  id: row.id,
  service: row.service,
  version: row.version,
  from: row.from_state,
  to: row.to_state,
  at: row.at,
  actor: row.actor,
  reason: row.reason,
  rolloutId: row.rollout_id,
  revision: row.revision === null ? null : Number(row.revision),
});

const encodeTransition = (t: StoredModelTransition): ModelTransitionsTable => ({
  id: t.id,
  service: t.service,
  version: t.version,
  from_state: t.from,
  to_state: t.to,
  at: t.at,
  actor: t.actor,
  reason: t.reason,
  rollout_id: t.rolloutId,
  revision: t.revision,
});

/** JSON with object keys sorted, so two equal specs compare equal whatever their key order. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => sortedJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).filter((k) => record[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The latest transition per version, from transitions in log order. */
function latestByVersion(transitions: readonly StoredModelTransition[]): Map<string, StoredModelTransition> {
  const latest = new Map<string, StoredModelTransition>();
  for (const t of transitions) latest.set(`${t.service}\u0000${t.version}`, t);
  return latest;
}

export function createRegistryRepository(ctx: RepositoryContext): RegistryRepository {
  const withStates = (versions: readonly ModelVersionsTable[], transitions: readonly ModelTransitionsTable[]): StoredModelVersionWithState[] => {
    const latest = latestByVersion(transitions.map(decodeTransition));
    return versions.map((row) => {
      const t = latest.get(`${row.service}\u0000${row.name}`);
      return { ...decodeVersion(row), state: t?.to ?? 'registered', since: t?.at ?? row.registered_at };
    });
  };

  return {
    register: (version, transition, audit) =>
      ctx.write(async (tx) => {
        checkInstant(version.registeredAt, 'registeredAt');
        checkInstant(transition.at, 'at');
        const existing = await tx.selectFrom('model_versions').selectAll().where('service', '=', version.service).where('name', '=', version.name).executeTakeFirst();
        if (existing !== undefined) {
          if (existing.digest === version.digest && sortedJson(JSON.parse(existing.spec)) === sortedJson(version.spec)) return 'exists';
          throw new BallastError('MODEL_VERSION_CONFLICT', {
            detail: `${version.service}/${version.name} is registered with ${existing.digest === version.digest ? 'another spec under the same digest' : `digest ${existing.digest}, not ${version.digest}`}`,
          });
        }
        await tx
          .insertInto('model_versions')
          .values({ service: version.service, name: version.name, digest: version.digest, spec: JSON.stringify(version.spec), author: version.author, registered_at: version.registeredAt })
          .execute();
        await tx.insertInto('model_transitions').values(encodeTransition(transition)).execute();
        await appendAuditInTransaction(tx, [audit]);
        return 'created';
      }),

    transition: (t, audit) =>
      ctx.write(async (tx) => {
        checkInstant(t.at, 'at');
        const version = await tx.selectFrom('model_versions').select('name').where('service', '=', t.service).where('name', '=', t.version).executeTakeFirst();
        if (version === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `${t.service}/${t.version} is not registered` });
        const latest = await tx
          .selectFrom('model_transitions')
          .selectAll()
          .where('service', '=', t.service)
          .where('version', '=', t.version)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        const current = latest?.to_state ?? 'registered';
        if (current !== t.from) {
          throw new BallastError('MODEL_TRANSITION_INVALID', {
            detail: `${t.service}/${t.version} is ${current} now, not ${t.from ?? 'unregistered'}: it cannot go from ${t.from ?? 'unregistered'} to ${t.to} (another change came first)`,
          });
        }
        // A clock that stepped back must not put this change before the state it leaves.
        const kept = latest !== undefined && latest.at > t.at ? { ...t, at: latest.at } : t;
        await tx.insertInto('model_transitions').values(encodeTransition(kept)).execute();
        await appendAuditInTransaction(tx, [audit]);
        return kept;
      }),

    get: (service, name) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('model_versions').selectAll().where('service', '=', service).where('name', '=', name).executeTakeFirst();
        if (row === undefined) return undefined;
        const transitions = await db.selectFrom('model_transitions').selectAll().where('service', '=', service).where('version', '=', name).orderBy('at', 'asc').orderBy('id', 'asc').execute();
        return withStates([row], transitions)[0];
      }),

    list: (service) =>
      ctx.read(async (db) => {
        let versions = db.selectFrom('model_versions').selectAll();
        let transitions = db.selectFrom('model_transitions').selectAll();
        if (service !== undefined) {
          versions = versions.where('service', '=', service);
          transitions = transitions.where('service', '=', service);
        }
        const [vRows, tRows] = [await versions.orderBy('service', 'asc').orderBy('registered_at', 'asc').orderBy('name', 'asc').execute(), await transitions.orderBy('at', 'asc').orderBy('id', 'asc').execute()];
        return withStates(vRows, tRows);
      }),

    history: (service, name) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('model_transitions').selectAll().where('service', '=', service);
        if (name !== undefined) query = query.where('version', '=', name);
        const rows = await query.orderBy('at', 'asc').orderBy('id', 'asc').execute();
        return rows.map(decodeTransition);
      }),

    transitionsUntil: (service, at) =>
      ctx.read(async (db) => {
        checkInstant(at, 'at');
        const rows = await db.selectFrom('model_transitions').selectAll().where('service', '=', service).where('at', '<=', at).orderBy('at', 'asc').orderBy('id', 'asc').execute();
        return rows.map(decodeTransition);
      }),
  };
}
