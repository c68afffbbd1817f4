// Creating, rotating and revoking API keys, each with its audit event in the same transaction.
import { BallastError } from '../errors/index.js';
import type { Actor, PrincipalKind, Store, StoredApiKey, StoredAuditEvent } from '../store/index.js';
import { generateApiKey } from './api-keys.js';
import { auditEvent } from './audit-events.js';
import { isRole, roles, type Role } from './roles.js';

/** A key as shown to people: never its secret or hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly principal: string;
  readonly role: string;
  readonly service: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly rotatedTo: string | null;
  /** active, expired, revoked, or rotated (still valid until expiresAt). */
  readonly status: 'active' | 'expired' | 'revoked' | 'rotated';
}

export interface CreateKeyOptions {
  readonly principal: string;
  readonly role: string;
  /** Only this service; every service when absent. */
  readonly service?: string | null;
  /** Lifetime in milliseconds; no expiry when absent. */
  readonly expiresInMs?: number;
  /** For a principal that does not exist yet (default workload). */
  readonly kind?: PrincipalKind;
  readonly email?: string | null;
}

/** Who acts and in which request: every call records it. */
export interface ActionContext {
  readonly actor: Actor;
  readonly requestId?: string | null;
}

/** An email is personal data: audit bodies leave it out (the digest still covers it). */
const withoutEmail = (state: unknown): unknown => {
  if (state === null || typeof state !== 'object') return state;
  const { email: _email, ...rest } = state as Record<string, unknown>;
  return rest;
};

/** The default grace period of a rotated key: a day to roll the new key out. */
export const defaultRotationGraceMs = 24 * 3600_000;

const principalPattern = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;

/** A key as shown: the state and its status at `now`. */
export function keyView(key: StoredApiKey, now = Date.now()): ApiKeyView {
  const expired = key.expiresAt !== null && Date.parse(key.expiresAt) <= now;
  const status = key.revokedAt !== null ? 'revoked' : expired ? 'expired' : key.rotatedTo !== null ? 'rotated' : 'active';
  const { secretHash: _hash, ...rest } = key;
  return { ...rest, status };
}

// The digested state includes the hash, so the audit log commits to which secret a key had.
const redactKey = (state: unknown) => keyView(state as StoredApiKey);

function invalid(pointer: string, message: string): BallastError {
  return new BallastError('REQUEST_INVALID', { detail: message, issues: [{ pointer, code: 'invalid', message }] });
}

/** Key management over a store; every change is audited with its actor. */
export interface KeyManager {
  create(options: CreateKeyOptions, ctx: ActionContext): Promise<{ readonly key: ApiKeyView; readonly token: string; readonly principalCreated: boolean }>;
  revoke(id: string, ctx: ActionContext): Promise<ApiKeyView>;
  /** A new key with the same principal, role and scope; the old one stays valid for `graceMs`. */
  rotate(id: string, ctx: ActionContext & { readonly graceMs?: number }): Promise<{ readonly key: ApiKeyView; readonly token: string; readonly previous: ApiKeyView }>;
  list(options?: { readonly principal?: string }): Promise<ApiKeyView[]>;
  get(id: string): Promise<ApiKeyView>;
}

export interface KeyManagerOptions {
  readonly store: Store;
  /** Service names a key may be scoped to; unchecked when absent (the CLI without a config). */
  readonly services?: () => Iterable<string>;
  /** Told the id of a key whose state changed, so caches drop it. */
  readonly onChange?: (id: string) => void;
  readonly now?: () => number;
}

