// Authentication on the request path: a token finds its key by its public id, the hash is compared
// in constant time, and keys are cached for a few seconds so a request costs a hash and a map look-up.
import { BallastError } from '../errors/index.js';
import type { Store, StoredApiKey } from '../store/index.js';
import { keyIdOf, tokenMatches } from './api-keys.js';
import { roleAllows, type Permission } from './roles.js';

/** Who a request acts as, once authenticated. */
export interface Principal {
  readonly principal: string;
  readonly keyId: string;
  readonly role: string;
  /** null: the role holds on every service. */
  readonly service: string | null;
}

/** Whether a principal may do `permission` (on `service`, when it concerns one). */
export function can(principal: Principal, permission: Permission, service?: string): boolean {
  return roleAllows(principal, permission, service);
}

export interface Authenticator {
  /** The principal a token stands for; AUTH_INVALID_KEY when unknown, revoked or expired. */
  authenticate(token: string): Promise<Principal>;
  /** Drops a key from the cache (after a revoke or rotation in this process). */
  invalidate(keyId: string): void;
}

export interface AuthenticatorOptions {
  /** Where keys are read (the store; in a decision worker, the primary's store by IPC). */
  readonly store: { readonly identity: Pick<Store['identity'], 'getKey'> };
  /** How long a key's state is trusted before it is read again (default 5 s): the delay a revoke made by another process takes to apply. */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
  /** Keys cached at most (default 10,000). */
  readonly maxCached?: number;
}

interface Cached {
  readonly key: StoredApiKey | undefined;
  readonly until: number;
}

const invalidKey = () => new BallastError('AUTH_INVALID_KEY', { detail: 'the API key is unknown, revoked or expired' });

/** Creates an authenticator over the store's keys. */
export function createAuthenticator({ store, cacheTtlMs = 5000, now = Date.now, maxCached = 10_000 }: AuthenticatorOptions): Authenticator {
  const cache = new Map<string, Cached>();

  const lookUp = async (id: string, at: number): Promise<StoredApiKey | undefined> => {
    const hit = cache.get(id);
    if (hit !== undefined && hit.until > at) return hit.key;
    const key = await store.identity.getKey(id);
    if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
    // Unknown ids are cached too, so guessing ids does not cost a query each.
    cache.set(id, { key, until: at + cacheTtlMs });
    return key;
  };

  return {
    async authenticate(token) {
      const id = keyIdOf(token);
      if (id === undefined) throw invalidKey();
      const at = now();
      const key = await lookUp(id, at);
      if (key === undefined || !tokenMatches(token, key.secretHash)) throw invalidKey();
      if (key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= at)) throw invalidKey();
      return { principal: key.principal, keyId: key.id, role: key.role, service: key.service };
    },
    invalidate: (id) => void cache.delete(id),
  };
}
