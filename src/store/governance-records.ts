// What the store keeps for identity and audit. Audit events are append-only; a key's row changes
// only by being revoked or rotated, and each such change has its audit event in the same transaction.

export const principalKinds = ['person', 'workload'] as const;
export type PrincipalKind = (typeof principalKinds)[number];

export interface StoredPrincipal {
  readonly name: string;
  readonly kind: PrincipalKind;
  readonly email: string | null;
  readonly createdAt: string;
}

/** An API key as stored: never its secret, only the secret's SHA-256. */
export interface StoredApiKey {
  /** The key's public prefix (`bk_` + 10 characters), also the first part of the token. */
  readonly id: string;
  readonly principal: string;
  readonly role: string;
  /** null: the role holds on every service. */
  readonly service: string | null;
  /** SHA-256 hex of the token. */
  readonly secretHash: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  /** The key that replaced this one by rotation (this one then expires after a grace period). */
  readonly rotatedTo: string | null;
}

/** Who acted: a principal, through which key, in which role at that moment. */
export interface Actor {
  readonly principal: string;
  readonly keyId: string | null;
  readonly role: string | null;
}

/** One audit event: who did what to which resource, with digests of the state before and after. */
export interface StoredAuditEvent {
  /** `aud_` + 26 characters (time-ordered). */
  readonly id: string;
  readonly at: string;
  readonly actor: Actor;
  /** A dotted verb, e.g. `key.created`, `access.denied`, `feedback.received`. */
  readonly action: string;
  readonly resource: { readonly kind: string; readonly id: string };
  readonly service: string | null;
  /** SHA-256 hex of the canonical JSON of the full state before / after, or null. */
  readonly beforeDigest: string | null;
  readonly afterDigest: string | null;
  /** The state before / after with secrets and pii left out. */
  readonly before: unknown;
  readonly after: unknown;
  readonly requestId: string | null;
  readonly detail: string | null;
}

/** One leaf of the Merkle log, with its index. */
export interface StoredLeaf {
  readonly index: number;
  readonly kind: string;
  readonly refId: string;
  /** SHA-256(0x00 ‖ canonical JSON of the row), hex; the JSON itself is the row's, recomputed when needed. */
  readonly hash: string;
}

/** A signed checkpoint of the Merkle log (a C2SP checkpoint note). */
export interface StoredAuditCheckpoint {
  readonly id: string;
  readonly createdAt: string;
  readonly treeSize: number;
  /** Hex. */
  readonly rootHash: string;
  readonly note: string;
  /** The Merkle frontier at treeSize (opaque JSON to the store). */
  readonly frontier: unknown;
}
