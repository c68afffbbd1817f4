// API key tokens: `bk_<id>_<secret>`. The id (10 characters) is public and finds the key; the secret
// (32 random bytes) is shown once. Only SHA-256 of the whole token is stored: the secret has 256
// bits of entropy, so a slow password hash would add cost and no protection.
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

const idAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const tokenPattern = /^bk_([0-9a-hjkmnp-tv-z]{10})_([A-Za-z0-9_-]{43})$/;

/** A new key's token (shown once) and what is stored of it. */
export interface NewApiKeySecret {
  readonly id: string;
  readonly token: string;
  readonly secretHash: string;
}

/** SHA-256 hex of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Makes a fresh key: a random public id and a random secret. */
export function generateApiKey(): NewApiKeySecret {
  const idBytes = randomBytes(10);
  const id = `bk_${[...idBytes].map((b) => idAlphabet[b & 31]).join('')}`;
  const token = `${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, secretHash: hashToken(token) };
}

/** The key id a token names, or undefined when the text is not shaped like a token. */
export function keyIdOf(token: string): string | undefined {
  const match = tokenPattern.exec(token);
  return match === null ? undefined : `bk_${match[1]}`;
}

/** Whether `token` hashes to `secretHash`, compared in constant time. */
export function tokenMatches(token: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  const actual = hash('sha256', token, 'buffer');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
