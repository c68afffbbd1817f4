// The approval and kill-switch routes through Fastify inject, on a real SQLite store: the author is
// refused with 403, a new revision resets the approvals the gate counts, the kill switch is idempotent.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApprovals, createKillSwitch, resolveGates, type KillSwitch, type ResolvedGates } from '../../governance/index.js';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { problemContentType, problemOf, toBallastError } from '../problem.js';
import { registerApprovalRoutes } from './approval-routes.js';

const digest = 'c'.repeat(64);

describe('approval routes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let app: FastifyInstance;
  let revision: number;
  let killSwitch: KillSwitch;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    revision = 5;
    killSwitch = createKillSwitch({ store });
    const gates = resolveGates('medium', undefined);
    if (!gates.ok) throw new Error('gates');
    const medium: ResolvedGates = gates.value;
    app = Fastify();
    // Stands in for the auth hook: the principal named by a test header.
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      const name = request.headers['x-principal'];
      request.principal = typeof name === 'string' ? { principal: name, keyId: `bk_${name}`, role: 'approver', service: null } : null;
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerApprovalRoutes(app, {
      approvals: createApprovals({ store }),
      killSwitch,
      hasService: (s) => s === 'spam-filter',
      versionInfo: (s, v) => (s === 'spam-filter' && v === 'v2' ? { digest, author: 'alice' } : undefined),
      currentRevision: () => revision,
      gateInputs: (s, v) => (s === 'spam-filter' && v === 'v2' ? { risk: 'medium', gates: medium, version: { name: 'v2', digest, author: 'alice' }, revision, lastAnalysis: { verdict: 'pass', at: '2026-12-07T05:00:00.000Z', rolloutId: 'rol_1' } } : undefined),
    });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await store.close();
    tmp.remove();
  });

  const decide = (principal: string, body: unknown) => app.inject({ method: 'POST', url: '/v1/services/spam-filter/models/v2/approvals', headers: { 'x-principal': principal }, payload: body as object });
  const status = async () => (await app.inject({ method: 'GET', url: '/v1/services/spam-filter/models/v2/approvals' })).json();

  it('keeps an approval, refuses the author and a repeat, and the gate counts it', async () => {
    expect((await status()).gate.ok).toBe(false);
    const author = await decide('alice', { decision: 'approve', reason: 'mine' });
    expect(author.statusCode).toBe(403);
    expect(author.json()).toMatchObject({ code: 'APPROVAL_NOT_ALLOWED' });
    const ok = await decide('bo', { decision: 'approve', reason: 'eval fine' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().approval).toMatchObject({ principal: 'bo', digest, revision: 5, decision: 'approve' });
    expect((await decide('bo', { decision: 'approve', reason: 'again' })).statusCode).toBe(403);
    const shown = await status();
    expect(shown).toMatchObject({ digest, author: 'alice', revision: 5, gate: { ok: true } });
    expect(shown.valid.approvals.map((a: { principal: string }) => a.principal)).toEqual(['bo']);
    const events = await store.audit.list({ limit: 10 });
    expect(events.find((e) => e.action === 'approval.granted')).toMatchObject({ actor: { principal: 'bo', keyId: 'bk_bo' } });
  });

  it('a new revision resets the approvals the gate counts, the history keeps them', async () => {
    await decide('bo', { decision: 'approve', reason: 'eval fine' });
    revision = 6;
    const shown = await status();
    expect(shown.valid).toEqual({ approvals: [], refusals: [] });
    expect(shown.history).toHaveLength(1);
    expect(shown.gate.ok).toBe(false);
    expect(shown.gate.issues.map((i: { pointer: string }) => i.pointer)).toEqual(['/gates/approvals']);
  });

  it('answers 400 with pointers for a bad body and 404 for an unknown version', async () => {
    const bad = await decide('bo', { decision: 'maybe', reason: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues).toEqual([expect.objectContaining({ pointer: '/decision' })]);
    expect((await decide('bo', { decision: 'approve' })).json().issues).toEqual([expect.objectContaining({ pointer: '/reason' })]);
    expect((await decide('bo', { decision: 'approve', reason: 'x', extra: 1 })).json().issues).toEqual([expect.objectContaining({ pointer: '/extra' })]);
    const unknown = await app.inject({ method: 'POST', url: '/v1/services/spam-filter/models/v9/approvals', headers: { 'x-principal': 'bo' }, payload: { decision: 'approve', reason: 'x' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('VERSION_NOT_FOUND');
  });

  it('engages and releases the kill switch, idempotently, and shows it with its history', async () => {
    const post = (body: unknown) => app.inject({ method: 'POST', url: '/v1/services/spam-filter/kill-switch', headers: { 'x-principal': 'ana' }, payload: body as object });
    const first = await post({ engaged: true, reason: 'incident 42' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ changed: true, state: { engaged: true, reason: 'incident 42', actor: 'ana' } });
    expect(killSwitch.engaged('spam-filter')).toMatchObject({ reason: 'incident 42' });
    expect((await post({ engaged: true, reason: 'again' })).json()).toMatchObject({ changed: false, state: { reason: 'incident 42' } });
    expect((await post({ engaged: 'yes', reason: 'x' })).statusCode).toBe(400);
    expect((await post({ engaged: false, reason: 'over' })).json()).toMatchObject({ changed: true, state: { engaged: false } });
    const shown = (await app.inject({ method: 'GET', url: '/v1/services/spam-filter/kill-switch' })).json();
    expect(shown).toMatchObject({ service: 'spam-filter', engaged: false, reason: 'over' });
    expect(shown.history.map((h: { engaged: boolean }) => h.engaged)).toEqual([true, false]);
    expect((await app.inject({ method: 'GET', url: '/v1/services/nope/kill-switch' })).statusCode).toBe(404);
  });
});
