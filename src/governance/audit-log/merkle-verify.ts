// RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification. Nothing here throws: any malformed input
// (wrong types or lengths, indices out of range, extra or missing proof nodes) is a failed proof.
import { Buffer } from 'node:buffer';
import { emptyRoot, HASH_SIZE, nodeHash } from './merkle-hash.js';

/** No valid proof for a tree of at most 2^53 leaves is longer: bounds the work on hostile input. */
const MAX_INCLUSION_NODES = 64;
const MAX_CONSISTENCY_NODES = 128;

export interface InclusionProofArgs {
  readonly leafHash: Uint8Array;
  /** Leaf index, 0-based. */
  readonly index: number;
  /** Tree size the proof is for. */
  readonly size: number;
  /** Sibling hashes, leaf level first. */
  readonly proof: readonly Uint8Array[];
}

export interface ConsistencyProofArgs {
  readonly size1: number;
  readonly size2: number;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === HASH_SIZE;
}

function isProof(p: unknown, max: number): p is readonly Uint8Array[] {
  return Array.isArray(p) && p.length <= max && p.every(isHash);
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function inclusionRoot(args: InclusionProofArgs): Buffer | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const { leafHash, index, size, proof } = args;
  if (!isHash(leafHash) || !isSize(index) || !isSize(size) || index >= size || !isProof(proof, MAX_INCLUSION_NODES)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** The root an inclusion proof leads to, or undefined when the proof is malformed for index and size. */
export function rootFromInclusionProof(args: InclusionProofArgs): Buffer | undefined {
  try {
    return inclusionRoot(args);
  } catch {
    return undefined;
  }
}

/** Whether proof shows leafHash at index in the tree of the given size and root (RFC 9162 §2.1.3.2). */
export function verifyInclusion(args: InclusionProofArgs & { readonly root: Uint8Array }): boolean {
  try {
    const r = inclusionRoot(args);
    return r !== undefined && isHash(args.root) && equalHashes(r, args.root);
  } catch {
    return false;
  }
}

function consistency(args: ConsistencyProofArgs): boolean {
  if (typeof args !== 'object' || args === null) return false;
  const { size1, size2, root1, root2, proof } = args;
  if (!isSize(size1) || !isSize(size2) || size1 > size2 || !isHash(root1) || !isHash(root2) || !isProof(proof, MAX_CONSISTENCY_NODES)) return false;
  // The empty tree is a prefix of every tree, but only with the empty tree's root.
  if (size1 === 0) return proof.length === 0 && equalHashes(root1, emptyRoot()) && (size2 > 0 || equalHashes(root2, root1));
  if (size1 === size2) return proof.length === 0 && equalHashes(root1, root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(fr, root1) && equalHashes(sr, root2);
}

/**
 * Whether proof shows the tree (size1, root1) is a prefix of (size2, root2) (RFC 9162 §2.1.4.2).
 * Equal sizes need an empty proof and equal roots; size1 = 0 needs an empty proof and root1 = the empty root.
 */
export function verifyConsistency(args: ConsistencyProofArgs): boolean {
  try {
    return consistency(args);
  } catch {
    return false;
  }
}
