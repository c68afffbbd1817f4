// RFC 9162 §2.1 Merkle Tree Hash, inclusion and consistency proofs over leaf hashes, and an
// append-only frontier (compact range) that keeps the root in O(log n) memory.
import { Buffer } from 'node:buffer';
import { emptyRoot, HASH_SIZE, nodeHash } from './merkle-hash.js';

/** The largest power of two strictly below n (n >= 2): where MTH splits a tree of n leaves. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The leaf hash at i, checked to be 32 bytes. */
function leafAt(leafHashes: readonly Uint8Array[], i: number): Uint8Array {
  const h = leafHashes[i];
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new TypeError(`leaf hash ${i} is not ${HASH_SIZE} bytes`);
  return h;
}

/** MTH(D[lo:hi]) for hi > lo, left to right with a stack of at most log2(n) + 1 subtree roots. */
function subtreeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const stack: Uint8Array[] = [];
  for (let i = lo; i < hi; i++) {
    let h = leafAt(leafHashes, i);
    // After c leaves the stack holds one perfect subtree per set bit of c: merge once per trailing zero.
    for (let c = i - lo + 1; c % 2 === 0; c /= 2) h = nodeHash(stack.pop()!, h);
    stack.push(h);
  }
  let root = stack.pop()!;
  while (stack.length > 0) root = nodeHash(stack.pop()!, root);
  return Buffer.from(root);
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

/** MTH(D[0:n]) of RFC 9162 §2.1.1; the empty tree's root is SHA-256(""). */
export function rootOf(leafHashes: readonly Uint8Array[]): Buffer {
  return leafHashes.length === 0 ? emptyRoot() : subtreeRoot(leafHashes, 0, leafHashes.length);
}

/** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf level first. Throws RangeError unless index < size <= leafHashes.length. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number): Buffer[] {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is not below the tree size ${size}`);
  if (size > leafHashes.length) throw new RangeError(`tree size ${size} exceeds the ${leafHashes.length} leaf hashes given`);
  leafAt(leafHashes, index);
  const topDown: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      topDown.push(subtreeRoot(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
    }
  }
  return topDown.reverse();
}

/** PROOF(from, D[0:to]) of RFC 9162 §2.1.4.1, lowest node first. Throws RangeError unless 0 < from <= to <= leafHashes.length. */
export function consistencyProof(leafHashes: readonly Uint8Array[], from: number, to: number): Buffer[] {
  checkSize(from, 'from');
  checkSize(to, 'to');
  if (from === 0) throw new RangeError('a consistency proof needs a non-empty old tree');
  if (from > to) throw new RangeError(`old tree size ${from} exceeds new tree size ${to}`);
  if (to > leafHashes.length) throw new RangeError(`tree size ${to} exceeds the ${leafHashes.length} leaf hashes given`);
  if (from === to) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step adds one sibling root; the recursion's end adds MTH(D[lo:hi]) unless b.
  const topDown: Buffer[] = [];
  let m = from;
  let lo = 0;
  let hi = to;
  let whole = true;
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      if (!whole) topDown.push(subtreeRoot(leafHashes, lo, hi));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      topDown.push(subtreeRoot(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
      m -= k;
      whole = false;
    }
  }
  return topDown.reverse();
}

/** Set bits of a safe integer. */
function popCount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}

const HEX_HASH = /^[0-9a-f]{64}$/i;

/**
 * The right edge of an append-only tree: one root per perfect subtree, largest (leftmost) first,
 * i.e. one per set bit of `size`. Enough to append and to compute the root, in O(log n) memory.
 */
export class MerkleFrontier {
  #size = 0;
  #nodes: Buffer[] = [];

  /** Leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (32 bytes). */
  append(leafHash: Uint8Array): void {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) throw new TypeError(`a leaf hash is ${HASH_SIZE} bytes`);
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('the tree is full');
    let h: Buffer = Buffer.from(leafHash);
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) h = nodeHash(this.#nodes.pop()!, h);
    this.#nodes.push(h);
    this.#size += 1;
  }

  /** MTH of every leaf appended: equals rootOf(all of them). */
  root(): Buffer {
    const last = this.#nodes.length - 1;
    if (last < 0) return emptyRoot();
    let root = this.#nodes[last]!;
    for (let i = last - 1; i >= 0; i--) root = nodeHash(this.#nodes[i]!, root);
    return Buffer.from(root);
  }

  /** The size and the subtree roots as lowercase hex, largest subtree first. */
  toJSON(): { size: number; nodes: string[] } {
    return { size: this.#size, nodes: this.#nodes.map((n) => n.toString('hex')) };
  }

  /** Rebuilds a frontier from toJSON(); throws on a bad size, node count or hex. */
  static fromJSON(json: { size: number; nodes: string[] }): MerkleFrontier {
    if (typeof json !== 'object' || json === null) throw new TypeError('a frontier is an object { size, nodes }');
    const { size, nodes } = json;
    checkSize(size, 'frontier size');
    if (!Array.isArray(nodes)) throw new TypeError('frontier nodes must be an array');
    const want = popCount(size);
    if (nodes.length !== want) throw new RangeError(`a frontier of size ${size} has ${want} nodes, got ${nodes.length}`);
    const frontier = new MerkleFrontier();
    frontier.#nodes = nodes.map((n, i) => {
      if (typeof n !== 'string' || !HEX_HASH.test(n)) throw new TypeError(`frontier node ${i} is not 64 hex digits`);
      return Buffer.from(n, 'hex');
    });
    frontier.#size = size;
    return frontier;
  }
}
