import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { emptyRoot, leafHash } from '../../src/governance/audit-log/merkle-hash.js';
import { consistencyProof, inclusionProof, rootOf } from '../../src/governance/audit-log/merkle-tree.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../src/governance/audit-log/merkle-verify.js';
import { b64, fixture, hex, proofMutations, refShape } from './helpers.js';

const tree = fixture<{ leafInputs: string[]; rootHashes: string[] }>('rfc6962-tree.json');
const probes = fixture<{
  inclusion: { probe: { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; wantErr: boolean } }[];
  consistency: { probe: { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; wantErr: boolean } }[];
}>('transparency-dev-merkle-probes.json');
const leaves = tree.leafInputs.map((d) => leafHash(hex(d)));
const roots = tree.rootHashes.map(hex);
const extra = leafHash(Buffer.from('not in the tree'));

interface InclusionCase {
  index: number;
  size: number;
  proof: Buffer[];
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  proof: Buffer[];
}

// Every proof over the published tree: the probes' accepted proofs plus every (index, size) and (size1, size2) the generator makes.
const inclusionCases: InclusionCase[] = [
  ...probes.inclusion.filter(({ probe }) => !probe.wantErr && probe.treeSize <= 8 && b64(probe.root).equals(roots[probe.treeSize]!)).map(({ probe }) => ({ index: probe.leafIdx, size: probe.treeSize, proof: (probe.proof ?? []).map(b64) })),
];
for (let size = 1; size <= 8; size++) for (let index = 0; index < size; index++) inclusionCases.push({ index, size, proof: inclusionProof(leaves, index, size) });
const consistencyCases: ConsistencyCase[] = [
  ...probes.consistency.filter(({ probe }) => !probe.wantErr && probe.size2 <= 8 && b64(probe.root2).equals(roots[probe.size2]!)).map(({ probe }) => ({ size1: probe.size1, size2: probe.size2, proof: (probe.proof ?? []).map(b64) })),
];
for (let size2 = 1; size2 <= 8; size2++) for (let size1 = 1; size1 <= size2; size1++) consistencyCases.push({ size1, size2, proof: consistencyProof(leaves, size1, size2) });

const inc = (c: InclusionCase, over: Partial<{ leafHash: Uint8Array; index: number; size: number; proof: readonly Uint8Array[]; root: Uint8Array }> = {}) =>
  verifyInclusion({ leafHash: leaves[c.index]!, index: c.index, size: c.size, proof: c.proof, root: roots[c.size]!, ...over });
const con = (c: ConsistencyCase, over: Partial<{ size1: number; size2: number; root1: Uint8Array; root2: Uint8Array; proof: readonly Uint8Array[] }> = {}) =>
  verifyConsistency({ size1: c.size1, size2: c.size2, root1: roots[c.size1]!, root2: roots[c.size2]!, proof: c.proof, ...over });

