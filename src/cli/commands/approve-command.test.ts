// The approve, approvals and kill-switch commands against the real routes: fetch is answered by
// Fastify inject, so the commands' requests and their printing are tested without a port.
import { Command } from 'commander';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApprovals, createKillSwitch, resolveGates } from '../../governance/index.js';
import { problemContentType, problemOf, toBallastError } from '../../server/problem.js';
import { registerApprovalRoutes } from '../../server/routes/approval-routes.js';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { registerApproveCommand, registerKillSwitchCommand } from './approve-command.js';

const digest = 'f'.repeat(64);

describe('approve and kill-switch commands', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let app: FastifyInstance;
  let lines: string[];
  const seen: { method: string; url: string; body: unknown }[] = [];

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const gates = resolveGates('medium', undefined);
    if (!gates.ok) throw new Error('gates');
    app = Fastify();
    app.decorateRequest('principal', null);
    // The key is the principal's name here: enough to see who acted.
    app.addHook('onRequest', async (request) => {
      const name = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      request.principal = { principal: name, keyId: `bk_${name}`, role: 'approver', service: null };
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerApprovalRoutes(app, {
      approvals: createApprovals({ store }),
      killSwitch: createKillSwitch({ store }),
      hasService: (s) => s === 'spam-filter',
      versionInfo: (s, v) => (s === 'spam-filter' && v === 'v2' ? { digest, author: 'alice' } : undefined),
      currentRevision: () => 2,
      gateInputs: () => ({ risk: 'medium', gates: gates.value, version: { name: 'v2', digest, author: 'alice' }, revision: 2 }),
    });
    await app.ready();
    seen.length = 0;
    vi.stubGlobal('fetch', async (url: URL, init: { method: string; headers: Record<string, string>; body?: string }) => {
      seen.push({ method: init.method, url: url.pathname, body: init.body === undefined ? undefined : JSON.parse(init.body) });
      const res = await app.inject({ method: init.method as 'GET', url: url.pathname, headers: init.headers, ...(init.body === undefined ? {} : { payload: init.body }) });
      return new Response(res.body, { status: res.statusCode, headers: { 'content-type': String(res.headers['content-type']) } });
    });
    lines = [];
  });

  afterEach(async () => {
    vi.unstubAllGlobals();
    await app.close();
    await store.close();
    tmp.remove();
  });

  async function run(...args: string[]): Promise<void> {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    const ctx = { env: {}, out: (line: string) => lines.push(line) };
    registerApproveCommand(program, ctx);
    registerKillSwitchCommand(program, ctx);
    await program.parseAsync(['node', 'ballast', ...args]);
  }

  it('approves and refuses through the API, and shows the gate', async () => {
    await run('approve', '-s', 'spam-filter', '--version', 'v2', '--reason', 'eval fine', '--api-key', 'bo');
    expect(seen[0]).toEqual({ method: 'POST', url: '/v1/services/spam-filter/models/v2/approvals', body: { decision: 'approve', reason: 'eval fine' } });
    expect(lines[0]).toBe('approved spam-filter/v2 (digest ffffffffffff, revision 2); approvals that count: 1, refusals: 0');
    await run('approve', '-s', 'spam-filter', '--version', 'v2', '--reason', 'wait', '--refuse', '--api-key', 'cy');
    expect(seen[1]!.body).toEqual({ decision: 'refuse', reason: 'wait' });
    lines = [];
    await run('approvals', '-s', 'spam-filter', '--version', 'v2', '--api-key', 'bo');
    expect(lines[1]).toBe('gate: not met');
    expect(lines.some((l) => l.includes('FAIL') && l.includes('refusals') && l.includes('cy'))).toBe(true);
    expect(lines.filter((l) => l.includes('revision 2, digest')).length).toBe(2);
    await expect(run('approve', '-s', 'spam-filter', '--version', 'v2', '--reason', 'mine', '--api-key', 'alice')).rejects.toMatchObject({ code: 'APPROVAL_NOT_ALLOWED' });
  });

  it('engages, shows and releases the kill switch', async () => {
    await run('kill-switch', '-s', 'spam-filter', '--engage', '--reason', 'incident', '--api-key', 'ana');
    expect(seen[0]).toEqual({ method: 'POST', url: '/v1/services/spam-filter/kill-switch', body: { engaged: true, reason: 'incident' } });
    await run('kill-switch', '-s', 'spam-filter', '--engage', '--reason', 'again', '--api-key', 'ana');
    await run('kill-switch', '-s', 'spam-filter', '--api-key', 'ana');
    await run('kill-switch', '-s', 'spam-filter', '--release', '--reason', 'over', '--api-key', 'ana');
    expect(lines[0]).toBe('spam-filter: kill switch engaged');
    expect(lines[1]).toBe('spam-filter: kill switch already engaged; nothing changed');
    expect(lines[2]).toMatch(/^spam-filter: kill switch ENGAGED since \S+ by ana: incident$/);
    expect(lines[3]).toBe('spam-filter: kill switch released');
    await expect(run('kill-switch', '-s', 'spam-filter', '--engage', '--api-key', 'ana')).rejects.toThrow();
    expect(seen).toHaveLength(4);
  });
});
