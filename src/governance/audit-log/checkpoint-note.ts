// C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, compatible with Go's
// golang.org/x/mod/sumdb/note, and C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint).
import { Buffer } from 'node:buffer';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_SIZE } from './merkle-hash.js';

/** A value, or why there is none. */
export type Result<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A signature that verified: the key name and its 32-bit key ID. */
export interface NoteSignature {
  name: string;
  keyHash: number;
}

export interface OpenedNote {
  /** The signed text, final newline included. */
  text: string;
  /** Verified signatures, one per key. */
  signatures: NoteSignature[];
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions: string[];
}

const ALG_ED25519 = 0x01;
const ED25519_SIG_SIZE = 64;
const SIG_PREFIX = '\u2014 ';
/** As Go's note.Open: more signature lines than this make the note malformed. */
const MAX_SIGNATURES = 100;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Go's unicode.IsSpace. */
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
/** ASCII controls other than newline: never allowed in a note. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
/** A string with one of these is not valid UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HASH16 = /^[0-9a-fA-F]{8}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const isWellFormed = (s: string) => !CONTROL.test(s) && !LONE_SURROGATE.test(s);

/** Standard padded base64, canonical only (re-encodes to the same text); undefined otherwise. */
function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !BASE64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** A key name: non-empty, no Unicode space, no '+', no control character, valid UTF-8. */
function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !SPACE.test(name) && !name.includes('+') && isWellFormed(name);
}

/** Key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], big-endian. */
function keyHash(name: string, typedKey: Uint8Array): number {
  return createHash('sha256').update(name, 'utf8').update('\n').update(typedKey).digest().readUInt32BE(0);
}

function ed25519Private(seed: Uint8Array): { key: KeyObject; publicKey: Buffer } {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { key, publicKey: spki.subarray(spki.length - 32) };
}

