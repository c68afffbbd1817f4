// Fixture loading and a reference RFC 9162 implementation written straight from the RFC's
// recursive definitions (array slices, its own SHA-256), to check the efficient one against.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Parses test/fixtures/audit-log/<name>. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/audit-log/${name}`, import.meta.url), 'utf8')) as T;
}

export const hex = (s: string) => Buffer.from(s, 'hex');
export const b64 = (s: string) => Buffer.from(s, 'base64');

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
export const refLeafHash = (data: Uint8Array) => sha256(Buffer.from([0]), data);
const refNode = (l: Uint8Array, r: Uint8Array) => sha256(Buffer.from([1]), l, r);

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH(D[n]), RFC 9162 §2.1.1. */
export function refMth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha256();
  if (d.length === 1) return d[0]!;
  const s = k(d.length);
  return refNode(refMth(d.slice(0, s)), refMth(d.slice(s)));
}

/** PATH(m, D[n]), RFC 9162 §2.1.3.1. */
export function refPath(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...refPath(m, d.slice(0, s)), refMth(d.slice(s))] : [...refPath(m - s, d.slice(s)), refMth(d.slice(0, s))];
}

/** Which side each PATH(m, D[n]) sibling is on, leaf level first: the only thing index and size decide. */
export function refShape(m: number, n: number): string {
  if (n <= 1) return '';
  const s = k(n);
  return m < s ? `${refShape(m, s)}R` : `${refShape(m - s, n - s)}L`;
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), RFC 9162 §2.1.4.1. */
export function refProof(m: number, d: readonly Buffer[]): Buffer[] {
  const sub = (m: number, d: readonly Buffer[], b: boolean): Buffer[] => {
    if (m === d.length) return b ? [] : [refMth(d)];
    const s = k(d.length);
    return m <= s ? [...sub(m, d.slice(0, s), b), refMth(d.slice(s))] : [...sub(m - s, d.slice(s), false), refMth(d.slice(0, s))];
  };
  return sub(m, d, true);
}

/** n distinct leaf hashes derived from a seed. */
export function leavesFrom(seed: number, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => refLeafHash(Buffer.from(`${seed}:${i}`)));
}

/** Every proof one edit away: each byte of each node flipped, each node removed, a node inserted anywhere, each pair swapped. */
export function* proofMutations(proof: readonly Buffer[], extra: Buffer): Generator<{ desc: string; proof: Buffer[] }> {
  for (let i = 0; i < proof.length; i++) {
    for (let j = 0; j < proof[i]!.length; j++) {
      const copy = proof.map((p) => Buffer.from(p));
      copy[i]![j]! ^= 0x01;
      yield { desc: `node ${i} byte ${j} flipped`, proof: copy };
    }
    yield { desc: `node ${i} removed`, proof: proof.filter((_, x) => x !== i) };
    yield { desc: `node ${i} truncated`, proof: proof.map((p, x) => (x === i ? p.subarray(0, 31) : p)) };
    yield { desc: `node ${i} extended`, proof: proof.map((p, x) => (x === i ? Buffer.concat([p, Buffer.from([0])]) : p)) };
    for (let j = i + 1; j < proof.length; j++) {
      if (proof[i]!.equals(proof[j]!)) continue;
      const copy = [...proof];
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      yield { desc: `nodes ${i} and ${j} swapped`, proof: copy };
    }
  }
  for (let i = 0; i <= proof.length; i++) {
    yield { desc: `node inserted at ${i}`, proof: [...proof.slice(0, i), extra, ...proof.slice(i)] };
    if (proof.length > 0) yield { desc: `node ${Math.min(i, proof.length - 1)} duplicated at ${i}`, proof: [...proof.slice(0, i), proof[Math.min(i, proof.length - 1)]!, ...proof.slice(i)] };
  }
  yield { desc: 'empty hash appended', proof: [...proof, Buffer.alloc(0)] };
}
