// RFC 6962 / RFC 9162 §2.1.1 hashing with SHA-256: domain-separated leaf and interior node hashes.
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';

/** Bytes in a SHA-256 hash, and so in every leaf, node and root hash. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const EMPTY_ROOT = hash('sha256', Buffer.alloc(0), 'buffer');
/** 0x01 ‖ left ‖ right for two 32-byte children; hashing is synchronous, so one buffer serves every call. */
const scratch = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

/** SHA-256(0x00 ‖ data): the hash of one log entry. */
export function leafHash(data: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return hash('sha256', scratch, 'buffer');
}

/** SHA-256 of the empty string: the root of the empty tree. */
export function emptyRoot(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}
