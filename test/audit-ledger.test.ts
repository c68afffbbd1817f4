// The tamper-evident audit log over a real SQLite file: decisions, feedback and audit events become
// leaves of one RFC 9162 Merkle log; signed checkpoints, inclusion and consistency proofs through
// the API; and `verify` finding each way of tampering with the file behind Ballast's back.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLedger } from '../src/cli/runtime.js';
import { generateNoteKey, verifyInclusionDocument, type AuditProblem, type InclusionProofDocument } from '../src/governance/index.js';
import { formatCheckpoint, parseCheckpoint, signNote, openNote } from '../src/governance/audit-log/checkpoint-note.js';
import { verifyConsistency } from '../src/governance/audit-log/merkle-verify.js';
import { openStore } from '../src/store/index.js';
import { decisionLeafData, textDigest } from '../src/store/audit-leaf.js';
import type { DecisionsTable } from '../src/store/schema.js';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
type Json = any;

const actor = { actor: { principal: 'tester', keyId: null, role: 'admin' } };

describe('the audit log', () => {
  let t: TestBallast;
  const decisions: string[] = [];
  const feedback: string[] = [];
  let pristine: string;
  let scratch: string;

  const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: Json }> => {
    const r = await t.server.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    return { status: r.statusCode, body: r.json() };
  };

  beforeAll(async () => {
    t = await startTestBallast();
    for (let i = 0; i < 12; i++) {
      const made = await inject('POST', '/v1/services/loans/decisions', { input: { text: `loan ${i}`, amount: 1000 + i } });
      expect(made.status).toBe(200);
      decisions.push(made.body.id);
      if (i % 3 === 0) {
        const fb = await inject('POST', `/v1/decisions/${made.body.id}/feedback`, { kind: 'label', value: { label: 'approve' } });
        expect(fb.status).toBe(201);
        feedback.push(fb.body.id);
      }
    }
    await t.server.keys.create({ principal: 'alice', role: 'viewer' }, actor);
    expect((await inject('POST', '/v1/audit/checkpoints')).status).toBe(201);
    // More entries after the first checkpoint, then a second one.
    for (let i = 0; i < 5; i++) decisions.push((await inject('POST', '/v1/services/loans/decisions', { input: { text: `late ${i}`, amount: 2000 + i } })).body.id);
    expect((await inject('POST', '/v1/audit/checkpoints')).status).toBe(201);
    decisions.push((await inject('POST', '/v1/services/loans/decisions', { input: { text: 'uncovered', amount: 3000 } })).body.id);
    await t.server.drain();
    await t.runtime.close();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'ballast-audit-'));
    pristine = path.join(t.dir, 'ballast.db');
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(t.dir, { recursive: true, force: true });
  });

  /** Copies the pristine log, lets `tamper` edit the copy with plain SQL, and verifies it. */
  async function verifyAfter(tamper: (db: Database.Database) => void): Promise<{ ok: boolean; problems: readonly AuditProblem[]; leaves: number; uncovered: number }> {
    const dir = mkdtempSync(path.join(scratch, 'case-'));
    const file = path.join(dir, 'ballast.db');
    copyFileSync(pristine, file);
    copyFileSync(path.join(t.dir, 'audit-signing.key'), path.join(dir, 'audit-signing.key'));
    const db = new Database(file);
    try {
      tamper(db);
    } finally {
      db.close();
    }
    const store = await openStore({ kind: 'sqlite', path: file });
    try {
      return await (await openAuditLedger(store, dir)).verify();
    } finally {
      await store.close();
    }
  }
  const kinds = (r: { problems: readonly AuditProblem[] }) => [...new Set(r.problems.map((p) => p.kind))].sort();

  it('puts every decision, feedback and audit event in the log, and the untouched log verifies', async () => {
    const result = await verifyAfter(() => {});
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const db = new Database(pristine, { readonly: true });
    const counts = db.prepare('SELECT kind, count(*) AS n FROM audit_leaves GROUP BY kind ORDER BY kind').all();
    const events = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const maxIdx = (db.prepare('SELECT max(idx) AS m, count(*) AS n FROM audit_leaves').get() as { m: number; n: number });
    db.close();
    expect(counts).toEqual([
      { kind: 'audit', n: events },
      { kind: 'decision', n: decisions.length },
      { kind: 'feedback', n: feedback.length },
    ]);
    expect(events).toBeGreaterThanOrEqual(1 + feedback.length); // the key, and each feedback.received
    expect(maxIdx.m).toBe(maxIdx.n - 1); // dense indices from 0
    expect(result.leaves).toBe(maxIdx.n);
    expect(result.uncovered).toBe(1);
  });

  it('detects an edited decision, feedback value or audit event', async () => {
    const flip = "UPDATE decisions SET outcome = CASE outcome WHEN 'rejected' THEN 'auto' ELSE 'rejected' END WHERE id = ?";
    expect(kinds(await verifyAfter((db) => db.prepare(flip).run(decisions[3])))).toEqual(['edited']);
    expect(kinds(await verifyAfter((db) => db.prepare("UPDATE decisions SET input = replace(input, 'loan', 'LOAN') WHERE id = ?").run(decisions[3])))).toEqual(['edited']);
    expect(kinds(await verifyAfter((db) => db.prepare(`UPDATE feedback SET value = '{"label":"deny"}' WHERE id = ?`).run(feedback[1])))).toEqual(['edited']);
    expect(kinds(await verifyAfter((db) => db.prepare("UPDATE audit_events SET actor_principal = 'mallory' WHERE action = 'key.created'").run()))).toEqual(['edited']);
    // Editing the row AND rewriting its leaf to match: the signed root no longer matches.
    const rewritten = await verifyAfter((db) => {
      db.prepare(flip).run(decisions[3]);
      const row = db.prepare('SELECT * FROM decisions WHERE id = ?').get(decisions[3]) as DecisionsTable;
      db.prepare('UPDATE audit_leaves SET hash = ? WHERE ref_id = ?').run(leafHash(decisionLeafData(row)), decisions[3]);
    });
    expect(kinds(rewritten)).toEqual(['checkpoint_root']);
  });

  it('detects a deleted entry: its row, its leaf, or both', async () => {
    expect(kinds(await verifyAfter((db) => db.prepare('DELETE FROM decisions WHERE id = ?').run(decisions[2])))).toEqual(['missing_row']);
    const both = await verifyAfter((db) => {
      db.prepare('DELETE FROM decisions WHERE id = ?').run(decisions[2]);
      db.prepare('DELETE FROM audit_leaves WHERE ref_id = ?').run(decisions[2]);
    });
    expect(kinds(both)).toEqual(expect.arrayContaining(['gap', 'checkpoint_root']));
    // Deleting and renumbering the later leaves to close the gap: the signed roots catch it.
    const renumbered = await verifyAfter((db) => {
      const idx = (db.prepare('SELECT idx FROM audit_leaves WHERE ref_id = ?').get(decisions[2]) as { idx: number }).idx;
      db.prepare('DELETE FROM decisions WHERE id = ?').run(decisions[2]);
      db.prepare('DELETE FROM audit_leaves WHERE idx = ?').run(idx);
      db.prepare('UPDATE audit_leaves SET idx = -(idx - 1) WHERE idx > ?').run(idx);
      db.prepare('UPDATE audit_leaves SET idx = -idx WHERE idx < 0').run();
    });
    expect(kinds(renumbered)).toContain('checkpoint_root');
    expect(kinds(renumbered)).not.toContain('gap');
  });

  it('detects reordered entries', async () => {
    const swapped = await verifyAfter((db) => {
      const a = db.prepare('SELECT idx FROM audit_leaves WHERE ref_id = ?').get(decisions[1]) as { idx: number };
      const b = db.prepare('SELECT idx FROM audit_leaves WHERE ref_id = ?').get(decisions[4]) as { idx: number };
      db.prepare('UPDATE audit_leaves SET idx = -1 WHERE idx = ?').run(a.idx);
      db.prepare('UPDATE audit_leaves SET idx = ? WHERE idx = ?').run(a.idx, b.idx);
      db.prepare('UPDATE audit_leaves SET idx = ? WHERE idx = -1').run(b.idx);
    });
    expect(kinds(swapped)).toEqual(['checkpoint_root']);
  });

  it('detects an inserted entry: a row without a leaf, or a leaf slipped into the middle', async () => {
    const unlogged = await verifyAfter((db) => {
      const row = db.prepare('SELECT * FROM decisions WHERE id = ?').get(decisions[0]) as Record<string, unknown>;
      const columns = Object.keys(row);
      db.prepare(`INSERT INTO decisions (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => (c === 'id' ? 'dec_forged' : row[c])));
    });
    expect(kinds(unlogged)).toEqual(['unlogged_rows']);
    const slipped = await verifyAfter((db) => {
      const row = db.prepare('SELECT * FROM decisions WHERE id = ?').get(decisions[0]) as Record<string, unknown>;
      const columns = Object.keys(row);
      db.prepare(`INSERT INTO decisions (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => (c === 'id' ? 'dec_forged' : row[c])));
      const leaf = db.prepare('SELECT idx FROM audit_leaves WHERE ref_id = ?').get(decisions[0]) as { idx: number };
      const data = decisionLeafData({ ...(row as unknown as DecisionsTable), id: 'dec_forged' });
      db.prepare('UPDATE audit_leaves SET idx = -(idx + 1) WHERE idx > ?').run(leaf.idx);
      db.prepare('UPDATE audit_leaves SET idx = -idx WHERE idx < 0').run();
      db.prepare("INSERT INTO audit_leaves (idx, kind, ref_id, hash) VALUES (?, 'decision', 'dec_forged', ?)").run(leaf.idx + 1, leafHash(data));
    });
    expect(kinds(slipped)).toEqual(['checkpoint_root']);
  });

  it('detects a truncated log: entries cut from its end under a checkpoint', async () => {
    const cut = await verifyAfter((db) => {
      const last = db.prepare('SELECT ref_id, kind FROM audit_leaves ORDER BY idx DESC LIMIT 3').all() as { ref_id: string; kind: string }[];
      for (const l of last) {
        db.prepare('DELETE FROM audit_leaves WHERE ref_id = ?').run(l.ref_id);
        if (l.kind === 'decision') db.prepare('DELETE FROM decisions WHERE id = ?').run(l.ref_id);
        if (l.kind === 'audit') db.prepare('DELETE FROM audit_events WHERE id = ?').run(l.ref_id);
      }
    });
    expect(kinds(cut)).toEqual(['checkpoint_beyond_log']);
  });

  it('detects a forged checkpoint: another key, an edited root, or a note edited after signing', async () => {
    const other = generateNoteKey('ballast.audit/forger');
    const forged = await verifyAfter((db) => {
      const cp = db.prepare('SELECT id, tree_size FROM audit_checkpoints ORDER BY tree_size LIMIT 1').get() as { id: string; tree_size: number };
      const note = signNote(formatCheckpoint({ origin: 'ballast.audit/forger', size: cp.tree_size, rootHash: Buffer.alloc(32, 7) }), other.signerKey);
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE id = ?').run(note, cp.id);
    });
    expect(kinds(forged)).toEqual(['checkpoint_signature']);
    const root = await verifyAfter((db) => db.prepare("UPDATE audit_checkpoints SET root_hash = '00' || substr(root_hash, 3)").run());
    expect(kinds(root)).toEqual(['checkpoint_root']);
    const edited = await verifyAfter((db) => {
      const cp = db.prepare('SELECT id, note FROM audit_checkpoints LIMIT 1').get() as { id: string; note: string };
      const lines = cp.note.split('\n');
      lines[1] = String(Number(lines[1]) + 1);
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE id = ?').run(lines.join('\n'), cp.id);
    });
    expect(kinds(edited)).toEqual(['checkpoint_signature']);
  });

  it('detects raw input removed without a purge, a malformed leaf hash, and truncation above the 1000th checkpoint', async () => {
    const unpurged = await verifyAfter((db) => {
      const row = db.prepare('SELECT input, context FROM decisions WHERE id = ?').get(decisions[5]) as { input: string; context: string | null };
      db.prepare('UPDATE decisions SET input = NULL, input_digest = ? WHERE id = ?').run(textDigest(row.input), decisions[5]);
    });
    expect(unpurged.problems.map((p) => p.message)).toEqual([expect.stringContaining(`the raw input of decision ${decisions[5]} was removed, but no retention.purged or subject.erased event lists it`)]);
    const garbled = await verifyAfter((db) => db.prepare("UPDATE audit_leaves SET hash = 'nope' WHERE idx = 2").run());
    expect(kinds(garbled)).toEqual(['checkpoint_root', 'edited']);
    const many = await verifyAfter((db) => {
      const first = db.prepare('SELECT * FROM audit_checkpoints ORDER BY tree_size LIMIT 1').get() as Record<string, unknown>;
      const insert = db.prepare('INSERT INTO audit_checkpoints (id, created_at, tree_size, root_hash, note, frontier) VALUES (@id, @created_at, @tree_size, @root_hash, @note, @frontier)');
      for (let i = 0; i < 1001; i++) insert.run({ ...first, id: `ckp_copy${String(i).padStart(6, '0')}` });
      const last = db.prepare('SELECT ref_id FROM audit_leaves ORDER BY idx DESC LIMIT 3').all() as { ref_id: string }[];
      for (const l of last) {
        db.prepare('DELETE FROM audit_leaves WHERE ref_id = ?').run(l.ref_id);
        db.prepare('DELETE FROM decisions WHERE id = ?').run(l.ref_id);
      }
    });
    expect(kinds(many)).toEqual(['checkpoint_beyond_log']);
  });

  describe('proofs through the API', () => {
    let live: TestBallast;
    beforeAll(async () => {
      live = await startTestBallast();
      for (let i = 0; i < 9; i++) await live.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: `p ${i}`, amount: 500 + i } } });
    });
    afterAll(() => live.close());
    const get = async (url: string, method: 'GET' | 'POST' = 'GET') => {
      const r = await live.server.app.inject({ method, url });
      return { status: r.statusCode, body: r.json() as Json };
    };

    it('proves that a decision is in the log unchanged, against a signed checkpoint made on demand, verifiable offline', async () => {
      const listed = await live.runtime.store.decisions.list({ limit: 100 });
      const id = listed[4]!.id;
      const before = await get('/v1/audit/checkpoints');
      expect(before.body.checkpoints).toEqual([]);
      const proof = await get(`/v1/audit/proofs/inclusion/${id}`);
      expect(proof.status).toBe(200);
      const doc = proof.body as InclusionProofDocument;
      const key = live.runtime.ledger.verifierKey;
      expect(doc.leaf.refId).toBe(id);
      // Nine decisions after the start's own audit events (revision 1, its models registered and live).
      const startEvents = await live.runtime.store.audit.list({ limit: 100 });
      expect(startEvents.map((e) => e.action)).toContain('config.applied');
      expect(doc.treeSize).toBe(9 + startEvents.length);
      expect(await live.runtime.store.audit.leafCount()).toBe(doc.treeSize);
      expect(verifyInclusionDocument(doc, key)).toEqual({ ok: true });
      expect((await get('/v1/audit/checkpoints')).body.checkpoints).toHaveLength(1);
      // The leaf's data is the decision's canonical digest record.
      expect(JSON.parse(doc.leaf.data)).toMatchObject({ id, type: 'decision', service: 'loans' });
      // Any change to the document fails, with a reason.
      const changed = { ...doc, leaf: { ...doc.leaf, data: doc.leaf.data.replace('"loans"', '"other"') } };
      expect(verifyInclusionDocument(changed, key).ok).toBe(false);
      const wrongIndex = { ...doc, leaf: { ...doc.leaf, index: doc.leaf.index + 1 } };
      expect(verifyInclusionDocument(wrongIndex, key).ok).toBe(false);
      const middle = [...doc.proof];
      middle[1] = middle[1]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      expect(verifyInclusionDocument({ ...doc, proof: middle }, key).ok).toBe(false);
      expect(verifyInclusionDocument(doc, generateNoteKey('ballast.audit/other').verifierKey).ok).toBe(false);
      // The proof's id must be the one its leaf commits to.
      expect(verifyInclusionDocument({ ...doc, leaf: { ...doc.leaf, refId: 'dec_forged' } }, key)).toMatchObject({ ok: false, reason: expect.stringContaining('not to the decision dec_forged') });
      // A proof made up whole, signed with a key of the forger's own and carrying it, fails with the log's key.
      const forger = generateNoteKey(key.slice(0, key.indexOf('+')));
      const forgedData = doc.leaf.data.replace('"loans"', '"other"');
      const forgedHash = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(forgedData)])).digest();
      const forgedNote = signNote(formatCheckpoint({ origin: key.slice(0, key.indexOf('+')), size: 1, rootHash: forgedHash }), forger.signerKey);
      const forged: InclusionProofDocument = { ...doc, leaf: { ...doc.leaf, index: 0, data: forgedData, hash: forgedHash.toString('hex') }, treeSize: 1, rootHash: forgedHash.toString('hex'), proof: [], checkpoint: forgedNote, verifierKey: forger.verifierKey };
      expect(verifyInclusionDocument(forged, forger.verifierKey)).toEqual({ ok: true });
      expect(verifyInclusionDocument(forged, key).ok).toBe(false);
      expect((await get('/v1/audit/proofs/inclusion/dec_nope')).body.code).toBe('AUDIT_ENTRY_NOT_FOUND');
    });

    it('does not extend a stored frontier that no longer gives its signed root', async () => {
      const before = await get('/v1/audit/checkpoints', 'POST');
      const raw = new Database(path.join(live.dir, 'ballast.db'));
      raw.prepare('UPDATE audit_checkpoints SET frontier = ? WHERE id = ?').run(JSON.stringify({ size: before.body.treeSize, nodes: Array.from({ length: (before.body.treeSize as number).toString(2).replace(/0/g, '').length }, () => '00'.repeat(32)) }), before.body.id);
      raw.close();
      await live.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'after', amount: 900 } } });
      expect((await get('/v1/audit/checkpoints', 'POST')).status).toBe(201);
      expect((await live.runtime.ledger.verify()).problems).toEqual([]);
    });

    it('serves consistency proofs between checkpoints that verify against both signed roots', async () => {
      const first = await get('/v1/audit/checkpoints', 'POST');
      expect(first.status).toBe(201);
      for (let i = 0; i < 6; i++) await live.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: `q ${i}`, amount: 700 + i } } });
      const second = await get('/v1/audit/checkpoints', 'POST');
      expect(second.body.treeSize).toBe(first.body.treeSize + 6);
      const proof = await get(`/v1/audit/proofs/consistency?from=${first.body.treeSize}&to=${second.body.treeSize}`);
      expect(proof.status).toBe(200);
      const rootOf = (note: string) => {
        const opened = openNote(note, [live.runtime.ledger.verifierKey]);
        if (!opened.ok) throw new Error(opened.reason);
        const parsed = parseCheckpoint(opened.value.text);
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.value.rootHash;
      };
      const args = { size1: first.body.treeSize, size2: second.body.treeSize, root1: rootOf(proof.body.fromCheckpoint), root2: rootOf(proof.body.toCheckpoint), proof: (proof.body.proof as string[]).map((h) => Buffer.from(h, 'hex')) };
      expect(verifyConsistency(args)).toBe(true);
      expect(verifyConsistency({ ...args, root1: Buffer.alloc(32) })).toBe(false);
      const bad = await get(`/v1/audit/proofs/consistency?from=0&to=${second.body.treeSize}`);
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('REQUEST_INVALID');
      expect((await get('/v1/audit/proofs/consistency?from=x&to=2')).body.issues[0].pointer).toBe('/from');
    });
  });
});

/** A second, independent SHA-256(0x00 ‖ data) of a leaf. */
function leafHash(data: string): string {
  return createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(data, 'utf8')])).digest('hex');
}
