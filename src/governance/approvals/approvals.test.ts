// Approvals on a real SQLite store: the author and repeated decisions are refused, a change of digest or
// revision resets what counts, a refusal blocks until its principal approves, each decision is audited.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Actor, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { createApprovals, createGateCheck, type Approvals } from './approvals.js';
import { evaluateGate } from './gate.js';
import { resolveGates } from './gates-config.js';

const actor = (principal: string): Actor => ({ principal, keyId: `bk_${principal}`, role: 'approver' });
const v2 = { service: 'spam-filter', version: 'v2', digest: 'a'.repeat(64), revision: 3, author: 'alice' };

describe('approvals', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let approvals: Approvals;
  let clock: number;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    clock = Date.UTC(2026, 11, 7, 6, 0);
    // Each decision a millisecond after the last, so "latest" is never a tie.
    approvals = createApprovals({ store, now: () => ++clock });
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('refuses the author, approve or refuse', async () => {
    for (const decision of ['approve', 'refuse'] as const) {
      await expect(approvals.decide(v2, { actor: actor('alice'), decision, reason: 'mine' })).rejects.toMatchObject({ code: 'APPROVAL_NOT_ALLOWED' });
    }
    expect(await approvals.history(v2)).toEqual([]);
  });

  it('refuses a repeated decision and an empty reason, allows a changed mind', async () => {
    await approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'eval looks fine' });
    await expect(approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'again' })).rejects.toMatchObject({ code: 'APPROVAL_NOT_ALLOWED' });
    await expect(approvals.decide(v2, { actor: actor('cy'), decision: 'approve', reason: '  ' })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await approvals.decide(v2, { actor: actor('bo'), decision: 'refuse', reason: 'saw the German subgroup' });
    const valid = await approvals.valid(v2);
    expect(valid.approvals).toEqual([]);
    expect(valid.refusals.map((r) => [r.principal, r.reason])).toEqual([['bo', 'saw the German subgroup']]);
    expect((await approvals.history(v2)).length).toBe(2);
  });

  it('audits every decision with its actor, in the store', async () => {
    const granted = await approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'ok', requestId: 'req-1' });
    await approvals.decide(v2, { actor: actor('cy'), decision: 'refuse', reason: 'no' });
    const events = await store.audit.list({ limit: 10 });
    const mine = events.filter((e) => e.action.startsWith('approval.'));
    expect(mine.map((e) => [e.action, e.actor.principal, e.resource.id]).sort()).toEqual([
      ['approval.granted', 'bo', 'spam-filter/v2'],
      ['approval.refused', 'cy', 'spam-filter/v2'],
    ]);
    const event = mine.find((e) => e.action === 'approval.granted')!;
    expect(event).toMatchObject({ actor: actor('bo'), requestId: 'req-1', detail: 'ok', service: 'spam-filter', after: granted });
  });

  it('resets on a new digest and on a new revision', async () => {
    await approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'ok' });
    await approvals.decide(v2, { actor: actor('cy'), decision: 'refuse', reason: 'no' });
    expect((await approvals.valid(v2)).approvals.map((a) => a.principal)).toEqual(['bo']);
    expect(await approvals.valid({ ...v2, digest: 'b'.repeat(64) })).toEqual({ approvals: [], refusals: [] });
    expect(await approvals.valid({ ...v2, revision: 4 })).toEqual({ approvals: [], refusals: [] });
    // bo may approve again on the new revision: it is a new decision.
    await approvals.decide({ ...v2, revision: 4 }, { actor: actor('bo'), decision: 'approve', reason: 'still ok' });
    expect((await approvals.valid({ ...v2, revision: 4 })).approvals.map((a) => a.revision)).toEqual([4]);
  });

  it('createGateCheck reads the approvals for the digest and revision the caller gives', async () => {
    const gates = resolveGates('medium', undefined);
    if (!gates.ok) throw new Error('gates');
    let revision = 3;
    const check = createGateCheck(approvals, (service, version) =>
      service === 'spam-filter' && version === 'v2' ? { risk: 'medium', gates: gates.value, version: { name: 'v2', digest: v2.digest, author: 'alice' }, revision, lastAnalysis: { verdict: 'pass', at: '2026-12-07T05:00:00.000Z', rolloutId: 'rol_1' } } : undefined,
    );
    expect((await check('spam-filter', 'v2')).ok).toBe(false);
    await approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'ok' });
    expect((await check('spam-filter', 'v2')).ok).toBe(true);
    revision = 4;
    expect((await check('spam-filter', 'v2')).issues.map((i) => i.code)).toEqual(['approvals']);
    await expect(check('spam-filter', 'v9')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('a refusal blocks a high-risk promotion until its principal approves', async () => {
    const gates = resolveGates('high', undefined);
    if (!gates.ok) throw new Error('gates');
    const gate = async () => evaluateGate({ risk: 'high', gates: gates.value, version: { name: 'v2', digest: v2.digest, author: 'alice' }, revision: v2.revision, lastAnalysis: { verdict: 'pass', at: '2026-12-07T05:00:00.000Z', rolloutId: 'rol_1' }, approvals: await approvals.valid(v2) });
    await approvals.decide(v2, { actor: actor('bo'), decision: 'approve', reason: 'ok' });
    expect((await gate()).ok).toBe(false);
    await approvals.decide(v2, { actor: actor('cy'), decision: 'approve', reason: 'ok' });
    expect((await gate()).ok).toBe(true);
    await approvals.decide(v2, { actor: actor('dee'), decision: 'refuse', reason: 'wait for the audit' });
    expect((await gate()).issues.map((i) => i.code)).toEqual(['refusals']);
    await approvals.decide(v2, { actor: actor('dee'), decision: 'approve', reason: 'audit done' });
    expect((await gate()).ok).toBe(true);
  });
});
