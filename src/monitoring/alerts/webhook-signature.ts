// Webhook signatures per the Standard Webhooks specification (https://www.standardwebhooks.com/):
// `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, with the
// timestamp in unix seconds. Senders sign, receivers (and tests) verify with verifyWebhook.
//
// Secrets: `whsec_<base64>` is the specification's form, and its key is the base64-decoded bytes after
// the prefix. Any other string is used as its own UTF-8 bytes. (The specification's reference
// libraries base64-decode an unprefixed secret instead: give them `whsec_` + base64 of the same
// bytes, or use a `whsec_` secret on both sides.)
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BallastError } from '../../errors/index.js';

export const webhookSecretPrefix = 'whsec_';

/** The three headers of a signed delivery (a type, not an interface, so that it passes as a header record). */
export type WebhookSignatureHeaders = {
  readonly 'webhook-id': string;
  /** Unix seconds, as decimal text. */
  readonly 'webhook-timestamp': string;
  /** One `v1,<base64>` per secret, space-separated (several during a secret rotation). */
  readonly 'webhook-signature': string;
};

/** What is signed: the message id (stable across retries), the attempt's time and the exact body. */
export interface WebhookMessage {
  readonly id: string;
  /** Unix seconds of the attempt. */
  readonly timestamp: number;
  readonly body: string | Uint8Array;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const timestampPattern = /^\d{1,15}$/;
const signatureBytes = 32;

/** The HMAC key of a secret: the base64 bytes after `whsec_`, else the string's UTF-8 bytes; CONFIG_INVALID when empty or not base64. */
export function webhookSecretKey(secret: string): Buffer {
  if (secret.startsWith(webhookSecretPrefix)) {
    const encoded = secret.slice(webhookSecretPrefix.length);
    if (!base64Pattern.test(encoded)) {
      throw new BallastError('CONFIG_INVALID', { detail: `A webhook secret that starts with '${webhookSecretPrefix}' must be base64 after the prefix.` });
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length === 0) throw new BallastError('CONFIG_INVALID', { detail: 'A webhook secret must not be empty.' });
    return key;
  }
  if (secret.length === 0) throw new BallastError('CONFIG_INVALID', { detail: 'A webhook secret must not be empty.' });
  return Buffer.from(secret, 'utf8');
}

function checkIdAndTimestamp(id: string, timestamp: number): void {
  // The signed content is dot-delimited: an id with a dot could be read two ways.
  if (id.length === 0 || id.includes('.')) throw new BallastError('INTERNAL', { detail: `a webhook id must be non-empty and without '.', got '${id}'` });
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new BallastError('INTERNAL', { detail: `a webhook timestamp must be whole unix seconds, got ${timestamp}` });
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}

/** The `v1,<base64>` signature of a message under one secret. */
export function webhookSignature(message: WebhookMessage, secret: string): string {
  checkIdAndTimestamp(message.id, message.timestamp);
  return `v1,${hmac(webhookSecretKey(secret), message.id, String(message.timestamp), message.body).toString('base64')}`;
}

/** The headers that sign a message under one secret, or several (current first) during a rotation. */
export function signWebhook(message: WebhookMessage, secret: string | readonly string[]): WebhookSignatureHeaders {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new BallastError('CONFIG_INVALID', { detail: 'A webhook needs at least one secret.' });
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': secrets.map((s) => webhookSignature(message, s)).join(' '),
  };
}

/** Why a delivery was not accepted. */
export type WebhookRejection = 'missing_header' | 'invalid_timestamp' | 'timestamp_out_of_tolerance' | 'no_matching_signature';

/** The outcome of verifyWebhook: the message id and timestamp when valid, else the reason. */
export type WebhookVerification =
  | { readonly valid: true; readonly id: string; readonly timestamp: number }
  | { readonly valid: false; readonly reason: WebhookRejection };

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way (default 300 s, as the specification's libraries). */
  readonly toleranceSeconds?: number;
  /** The receiver's clock in milliseconds (default Date.now). */
  readonly now?: () => number;
}

/** Request headers as Node's http module gives them, a fetch `Headers`, or a plain object (names matched case-insensitively). */
export type WebhookHeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: WebhookHeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.join(' ');
  }
  return undefined;
}

/**
 * Checks a received delivery: the headers must be present, the timestamp within the tolerance of
 * now, and one `v1` signature in `webhook-signature` must match the body under one of the secrets
 * (compared in constant time). Pass the raw body exactly as received, before any JSON parsing.
 * Throws CONFIG_INVALID only for an unusable secret; every problem with the request is a result.
 */
export function verifyWebhook(
  headers: WebhookHeaderSource,
  body: string | Uint8Array,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookVerification {
  const keys = (typeof secret === 'string' ? [secret] : secret).map(webhookSecretKey);
  if (keys.length === 0) throw new BallastError('CONFIG_INVALID', { detail: 'A webhook needs at least one secret.' });
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (id === undefined || id === '' || timestampText === undefined || signatures === undefined) return { valid: false, reason: 'missing_header' };
  if (!timestampPattern.test(timestampText)) return { valid: false, reason: 'invalid_timestamp' };
  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - timestamp) > tolerance) return { valid: false, reason: 'timestamp_out_of_tolerance' };

  const expected = keys.map((key) => hmac(key, id, timestampText, body));
  const candidates = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3))
    .filter((encoded) => base64Pattern.test(encoded))
    .map((encoded) => Buffer.from(encoded, 'base64'))
    .filter((bytes) => bytes.length === signatureBytes);
  let matched = false;
  // Every pair is compared, so the time taken does not tell which one matched.
  for (const candidate of candidates) for (const digest of expected) matched = timingSafeEqual(candidate, digest) || matched;
  return matched ? { valid: true, id, timestamp } : { valid: false, reason: 'no_matching_signature' };
}