/** Creates the key manager. */
export function createKeyManager({ store, services, onChange, now = Date.now }: KeyManagerOptions): KeyManager {
  const iso = (ms: number) => new Date(ms).toISOString();
  const changed = (id: string) => onChange?.(id);

  return {
    async create(options, ctx) {
      if (!principalPattern.test(options.principal)) throw invalid('/principal', `principal must match ${principalPattern.source}`);
      if (!isRole(options.role)) throw invalid('/role', `role must be one of ${roles.join(', ')}`);
      const service = options.service ?? null;
      if (service !== null && services !== undefined && ![...services()].includes(service)) {
        throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
      }
      if (options.expiresInMs !== undefined && (!Number.isFinite(options.expiresInMs) || options.expiresInMs <= 0)) throw invalid('/expires', 'expires must be a positive duration');
      const at = now();
      const secret = generateApiKey();
      const key: StoredApiKey = {
        id: secret.id,
        principal: options.principal,
        role: options.role as Role,
        service,
        secretHash: secret.secretHash,
        createdAt: iso(at),
        expiresAt: options.expiresInMs === undefined ? null : iso(at + options.expiresInMs),
        revokedAt: null,
        rotatedTo: null,
      };
      const principal = { name: options.principal, kind: options.kind ?? 'workload', email: options.email ?? null, createdAt: iso(at) } as const;
      const { principalCreated } = await store.identity.createKey(principal, key, (created) => {
        const events: StoredAuditEvent[] = [];
        if (created) events.push(auditEvent({ actor: ctx.actor, action: 'principal.created', resource: { kind: 'principal', id: principal.name }, after: principal, redact: withoutEmail, requestId: ctx.requestId, at: iso(at) }));
        events.push(auditEvent({ actor: ctx.actor, action: 'key.created', resource: { kind: 'api_key', id: key.id }, service, after: key, redact: redactKey, requestId: ctx.requestId, at: iso(at) }));
        return events;
      });
      return { key: keyView(key, at), token: secret.token, principalCreated };
    },

    async revoke(id, ctx) {
      const at = iso(now());
      const { after } = await store.identity.updateKey(id, (before) => {
        if (before.revokedAt !== null) return { after: before, events: [] };
        const after = { ...before, revokedAt: at };
        return { after, events: [auditEvent({ actor: ctx.actor, action: 'key.revoked', resource: { kind: 'api_key', id }, service: before.service, before, after, redact: redactKey, requestId: ctx.requestId, at })] };
      });
      changed(id);
      return keyView(after, now());
    },

    async rotate(id, ctx) {
      const graceMs = ctx.graceMs ?? defaultRotationGraceMs;
      if (!Number.isFinite(graceMs) || graceMs < 0) throw invalid('/grace', 'grace must be a duration of 0 or more');
      const atMs = now();
      const at = iso(atMs);
      const secret = generateApiKey();
      const { after, added } = await store.identity.updateKey(id, (before) => {
        if (before.revokedAt !== null || (before.expiresAt !== null && Date.parse(before.expiresAt) <= atMs)) {
          throw new BallastError('REQUEST_INVALID', { detail: `key ${id} is revoked or expired; create a new one instead`, issues: [{ pointer: '/id', code: 'inactive', message: 'only an active key can be rotated' }] });
        }
        const graceEnd = atMs + graceMs;
        const expiresAt = before.expiresAt !== null && Date.parse(before.expiresAt) < graceEnd ? before.expiresAt : iso(graceEnd);
        const after = { ...before, expiresAt, rotatedTo: secret.id };
        // The new key keeps the old one's lifetime, counted from now.
        const lifetime = before.expiresAt === null ? null : Date.parse(before.expiresAt) - Date.parse(before.createdAt);
        const added: StoredApiKey = { ...before, id: secret.id, secretHash: secret.secretHash, createdAt: at, expiresAt: lifetime === null ? null : iso(atMs + lifetime), revokedAt: null, rotatedTo: null };
        return {
          after,
          added,
          events: [
            auditEvent({ actor: ctx.actor, action: 'key.rotated', resource: { kind: 'api_key', id }, service: before.service, before, after, redact: redactKey, requestId: ctx.requestId, detail: `replaced by ${secret.id}; valid until ${expiresAt}`, at }),
            auditEvent({ actor: ctx.actor, action: 'key.created', resource: { kind: 'api_key', id: secret.id }, service: before.service, after: added, redact: redactKey, requestId: ctx.requestId, detail: `rotation of ${id}`, at }),
          ],
        };
      });
      changed(id);
      return { key: keyView(added!, atMs), token: secret.token, previous: keyView(after, atMs) };
    },

    async list(options) {
      const at = now();
      return (await store.identity.listKeys(options)).map((k) => keyView(k, at));
    },

    async get(id) {
      const key = await store.identity.getKey(id);
      if (key === undefined) throw new BallastError('KEY_NOT_FOUND', { detail: `no API key '${id}'` });
      return keyView(key, now());
    },
  };
}
