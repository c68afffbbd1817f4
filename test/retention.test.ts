// Retention end to end over a real SQLite file: legal holds, erasure of one data subject, purges of
// raw inputs past a service's term. The purged values leave the database file and its WAL byte for
// byte, their digests stay so the Merkle log still verifies and still proves, and every step is an
// audit event.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInclusionDocument, type InclusionProofDocument } from '../src/governance/index.js';
import { startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
type Json = any;

const marker = (i: number) => `RETAINMARKER-${i}-c0ffee`;

describe('retention', () => {
  let t: TestBallast;
  const ids: string[] = [];
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: Json }> => {
    const r = await t.server.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    return { status: r.statusCode, body: r.json() };
  };
  const fileHas = (text: string) => {
    const db = path.join(t.dir, 'ballast.db');
    return [db, `${db}-wal`].filter(existsSync).some((f) => readFileSync(f).includes(Buffer.from(text)));
  };

  beforeAll(async () => {
    t = await startTestBallast(testConfigYaml().replace('    live: v1\n', '    live: v1\n    retention: { inputs: 1s }\n'));
    for (let i = 0; i < 6; i++) {
      const made = await call('POST', '/v1/services/loans/decisions', { input: { text: `loan ${marker(i)}`, amount: 1000 + i }, context: { note: marker(i) }, ...(i < 3 ? { subjectKey: 'subject-A' } : {}) });
      expect(made.status).toBe(200);
      ids.push(made.body.id);
    }
  });
  afterAll(() => t.close());

  it('holds, erases one subject, purges past the term, and keeps the log verifiable', async () => {
    expect(fileHas(marker(0))).toBe(true); // the raw input is stored until purged
    // A hold on decision 0 (of subject A) and one on nothing valid.
    const hold = await call('POST', '/v1/retention/holds', { decisionId: ids[0], reason: 'case 2026-114' });
    expect(hold.status).toBe(201);
    expect((await call('POST', '/v1/retention/holds', { reason: 'x' })).body.code).toBe('REQUEST_INVALID');
    expect((await call('POST', '/v1/retention/holds', { service: 'nope', reason: 'x' })).body.code).toBe('SERVICE_NOT_FOUND');

    // Erasure of subject A: decisions 1 and 2 now, 0 is held.
    const erased = await call('POST', '/v1/subjects/erase', { subjectKey: 'subject-A' });
    expect(erased.status).toBe(200);
    expect(erased.body.erased).toBe(2);
    expect(erased.body.subjectHash).toMatch(/^hmac-sha256:/);
    for (const i of [1, 2]) {
      const raw = await call('GET', `/v1/decisions/${ids[i]}?view=raw`);
      expect(raw.body.input ?? null).toBeNull();
      expect(raw.body.context ?? null).toBeNull();
      expect(fileHas(marker(i))).toBe(false);
    }
    expect((await call('GET', `/v1/decisions/${ids[0]}?view=raw`)).body.input.text).toContain(marker(0));

    // Nothing is past the 1 s term yet; then everything but the held one is.
    expect((await call('POST', '/v1/retention/purge')).body.services).toEqual([expect.objectContaining({ service: 'loans', purged: 0 })]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call('POST', '/v1/retention/purge')).body.services[0].purged).toBe(3);
    for (const i of [3, 4, 5]) expect(fileHas(marker(i))).toBe(false);
    expect(fileHas(marker(0))).toBe(true);
    expect((await call('POST', '/v1/retention/purge')).body.services[0].purged).toBe(0); // idempotent

    // Released, the held one goes at the next purge.
    const released = await call('POST', `/v1/retention/holds/${hold.body.id}/release`);
    expect(released.body.releasedAt).not.toBeNull();
    expect((await call('POST', `/v1/retention/holds/${hold.body.id}/release`)).body.code).toBe('HOLD_NOT_FOUND');
    expect((await call('POST', '/v1/retention/purge')).body.services[0].purged).toBe(1);
    expect(fileHas(marker(0))).toBe(false);

    // Every step is audited, with the decisions it touched.
    const events = (await call('GET', '/v1/audit/events?limit=1000')).body.events as Json[];
    const of = (action: string) => events.filter((e) => e.action === action);
    expect(of('hold.placed')).toHaveLength(1);
    expect(of('hold.released')).toHaveLength(1);
    expect(of('subject.erased').flatMap((e) => e.after.decisions).sort()).toEqual([ids[1], ids[2]].sort());
    expect(of('retention.purged').flatMap((e) => e.after.decisions).sort()).toEqual([ids[0], ids[3], ids[4], ids[5]].sort());
    expect(JSON.stringify(events)).not.toContain('subject-A');

    // The log still verifies, and a purged decision still proves.
    const verification = await t.runtime.ledger.verify();
    expect(verification.problems).toEqual([]);
    const proof = (await call('GET', `/v1/audit/proofs/inclusion/${ids[4]}`)).body as InclusionProofDocument;
    expect(verifyInclusionDocument(proof, t.runtime.ledger.verifierKey)).toEqual({ ok: true });
  });

  it('refuses an erasure without a subject key', async () => {
    const r = await call('POST', '/v1/subjects/erase', {});
    expect(r.status).toBe(400);
    expect(r.body.issues[0].pointer).toBe('/subjectKey');
  });

  describe('whole decisions past retention.decisions', () => {
    let w: TestBallast;
    beforeAll(async () => {
      w = await startTestBallast(testConfigYaml().replace('    live: v1\n', '    live: v1\n    retention: { decisions: 1s }\n'));
    });
    afterAll(() => w.close());

    it('are deleted with their feedback, except held ones; their leaves stay and the log verifies', async () => {
      const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
        const r = await w.server.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
        return { status: r.statusCode, body: r.json() as Json };
      };
      const made: string[] = [];
      for (let i = 0; i < 3; i++) made.push((await inject('POST', '/v1/services/loans/decisions', { input: { text: `old ${marker(10 + i)}`, amount: 500 + i } })).body.id);
      const fb = await inject('POST', `/v1/decisions/${made[0]}/feedback`, { kind: 'label', value: { label: 'approve' } });
      expect(fb.status).toBe(201);
      expect((await inject('POST', '/v1/retention/holds', { decisionId: made[2], reason: 'dispute' })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const report = (await inject('POST', '/v1/retention/purge')).body.services[0];
      expect(report).toMatchObject({ service: 'loans', deleted: 2, purged: 0, scrubbed: true });
      expect((await inject('GET', `/v1/decisions/${made[0]}`)).status).toBe(404);
      expect((await inject('GET', `/v1/decisions/${made[2]}`)).status).toBe(200);
      const db = path.join(w.dir, 'ballast.db');
      for (const i of [10, 11]) expect([db, `${db}-wal`].filter(existsSync).some((f) => readFileSync(f).includes(Buffer.from(marker(i))))).toBe(false);
      const events = (await inject('GET', '/v1/audit/events?action=retention.deleted')).body.events as Json[];
      expect(events).toHaveLength(1);
      expect(events[0].after.decisions.sort()).toEqual([made[0], made[1]].sort());
      expect(events[0].after.feedback).toEqual([fb.body.id]);
      expect((await w.runtime.ledger.verify()).problems).toEqual([]);
      expect((await inject('GET', `/v1/audit/proofs/inclusion/${made[0]}`)).body.code).toBe('AUDIT_ENTRY_NOT_FOUND');
      // A decision deleted behind Ballast's back is still caught.
      const raw = new Database(db);
      raw.prepare('DELETE FROM decisions WHERE id = ?').run(made[2]);
      raw.close();
      expect((await w.runtime.ledger.verify()).problems.map((p) => p.kind)).toEqual(['missing_row']);
    });
  });
});
