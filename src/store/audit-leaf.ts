// The leaves of the Merkle log: what each appended row commits to, as canonical JSON, and its
// RFC 6962 leaf hash. Written with the row in the same transaction; `ballast audit verify`
// recomputes them from the rows with these same functions, so an edited row no longer matches.
import { hash } from 'node:crypto';
import type { AuditEventsTable, DecisionsTable, FeedbackTable } from './schema.js';

export const leafKinds = ['decision', 'feedback', 'audit'] as const;
export type LeafKind = (typeof leafKinds)[number];

/** A leaf waiting for its index, which the writer assigns inside the transaction. Only its hash is stored: its data is the row's, recomputed. */
export interface LeafWrite {
  readonly kind: LeafKind;
  readonly ref_id: string;
  readonly hash: string;
}

// crypto.hash (one call, no Hash object) is about twice as fast as createHash for these sizes,
// and this runs once per decision on the request path.

/** SHA-256(0x00 ‖ data), hex: RFC 6962's leaf hash of the leaf's canonical JSON (U+0000 is the byte 0x00 in UTF-8). */
export function leafHashHex(data: string): string {
  return hash('sha256', `\u0000${data}`, 'hex');
}

/** SHA-256 hex of a text column (JSON text as stored, byte for byte), or null for SQL NULL. */
export function textDigest(text: string | null): string | null {
  return text === null ? null : hash('sha256', text, 'hex');
}

// Values are only strings, numbers and nulls, and keys are written in sorted order, so
// JSON.stringify gives RFC 8785 canonical JSON here without a general canonicalizer.

/**
 * A decision commits to its metadata and to digests of its JSON columns; raw input and context
 * enter only as digests, so a retention purge of the raw values leaves the log verifiable.
 */
export function decisionLeafData(row: DecisionsTable): string {
  return JSON.stringify({
    confidence: row.confidence,
    // A purged row keeps the digests of what was removed, so its leaf is unchanged.
    context: row.context === null && row.context_digest != null ? row.context_digest : textDigest(row.context),
    created_at: row.created_at,
    explanation: textDigest(row.explanation),
    id: row.id,
    input: row.input === null && row.input_digest != null ? row.input_digest : textDigest(row.input),
    outcome: row.outcome,
    output: textDigest(row.output),
    service: row.service,
    subject_hash: row.subject_hash,
    timings: textDigest(row.timings),
    type: 'decision',
    version: row.version,
  });
}

/** A feedback row commits to its fields, its value and note as digests. */
export function feedbackLeafData(row: FeedbackTable): string {
  return JSON.stringify({
    created_at: row.created_at,
    decision_id: row.decision_id,
    id: row.id,
    kind: row.kind,
    note: textDigest(row.note),
    source: row.source,
    supersedes: row.supersedes,
    type: 'feedback',
    value: textDigest(row.value),
  });
}

/** An audit event commits to every column. */
export function auditLeafData(row: AuditEventsTable): string {
  return JSON.stringify({
    action: row.action,
    actor_key: row.actor_key,
    actor_principal: row.actor_principal,
    actor_role: row.actor_role,
    after_body: row.after_body,
    after_digest: row.after_digest,
    at: row.at,
    before_body: row.before_body,
    before_digest: row.before_digest,
    detail: row.detail,
    id: row.id,
    request_id: row.request_id,
    resource_id: row.resource_id,
    resource_kind: row.resource_kind,
    service: row.service,
    type: 'audit',
  });
}

function leafOf(kind: LeafKind, id: string, data: string): LeafWrite {
  return { kind, ref_id: id, hash: leafHashHex(data) };
}

export const decisionLeaf = (row: DecisionsTable): LeafWrite => leafOf('decision', row.id, decisionLeafData(row));
export const feedbackLeaf = (row: FeedbackTable): LeafWrite => leafOf('feedback', row.id, feedbackLeafData(row));
export const auditLeaf = (row: AuditEventsTable): LeafWrite => leafOf('audit', row.id, auditLeafData(row));