describe('inclusion proofs under attack', () => {
  it(`accepts each of the ${inclusionCases.length} honest proofs`, () => {
    for (const c of inclusionCases) expect(inc(c), `${c.index}/${c.size}`).toBe(true);
  });

  it('rejects every one-edit change of every proof: a flipped byte in any node, a removed, inserted, duplicated, swapped or resized node', () => {
    let tried = 0;
    for (const c of inclusionCases) {
      for (const m of proofMutations(c.proof, extra)) {
        tried++;
        expect(inc(c, { proof: m.proof }), `${c.index}/${c.size}: ${m.desc}`).toBe(false);
        expect(rootFromInclusionProof({ leafHash: leaves[c.index]!, index: c.index, size: c.size, proof: m.proof })?.equals(roots[c.size]!) ?? false).toBe(false);
      }
    }
    expect(tried).toBeGreaterThan(3000);
  });

  it('rejects a proof whose middle node is wrong', () => {
    const c = { index: 2, size: 8, proof: inclusionProof(leaves, 2, 8) };
    expect(c.proof.length).toBe(3);
    expect(inc(c)).toBe(true);
    expect(inc(c, { proof: [c.proof[0]!, extra, c.proof[2]!] })).toBe(false);
    expect(inc(c, { proof: [c.proof[0]!, leaves[2]!, c.proof[2]!] })).toBe(false);
  });

  it('rejects every other leaf, a wrong root, and hashes of the wrong length', () => {
    for (const c of inclusionCases) {
      for (const other of [...leaves, extra, emptyRoot(), roots[c.size]!]) if (!other.equals(leaves[c.index]!)) expect(inc(c, { leafHash: other })).toBe(false);
      for (let s = 0; s <= 8; s++) if (s !== c.size) expect(inc(c, { root: roots[s]! })).toBe(false);
      expect(inc(c, { root: extra })).toBe(false);
      expect(inc(c, { root: roots[c.size]!.subarray(0, 31) })).toBe(false);
      expect(inc(c, { root: Buffer.concat([roots[c.size]!, Buffer.alloc(1)]) })).toBe(false);
      expect(inc(c, { leafHash: leaves[c.index]!.subarray(0, 31) })).toBe(false);
    }
  });

  it('rejects every other index in the same tree, and every other size the proof does not fit', () => {
    for (const c of inclusionCases) {
      for (let index = -2; index < c.size + 4; index++) if (index !== c.index) expect(inc(c, { index }), `${c.index}→${index} /${c.size}`).toBe(false);
      for (let size = -1; size <= 40; size++) {
        if (size === c.size) continue;
        // Index and size only choose which side each sibling is hashed on; where they choose the same
        // sides as the honest (index, size), the same root comes out. The signed checkpoint binds the size to the root.
        const sameShape = size > c.index && refShape(c.index, size) === refShape(c.index, c.size);
        expect(inc(c, { size }), `${c.index}/${c.size}→${size}`).toBe(sameShape);
      }
      for (let size = 1; size <= 16; size++) for (let index = 0; index < size; index++) {
        if (index === c.index && size === c.size) continue;
        expect(inc(c, { index, size }), `${c.index}/${c.size}→${index}/${size}`).toBe(refShape(index, size) === refShape(c.index, c.size));
      }
    }
  });

  it('rejects non-integer, unsafe, negative and huge indices and sizes', () => {
    const c = inclusionCases.find((x) => x.index === 5 && x.size === 8)!;
    for (const index of [5.5, Number.NaN, Infinity, -Infinity, 2 ** 53, -0.5, 18446744073709551615]) expect(inc(c, { index })).toBe(false);
    for (const size of [8.5, Number.NaN, Infinity, 2 ** 53 + 2, 18446744073709551615]) expect(inc(c, { size })).toBe(false);
    expect(inc(c, { index: 5, size: Number.MAX_SAFE_INTEGER })).toBe(false);
  });

  it('never throws on garbage, and returns false', () => {
    const garbage: unknown[] = [undefined, null, 0, 'x', [], {}, { leafHash: 'aa', index: 0, size: 1, proof: [], root: 'aa' }, { leafHash: leaves[0], index: 0, size: 1, proof: null, root: roots[1] }, { leafHash: leaves[0], index: 0, size: 1, proof: [null], root: roots[1] }, { leafHash: leaves[0], index: '0', size: 1, proof: [], root: roots[1] }, { leafHash: leaves[0], index: 0n, size: 1n, proof: [], root: roots[1] }, { leafHash: leaves[0], index: 0, size: 2, proof: Array(1e6).fill(leaves[1]), root: roots[2] }];
    const throwing = new Proxy({}, { get: () => { throw new Error('boom'); } });
    for (const g of [...garbage, throwing]) {
      expect(verifyInclusion(g as never)).toBe(false);
      expect(rootFromInclusionProof(g as never)).toBeUndefined();
      expect(verifyConsistency(g as never)).toBe(false);
    }
  });
});

