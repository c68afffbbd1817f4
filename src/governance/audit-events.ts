// Building audit events: digests of the full state before and after, bodies with secrets left out.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/index.js';
import { newId, type Actor, type StoredAuditEvent } from '../store/index.js';

/** What an audit event records; the builder adds id, time and digests. */
export interface AuditEventInput {
  readonly actor: Actor;
  readonly action: string;
  readonly resource: { readonly kind: string; readonly id: string };
  readonly service?: string | null;
  /** The full state before / after (digested as canonical JSON). */
  readonly before?: unknown;
  readonly after?: unknown;
  /** Leaves secrets and pii out of a state before it is stored as the event's body (default: as is). */
  readonly redact?: (state: unknown) => unknown;
  readonly requestId?: string | null;
  readonly detail?: string | null;
  readonly at?: string;
}

/** SHA-256 hex of a value's canonical JSON. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/** An audit event ready to append. */
export function auditEvent(input: AuditEventInput): StoredAuditEvent {
  const redact = input.redact ?? ((state: unknown) => state);
  const has = (v: unknown) => v !== undefined && v !== null;
  return {
    id: newId('aud'),
    at: input.at ?? new Date().toISOString(),
    actor: input.actor,
    action: input.action,
    resource: input.resource,
    service: input.service ?? null,
    beforeDigest: has(input.before) ? digestOf(input.before) : null,
    afterDigest: has(input.after) ? digestOf(input.after) : null,
    before: has(input.before) ? redact(input.before) : null,
    after: has(input.after) ? redact(input.after) : null,
    requestId: input.requestId ?? null,
    detail: input.detail ?? null,
  };
}

/** The actor of commands run on the data directory itself (the file system is the authority). */
export function localActor(user: string): Actor {
  return { principal: `local:${user}`, keyId: null, role: 'admin' };
}
