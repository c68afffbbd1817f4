import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { emptyRoot, leafHash, nodeHash } from '../../src/governance/audit-log/merkle-hash.js';
import { consistencyProof, inclusionProof, MerkleFrontier, rootOf } from '../../src/governance/audit-log/merkle-tree.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../src/governance/audit-log/merkle-verify.js';
import { b64, fixture, hex } from './helpers.js';

interface Tree {
  leafInputs: string[];
  nodeHashes: string[][];
  rootHashes: string[];
  compactTrees: string[][];
  hasher: { emptyRoot: string; emptyLeafHash: string; leaf: { data: string; hash: string }; node: { left: string; right: string; hash: string } };
}
interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface Probes {
  inclusion: { file: string; probe: InclusionProbe }[];
  consistency: { file: string; probe: ConsistencyProbe }[];
}

const tree = fixture<Tree>('rfc6962-tree.json');
const probes = fixture<Probes>('transparency-dev-merkle-probes.json');
const leaves = tree.leafInputs.map((d) => leafHash(hex(d)));

/**
 * Where this verifier is deliberately stricter than Go's proof.VerifyConsistency: Go compares
 * roots of any length when size1 = size2; here a root is 32 bytes or the proof fails.
 */
const stricterThanGo = new Set(['testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json']);

describe('RFC 6962 hashing (transparency-dev/merkle rfc6962_test.go)', () => {
  it('matches the published empty root, leaf and node hashes', () => {
    expect(emptyRoot().toString('hex')).toBe(tree.hasher.emptyRoot);
    expect(leafHash(new Uint8Array()).toString('hex')).toBe(tree.hasher.emptyLeafHash);
    expect(leafHash(Buffer.from(tree.hasher.leaf.data)).toString('hex')).toBe(tree.hasher.leaf.hash);
    expect(nodeHash(Buffer.from(tree.hasher.node.left), Buffer.from(tree.hasher.node.right)).toString('hex')).toBe(tree.hasher.node.hash);
  });
});

describe('the 8-leaf RFC 6962 test tree (transparency-dev/merkle testonly/constants.go)', () => {
  it('has the published leaf hashes and perfect-subtree hashes', () => {
    expect(leaves.map((l) => l.toString('hex'))).toEqual(tree.nodeHashes[0]);
    tree.nodeHashes.forEach((level, height) => {
      level.forEach((want, i) => {
        const width = 2 ** height;
        expect(rootOf(leaves.slice(i * width, (i + 1) * width)).toString('hex'), `level ${height} node ${i}`).toBe(want);
      });
    });
  });

  it('has the published root for every size 0..8', () => {
    expect(tree.rootHashes[8]).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    tree.rootHashes.forEach((want, size) => expect(rootOf(leaves.slice(0, size)).toString('hex'), `size ${size}`).toBe(want));
  });

  it('keeps the published compact range as its frontier and the published root at every size', () => {
    const frontier = new MerkleFrontier();
    for (let size = 0; size <= 8; size++) {
      expect(frontier.toJSON(), `size ${size}`).toEqual({ size, nodes: tree.compactTrees[size] });
      expect(frontier.root().toString('hex')).toBe(tree.rootHashes[size]);
      if (size < 8) frontier.append(leaves[size]!);
    }
  });
});

describe('transparency-dev/merkle inclusion probes (testdata/inclusion)', () => {
  it('has them all', () => expect(probes.inclusion.length).toBeGreaterThan(90));

  for (const { file, probe } of probes.inclusion) {
    it(`${file}: ${probe.desc} → ${probe.wantErr ? 'rejected' : 'accepted'}`, () => {
      const args = { leafHash: b64(probe.leafHash), index: probe.leafIdx, size: probe.treeSize, proof: (probe.proof ?? []).map(b64), root: b64(probe.root) };
      expect(verifyInclusion(args)).toBe(!probe.wantErr);
      const root = rootFromInclusionProof(args);
      if (!probe.wantErr) expect(root?.equals(args.root)).toBe(true);
    });
  }

  it('the generator reproduces every accepted proof over the test tree exactly', () => {
    const happy = probes.inclusion.filter(({ probe }) => !probe.wantErr && probe.desc === 'happy path');
    expect(happy.length).toBe(5);
    for (const { probe } of happy) {
      expect(b64(probe.leafHash).equals(leaves[probe.leafIdx]!)).toBe(true);
      expect(b64(probe.root).toString('hex')).toBe(tree.rootHashes[probe.treeSize]);
      expect(inclusionProof(leaves, probe.leafIdx, probe.treeSize)).toEqual((probe.proof ?? []).map(b64));
    }
  });
});

describe('transparency-dev/merkle consistency probes (testdata/consistency)', () => {
  it('has them all', () => expect(probes.consistency.length).toBeGreaterThan(90));

  for (const { file, probe } of probes.consistency) {
    const want = !probe.wantErr && !stricterThanGo.has(file);
    it(`${file}: ${probe.desc} → ${want ? 'accepted' : 'rejected'}${stricterThanGo.has(file) ? ' (Go accepts non-32-byte roots here)' : ''}`, () => {
      const args = { size1: probe.size1, size2: probe.size2, root1: b64(probe.root1), root2: b64(probe.root2), proof: (probe.proof ?? []).map(b64) };
      expect(verifyConsistency(args)).toBe(want);
    });
  }

  it('the stricter-than-Go exception is only about root length', () => {
    for (const file of stricterThanGo) {
      const { probe } = probes.consistency.find((p) => p.file === file)!;
      expect(b64(probe.root1).length).not.toBe(32);
      const root = Buffer.alloc(32, 7);
      expect(verifyConsistency({ size1: probe.size1, size2: probe.size2, root1: root, root2: root, proof: [] })).toBe(true);
    }
  });

  it('the generator reproduces every accepted proof over the test tree exactly', () => {
    const happy = probes.consistency.filter(({ probe }) => !probe.wantErr && probe.desc === 'happy path');
    expect(happy.length).toBe(5);
    for (const { probe } of happy) {
      expect(b64(probe.root1).toString('hex')).toBe(tree.rootHashes[probe.size1]);
      expect(b64(probe.root2).toString('hex')).toBe(tree.rootHashes[probe.size2]);
      expect(consistencyProof(leaves, probe.size1, probe.size2)).toEqual((probe.proof ?? []).map(b64));
    }
  });
});