describe('consistency proofs under attack', () => {
  it(`accepts each of the ${consistencyCases.length} honest proofs`, () => {
    for (const c of consistencyCases) expect(con(c), `${c.size1}→${c.size2}`).toBe(true);
  });

  it('rejects every one-edit change of every non-empty proof', () => {
    let tried = 0;
    for (const c of consistencyCases) {
      for (const m of proofMutations(c.proof, extra)) {
        tried++;
        expect(con(c, { proof: m.proof }), `${c.size1}→${c.size2}: ${m.desc}`).toBe(false);
      }
    }
    expect(tried).toBeGreaterThan(3000);
  });

  it('rejects a proof whose middle node is wrong', () => {
    const c = { size1: 3, size2: 7, proof: consistencyProof(leaves, 3, 7) };
    expect(c.proof.length).toBeGreaterThanOrEqual(3);
    expect(con(c)).toBe(true);
    for (let i = 1; i < c.proof.length - 1; i++) expect(con(c, { proof: c.proof.map((p, j) => (j === i ? extra : p)) })).toBe(false);
  });

  it('rejects any other root for either tree, swapped roots, and roots of the wrong length', () => {
    for (const c of consistencyCases) {
      for (let s = 0; s <= 8; s++) {
        if (!roots[s]!.equals(roots[c.size1]!)) expect(con(c, { root1: roots[s]! })).toBe(false);
        if (!roots[s]!.equals(roots[c.size2]!)) expect(con(c, { root2: roots[s]! })).toBe(false);
      }
      for (const r of [extra, emptyRoot()]) {
        expect(con(c, { root1: r })).toBe(false);
        expect(con(c, { root2: r })).toBe(false);
      }
      if (c.size1 !== c.size2) expect(con(c, { root1: roots[c.size2]!, root2: roots[c.size1]! })).toBe(false);
      expect(con(c, { root1: roots[c.size1]!.subarray(0, 31) })).toBe(false);
      expect(con(c, { root2: Buffer.concat([roots[c.size2]!, Buffer.alloc(1)]) })).toBe(false);
    }
  });

  it('rejects the proof for any other pair of sizes over the same tree', () => {
    for (const c of consistencyCases) {
      for (let size2 = 0; size2 <= 8; size2++) for (let size1 = 0; size1 <= 8; size1++) {
        if (size1 === c.size1 && size2 === c.size2) continue;
        expect(verifyConsistency({ size1, size2, root1: roots[size1]!, root2: roots[size2]!, proof: c.proof }), `${c.size1}→${c.size2} as ${size1}→${size2}`).toBe(
          // Only an empty proof can serve two pairs: equal sizes, or from the empty tree.
          c.proof.length === 0 && size1 <= size2 && (size1 === size2 || size1 === 0),
        );
      }
    }
  });

  it('rejects sizes changed as the transparency-dev probes change them (size1 ±1, xor 2; size2 ×2, ÷2), roots kept', () => {
    for (const c of consistencyCases) {
      if (c.size1 === c.size2) continue;
      for (const size1 of [c.size1 - 1, c.size1 + 1, c.size1 ^ 2]) expect(con(c, { size1 }), `${c.size1}→${c.size2}, size1 ${size1}`).toBe(false);
      for (const size2 of [c.size2 * 2, Math.floor(c.size2 / 2)]) expect(con(c, { size2 }), `${c.size1}→${c.size2}, size2 ${size2}`).toBe(false);
    }
  });

  it('binds sizes only through the roots: a proof can fit another size pair against the same roots (the checkpoint signature binds size to root)', () => {
    const c = consistencyCases.find((x) => x.size1 === 1 && x.size2 === 8)!;
    expect(con(c, { size2: 7 })).toBe(true);
    expect(verifyConsistency({ size1: 1, size2: 7, root1: roots[1]!, root2: roots[7]!, proof: c.proof })).toBe(false);
  });

  it('handles the edge sizes: equal sizes, from the empty tree, decreasing, unsafe', () => {
    const r = (n: number) => roots[n]!;
    expect(verifyConsistency({ size1: 5, size2: 5, root1: r(5), root2: r(5), proof: [] })).toBe(true);
    expect(verifyConsistency({ size1: 5, size2: 5, root1: r(5), root2: r(6), proof: [] })).toBe(false);
    expect(verifyConsistency({ size1: 5, size2: 5, root1: r(5), root2: r(5), proof: [r(5)] })).toBe(false);
    expect(verifyConsistency({ size1: 0, size2: 5, root1: emptyRoot(), root2: r(5), proof: [] })).toBe(true);
    expect(verifyConsistency({ size1: 0, size2: 0, root1: emptyRoot(), root2: emptyRoot(), proof: [] })).toBe(true);
    expect(verifyConsistency({ size1: 0, size2: 5, root1: extra, root2: r(5), proof: [] })).toBe(false);
    expect(verifyConsistency({ size1: 0, size2: 0, root1: emptyRoot(), root2: extra, proof: [] })).toBe(false);
    expect(verifyConsistency({ size1: 0, size2: 5, root1: emptyRoot(), root2: r(5), proof: [r(5)] })).toBe(false);
    expect(verifyConsistency({ size1: 6, size2: 5, root1: r(6), root2: r(5), proof: consistencyProof(leaves, 5, 6) })).toBe(false);
    expect(verifyConsistency({ size1: 5, size2: 2 ** 53, root1: r(5), root2: r(8), proof: consistencyProof(leaves, 5, 8) })).toBe(false);
    expect(verifyConsistency({ size1: 5, size2: 8, root1: r(5), root2: r(8), proof: Array(1000).fill(r(1)) })).toBe(false);
  });
});

describe('the builders refuse what has no proof', () => {
  it('throws RangeError for indices and sizes out of range', () => {
    expect(() => inclusionProof(leaves, 8, 8)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 0, 9)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 0, 0)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, -1, 4)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 1.5, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 0, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 5, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 4, 9)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, Number.NaN, 4)).toThrow(RangeError);
    expect(consistencyProof(leaves, 4, 4)).toEqual([]);
    expect(consistencyProof(leaves, 8, 8)).toEqual([]);
  });

  it('uses only the first size hashes, and refuses leaf hashes that are not 32 bytes', () => {
    expect(inclusionProof([...leaves, extra], 3, 8)).toEqual(inclusionProof(leaves, 3, 8));
    expect(consistencyProof([...leaves, extra], 3, 8)).toEqual(consistencyProof(leaves, 3, 8));
    expect(() => rootOf([leaves[0]!, Buffer.alloc(31)])).toThrow(TypeError);
    expect(() => inclusionProof([leaves[0]!, Buffer.alloc(33)], 0, 2)).toThrow(TypeError);
  });
});
