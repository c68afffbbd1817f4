// Principals and API keys over Kysely. Each change is one transaction (ctx.write) that also writes
// its audit events, so no key exists, changes or disappears without its record.
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredApiKey, StoredAuditEvent, StoredPrincipal, PrincipalKind } from './governance-records.js';
import type { RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { ApiKeysTable, PrincipalsTable } from './schema.js';

/** What a key change writes: the key after the change, a key it adds (rotation), and the events. */
export interface KeyChange {
  readonly after: StoredApiKey;
  readonly added?: StoredApiKey;
  readonly events: readonly StoredAuditEvent[];
}

export interface IdentityRepository {
  getPrincipal(name: string): Promise<StoredPrincipal | undefined>;
  listPrincipals(): Promise<StoredPrincipal[]>;
  getKey(id: string): Promise<StoredApiKey | undefined>;
  /** Keys, oldest first; only the principal's when given. */
  listKeys(options?: { readonly principal?: string }): Promise<StoredApiKey[]>;
  countKeys(): Promise<number>;
  /**
   * Adds a key (and its principal when new) with the audit events `events` makes, in one
   * transaction; `events` learns whether the principal was created.
   */
  createKey(principal: StoredPrincipal, key: StoredApiKey, events: (principalCreated: boolean) => readonly StoredAuditEvent[]): Promise<{ readonly principalCreated: boolean }>;
  /** Reads a key and changes it as `change` says, in one transaction with the change's audit events. */
  updateKey(id: string, change: (before: StoredApiKey) => KeyChange): Promise<KeyChange & { readonly before: StoredApiKey }>;
}

const decodePrincipal = (row: PrincipalsTable): StoredPrincipal => ({ name: row.name, kind: row.kind as PrincipalKind, email: row.email, createdAt: row.created_at });

const decodeKey = (row: ApiKeysTable): StoredApiKey => ({
  id: row.id,
  principal: row.principal,
  role: row.role,
  service: row.service,
  secretHash: row.secret_hash,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  rotatedTo: row.rotated_to,
});

function encodeKey(k: StoredApiKey): ApiKeysTable {
  checkInstant(k.createdAt, 'createdAt');
  if (k.expiresAt !== null) checkInstant(k.expiresAt, 'expiresAt');
  if (k.revokedAt !== null) checkInstant(k.revokedAt, 'revokedAt');
  return {
    id: k.id,
    principal: k.principal,
    role: k.role,
    service: k.service,
    secret_hash: k.secretHash,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    rotated_to: k.rotatedTo,
  };
}

/** Creates the identity repository of a store. */
export function createIdentityRepository(ctx: RepositoryContext): IdentityRepository {
  return {
    getPrincipal: (name) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('principals').selectAll().where('name', '=', name).executeTakeFirst();
        return row === undefined ? undefined : decodePrincipal(row);
      }),

    listPrincipals: () => ctx.read(async (db) => (await db.selectFrom('principals').selectAll().orderBy('name').execute()).map(decodePrincipal)),

    getKey: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : decodeKey(row);
      }),

    listKeys: (options = {}) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id');
        if (options.principal !== undefined) query = query.where('principal', '=', options.principal);
        return (await query.execute()).map(decodeKey);
      }),

    countKeys: () => ctx.read(async (db) => Number((await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n)),

    createKey: (principal, key, events) =>
      ctx.write(async (tx) => {
        checkInstant(principal.createdAt, 'createdAt');
        const existing = await tx.selectFrom('principals').select('name').where('name', '=', principal.name).executeTakeFirst();
        if (existing === undefined) {
          await tx.insertInto('principals').values({ name: principal.name, kind: principal.kind, email: principal.email, created_at: principal.createdAt }).execute();
        }
        await tx.insertInto('api_keys').values(encodeKey(key)).execute();
        await appendAuditInTransaction(tx, events(existing === undefined));
        return { principalCreated: existing === undefined };
      }),

    updateKey: (id, change) =>
      ctx.write(async (tx) => {
        const row = await tx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
        if (row === undefined) throw new BallastError('KEY_NOT_FOUND', { detail: `no API key '${id}'` });
        const before = decodeKey(row);
        const result = change(before);
        if (result.after.id !== id) throw new BallastError('INTERNAL', { detail: 'a key change may not change the key id' });
        const { id: _id, ...rest } = encodeKey(result.after);
        await tx.updateTable('api_keys').set(rest).where('id', '=', id).execute();
        if (result.added !== undefined) await tx.insertInto('api_keys').values(encodeKey(result.added)).execute();
        await appendAuditInTransaction(tx, result.events);
        return { ...result, before };
      }),
  };
}
