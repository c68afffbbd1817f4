// Replaces pii fields before anything is stored or logged. Hashing is keyed (HMAC) so that equal
// values still join and count, while a dictionary attack needs the key.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { FieldAnnotation, RedactMode } from './contract-config.js';

/** What a `mask` redaction leaves, whatever the value's type. */
export const maskedValue = '***';

/** Prefix of hashed values, naming the algorithm so that a later change stays recognisable. */
export const hashPrefix = 'hmac-sha256:';

/** A key for `hashValue`, prepared once. */
export function createRedactionKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** `hmac-sha256:` + hex HMAC-SHA256 of the value's canonical JSON. */
export function hashValue(value: unknown, key: KeyObject): string {
  return hashPrefix + createHmac('sha256', key).update(canonicalJson(value)).digest('hex');
}

/** The pii fields of an annotation map with their redaction, `hash` when not given. */
export function redactionsOf(fields: ReadonlyMap<string, FieldAnnotation>): ReadonlyMap<string, RedactMode> {
  const redactions = new Map<string, RedactMode>();
  for (const [name, annotation] of fields) if (annotation.pii === true) redactions.set(name, annotation.redact ?? 'hash');
  return redactions;
}

/** A shallow copy of `record` with each pii field hashed, masked or dropped; `record` is not touched. */
export function redactRecord(record: Readonly<Record<string, unknown>>, redactions: ReadonlyMap<string, RedactMode>, key: KeyObject): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const [name, mode] of redactions) {
    if (!Object.hasOwn(copy, name)) continue;
    if (mode === 'drop') delete copy[name];
    else copy[name] = mode === 'mask' ? maskedValue : hashValue(copy[name], key);
  }
  return copy;
}

/** Shorter strings are not scrubbed from free text: they would erase ordinary words and digits. */
const minScrubLength = 3;

/**
 * The text forms a pii field's value may take inside an upstream's message: each string or number
 * under the field, as written and JSON-escaped.
 */
export function piiStringsOf(record: Readonly<Record<string, unknown>>, redactions: ReadonlyMap<string, RedactMode>): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, depth: number) => {
    if (depth > 32) return;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      const text = String(value);
      if (text.length < minScrubLength) return;
      // As written, JSON-escaped, and with its whitespace collapsed (as excerpts of upstream errors are).
      for (const form of [text, JSON.stringify(text).slice(1, -1), text.replace(/\s+/g, ' ').trim()]) if (form.length >= minScrubLength) found.add(form);
    } else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) visit(item, depth + 1);
  };
  for (const name of redactions.keys()) if (Object.hasOwn(record, name)) visit(record[name], 0);
  return [...found];
}