/** Splits "<a>+<b>+<rest>" at the first two pluses (the base64 rest may hold more). */
function splitKey(s: string): [string, string, string] | undefined {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  return b < 0 ? undefined : [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

interface ParsedKey {
  name: string;
  hash: number;
  /** The type byte and 32 bytes of key material. */
  key: Buffer;
}

function parseKeyParts(s: unknown): ParsedKey | undefined {
  if (typeof s !== 'string') return undefined;
  const parts = splitKey(s);
  if (parts === undefined) return undefined;
  const [name, hash16, key64] = parts;
  const key = decodeBase64(key64);
  if (!isValidName(name) || !HASH16.test(hash16) || key === undefined || key.length !== 33 || key[0] !== ALG_ED25519) return undefined;
  return { name, hash: Number.parseInt(hash16, 16), key };
}

interface Verifier {
  name: string;
  hash: number;
  raw: Buffer;
  publicKey: KeyObject;
}

function parseVerifierKey(vkey: unknown): Verifier | undefined {
  const parsed = parseKeyParts(vkey);
  if (parsed === undefined || keyHash(parsed.name, parsed.key) !== parsed.hash) return undefined;
  const raw = parsed.key.subarray(1);
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
    return { name: parsed.name, hash: parsed.hash, raw, publicKey };
  } catch {
    return undefined;
  }
}

interface Signer {
  name: string;
  hash: number;
  key: KeyObject;
  publicKey: Buffer;
}

function parseSignerKey(skey: unknown): Signer | undefined {
  if (typeof skey !== 'string' || !skey.startsWith('PRIVATE+KEY+')) return undefined;
  const parsed = parseKeyParts(skey.slice('PRIVATE+KEY+'.length));
  if (parsed === undefined) return undefined;
  const { key, publicKey } = ed25519Private(parsed.key.subarray(1));
  // The key ID is of the public key: it checks the seed too.
  if (keyHash(parsed.name, Buffer.concat([Buffer.from([ALG_ED25519]), publicKey])) !== parsed.hash) return undefined;
  return { name: parsed.name, hash: parsed.hash, key, publicKey };
}

function verifierKeyString(name: string, hash: number, publicKey: Uint8Array): string {
  return `${name}+${hex8(hash)}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64')}`;
}

/** A new Ed25519 key pair for the key name; throws TypeError on an invalid name. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidName(name)) throw new TypeError('a key name is non-empty, without spaces, "+" or control characters');
  const seed = randomBytes(32);
  const { publicKey } = ed25519Private(seed);
  const hash = keyHash(name, Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]));
  const signerKey = `PRIVATE+KEY+${name}+${hex8(hash)}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`;
  return { signerKey, verifierKey: verifierKeyString(name, hash, publicKey) };
}

/** The verifier key of a signer key; throws TypeError on a malformed signer key. */
export function verifierKeyOf(signerKey: string): string {
  const signer = parseSignerKey(signerKey);
  if (signer === undefined) throw new TypeError('malformed signer key');
  return verifierKeyString(signer.name, signer.hash, signer.publicKey);
}

/**
 * Signs text (lines each ending in a newline; valid UTF-8 without control characters) and returns
 * the note: text, a blank line, and one "— <name> <base64(key ID ‖ signature)>" line.
 * Throws TypeError on invalid text or signer key.
 */
export function signNote(text: string, signerKey: string): string {
  if (typeof text !== 'string' || !text.endsWith('\n') || !isWellFormed(text)) throw new TypeError('malformed note text: it must end with a newline and hold no control characters');
  const signer = parseSignerKey(signerKey);
  if (signer === undefined) throw new TypeError('malformed signer key');
  const id = Buffer.alloc(4);
  id.writeUInt32BE(signer.hash);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.key);
  return `${text}\n${SIG_PREFIX}${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

function open(note: unknown, verifierKeys: unknown): Result<OpenedNote> {
  if (typeof note !== 'string') return fail('malformed note: not a string');
  if (!Array.isArray(verifierKeys)) return fail('the verifier keys are not a list');
  const known = new Map<string, Verifier[]>();
  for (const vkey of verifierKeys) {
    const v = parseVerifierKey(vkey);
    if (v === undefined) return fail('malformed verifier key');
    const id = `${v.name}+${hex8(v.hash)}`;
    const same = known.get(id) ?? [];
    if (!same.some((w) => w.raw.equals(v.raw))) same.push(v);
    known.set(id, same);
  }
  if (!isWellFormed(note)) return fail('malformed note: control character or invalid UTF-8');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return fail('malformed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) return fail('malformed note: the signatures do not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return fail(`malformed note: more than ${MAX_SIGNATURES} signatures`);
  const message = Buffer.from(text, 'utf8');
  const verified = new Map<string, NoteSignature>();
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) return fail('malformed note: a signature line does not start with an em dash and a space');
    const body = line.slice(SIG_PREFIX.length);
    const space = body.indexOf(' ');
    const name = space < 0 ? body : body.slice(0, space);
    const b64 = space < 0 ? '' : body.slice(space + 1);
    const raw = decodeBase64(b64);
    if (!isValidName(name) || raw === undefined || raw.length < 5) return fail('malformed note: bad signature line');
    const hash = raw.readUInt32BE(0);
    const id = `${name}+${hex8(hash)}`;
    const candidates = known.get(id);
    if (candidates === undefined) continue; // An unknown key: ignored, as the spec requires.
    if (candidates.length > 1) return fail(`ambiguous key ${id}`);
    const signature = raw.subarray(4);
    if (signature.length !== ED25519_SIG_SIZE || !verify(null, message, candidates[0]!.publicKey, signature)) return fail(`invalid signature for key ${id}`);
    verified.set(id, { name, keyHash: hash });
  }
  if (verified.size === 0) return fail('note has no verifiable signatures');
  return { ok: true, value: { text, signatures: [...verified.values()] } };
}

/**
 * Parses a signed note and checks its signatures against the verifier keys. Ok when at least one
 * signature is by a known key and every signature by a known key verifies; signatures by unknown
 * keys are ignored. Never throws.
 */
export function openNote(note: string, verifierKeys: readonly string[]): Result<OpenedNote> {
  try {
    return open(note, verifierKeys);
  } catch {
    return fail('malformed note');
  }
}

/** A checkpoint line: non-empty, one line, no control characters, valid UTF-8. */
const isLine = (s: unknown): s is string => typeof s === 'string' && s !== '' && !s.includes('\n') && isWellFormed(s);

/** The checkpoint note text: origin, decimal size, base64 root hash, extension lines; each ends in a newline. Throws on invalid fields. */
export function formatCheckpoint(c: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] }): string {
  if (!isLine(c.origin)) throw new TypeError('a checkpoint origin is one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError(`a tree size is a non-negative integer, got ${c.size}`);
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== HASH_SIZE) throw new TypeError(`a root hash is ${HASH_SIZE} bytes`);
  const extensions = c.extensions ?? [];
  if (!extensions.every(isLine)) throw new TypeError('checkpoint extension lines are non-empty single lines');
  const root = Buffer.from(c.rootHash.buffer, c.rootHash.byteOffset, c.rootHash.byteLength).toString('base64');
  return `${c.origin}\n${c.size}\n${root}\n${extensions.map((e) => `${e}\n`).join('')}`;
}

/** Parses checkpoint note text strictly: three or more non-empty lines, canonical decimal size, 32-byte base64 root, final newline. Never throws. */
export function parseCheckpoint(text: string): Result<Checkpoint> {
  if (typeof text !== 'string' || !text.endsWith('\n')) return fail('a checkpoint ends with a newline');
  if (!isWellFormed(text)) return fail('a checkpoint has no control characters and is valid UTF-8');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return fail('a checkpoint has at least three lines');
  if (lines.includes('')) return fail('a checkpoint has no empty lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (!DECIMAL.test(sizeLine)) return fail('the tree size is not a decimal number without leading zeros');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) return fail('the tree size is too large');
  const rootHash = decodeBase64(rootLine);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) return fail(`the root hash is not ${HASH_SIZE} bytes of base64`);
  return { ok: true, value: { origin, size, rootHash, extensions } };
}
