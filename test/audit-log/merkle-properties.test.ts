import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, MerkleFrontier, rootOf } from '../../src/governance/audit-log/merkle-tree.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../src/governance/audit-log/merkle-verify.js';
import { leavesFrom, refMth, refPath, refProof } from './helpers.js';

// A tree of 1..300 leaves: distinct, or drawn from three values so that equal subtrees abound.
const leavesArb = fc.oneof(
  fc.tuple(fc.integer(), fc.integer({ min: 1, max: 300 })).map(([seed, n]) => leavesFrom(seed, n)),
  fc.array(fc.constantFrom(...leavesFrom(0, 3)), { minLength: 1, maxLength: 300 }),
);
const withIndex = leavesArb.chain((leaves) => fc.tuple(fc.constant(leaves), fc.integer({ min: 1, max: leaves.length })).chain(([l, size]) => fc.tuple(fc.constant(l), fc.constant(size), fc.integer({ min: 0, max: size - 1 }))));
const withSizes = leavesArb.chain((leaves) => fc.tuple(fc.constant(leaves), fc.integer({ min: 1, max: leaves.length })).chain(([l, size2]) => fc.tuple(fc.constant(l), fc.integer({ min: 1, max: size2 }), fc.constant(size2))));

describe('Merkle tree properties', () => {
  it('rootOf equals the RFC 9162 recursive MTH', () => {
    fc.assert(fc.property(leavesArb, (leaves) => rootOf(leaves).equals(refMth(leaves))), { numRuns: 100 });
  });

  it('inclusionProof equals the RFC recursion, verifies, and leads to the root of that size', () => {
    fc.assert(
      fc.property(withIndex, ([leaves, size, index]) => {
        const proof = inclusionProof(leaves, index, size);
        const prefix = leaves.slice(0, size);
        expect(proof).toEqual(refPath(index, prefix));
        const root = rootOf(prefix);
        expect(verifyInclusion({ leafHash: leaves[index]!, index, size, proof, root })).toBe(true);
        expect(rootFromInclusionProof({ leafHash: leaves[index]!, index, size, proof })?.equals(root)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('consistencyProof equals the RFC recursion and verifies between the two roots', () => {
    fc.assert(
      fc.property(withSizes, ([leaves, size1, size2]) => {
        const proof = consistencyProof(leaves, size1, size2);
        expect(proof).toEqual(refProof(size1, leaves.slice(0, size2)));
        expect(verifyConsistency({ size1, size2, root1: rootOf(leaves.slice(0, size1)), root2: rootOf(leaves.slice(0, size2)), proof })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a single flipped bit anywhere in a proof makes it fail', () => {
    fc.assert(
      fc.property(withSizes, fc.nat(), fc.nat(255), fc.integer({ min: 0, max: 7 }), ([leaves, size1, size2], at, byte, bit) => {
        const root1 = rootOf(leaves.slice(0, size1));
        const root2 = rootOf(leaves.slice(0, size2));
        const index = size1 - 1;
        const inc = inclusionProof(leaves, index, size2);
        const con = consistencyProof(leaves, size1, size2);
        const flip = (proof: Buffer[]) => {
          const copy = proof.map((p) => Buffer.from(p));
          const node = copy[at % copy.length]!;
          node[byte % 32]! ^= 1 << bit;
          return copy;
        };
        if (inc.length > 0) expect(verifyInclusion({ leafHash: leaves[index]!, index, size: size2, proof: flip(inc), root: root2 })).toBe(false);
        if (con.length > 0) expect(verifyConsistency({ size1, size2, root1, root2, proof: flip(con) })).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('MerkleFrontier has the root of every prefix and O(log n) nodes', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const frontier = new MerkleFrontier();
        expect(frontier.root().equals(rootOf([]))).toBe(true);
        leaves.forEach((leaf, i) => {
          frontier.append(leaf);
          expect(frontier.size).toBe(i + 1);
          expect(frontier.root().equals(refMth(leaves.slice(0, i + 1)))).toBe(true);
          expect(frontier.toJSON().nodes.length).toBeLessThanOrEqual(Math.floor(Math.log2(i + 1)) + 1);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('toJSON / fromJSON round-trips, through JSON text, and keeps appending correctly', () => {
    fc.assert(
      fc.property(withIndex, ([leaves, , cut]) => {
        const first = new MerkleFrontier();
        for (const leaf of leaves.slice(0, cut)) first.append(leaf);
        const restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(first)) as { size: number; nodes: string[] });
        expect(restored.toJSON()).toEqual(first.toJSON());
        expect(restored.root().equals(first.root())).toBe(true);
        for (const leaf of leaves.slice(cut)) restored.append(leaf);
        expect(restored.size).toBe(leaves.length);
        expect(restored.root().equals(rootOf(leaves))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('MerkleFrontier', () => {
  const leaves = leavesFrom(1, 13);
  const good = () => {
    const f = new MerkleFrontier();
    for (const l of leaves) f.append(l);
    return f.toJSON();
  };

  it('does not share buffers with its caller', () => {
    const f = new MerkleFrontier();
    const leaf = Buffer.from(leaves[0]!);
    f.append(leaf);
    const root = f.root();
    leaf.fill(0);
    root.fill(0);
    expect(f.root().equals(leaves[0]!)).toBe(true);
  });

  it('refuses leaf hashes that are not 32 bytes', () => {
    const f = new MerkleFrontier();
    expect(() => f.append(Buffer.alloc(31))).toThrow(TypeError);
    expect(() => f.append('x'.repeat(32) as never)).toThrow(TypeError);
    expect(f.size).toBe(0);
  });

  it('fromJSON refuses a wrong node count, bad hex, and bad sizes', () => {
    const j = good();
    expect(j.nodes.length).toBe(3); // 13 = 0b1101
    expect(MerkleFrontier.fromJSON({ size: j.size, nodes: j.nodes.map((n) => n.toUpperCase()) }).root().equals(rootOf(leaves))).toBe(true);
    const bad: unknown[] = [
      { size: 13, nodes: j.nodes.slice(1) },
      { size: 13, nodes: [...j.nodes, j.nodes[0]] },
      { size: 12, nodes: j.nodes },
      { size: 16, nodes: j.nodes },
      { size: 13, nodes: [j.nodes[0], j.nodes[1], j.nodes[2]!.slice(2)] },
      { size: 13, nodes: [j.nodes[0], j.nodes[1], `${j.nodes[2]!.slice(2)}zz`] },
      { size: 13, nodes: [j.nodes[0], j.nodes[1], `${j.nodes[2]}00`] },
      { size: 13, nodes: [j.nodes[0], j.nodes[1], 7] },
      { size: 13.5, nodes: j.nodes },
      { size: -1, nodes: [] },
      { size: '13', nodes: j.nodes },
      { size: 2 ** 53, nodes: [j.nodes[0]] },
      { size: 13, nodes: 'x' },
      { size: 0, nodes: [j.nodes[0]] },
      null,
      'x',
    ];
    for (const b of bad) expect(() => MerkleFrontier.fromJSON(b as never), JSON.stringify(b)).toThrow();
    expect(MerkleFrontier.fromJSON({ size: 0, nodes: [] }).root().equals(rootOf([]))).toBe(true);
  });
});

describe('a million leaves', () => {
  it('builds roots and proofs in linear time and O(log n) frontier memory', { timeout: 60_000 }, () => {
    const n = 200_003;
    const size1 = 199_999;
    // Stand-ins for leaf hashes: distinct 32-byte values, cheaper to make than SHA-256 outputs.
    const leaves = Array.from({ length: n }, (_, i) => {
      const b = Buffer.alloc(32, 0xa5);
      b.writeUInt32BE(i);
      return b;
    });
    const root = rootOf(leaves);
    const frontier = new MerkleFrontier();
    let root1: Buffer | undefined;
    for (const l of leaves) {
      frontier.append(l);
      if (frontier.size === size1) root1 = frontier.root();
    }
    expect(frontier.root().equals(root)).toBe(true);
    expect(frontier.toJSON().nodes.length).toBe(n.toString(2).replace(/0/g, '').length);
    const index = 165_432;
    const proof = inclusionProof(leaves, index, n);
    expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
    expect(verifyInclusion({ leafHash: leaves[index]!, index, size: n, proof, root })).toBe(true);
    const cproof = consistencyProof(leaves, size1, n);
    expect(verifyConsistency({ size1, size2: n, root1: root1!, root2: root, proof: cproof })).toBe(true);
  });
});
