// The models command against the real registry routes: fetch is answered by Fastify inject, so the
// requests the command sends and what it prints are tested without a port.
import { Command } from 'commander';
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createModelRegistry, type ModelRegistry } from '../../governance/index.js';
import { problemContentType, problemOf, toBallastError } from '../../server/problem.js';
import { registerModelRoutes } from '../../server/routes/model-routes.js';
import { openStore, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { registerModelsCommand } from './models-command.js';

describe('models command', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let registry: ModelRegistry;
  let app: FastifyInstance;
  let lines: string[];
  let clock: number;
  const seen: { method: string; url: string; body: unknown }[] = [];

  beforeEach(async () => {
    tmp = tempDir();
    writeFileSync(path.join(tmp.dir, 'weights.bin'), 'w1');
    writeFileSync(path.join(tmp.dir, 'v2.yaml'), 'name: v2\ndescription: trained on weeks 1-4\nadapter: { kind: http, url: "http://m" }\nartifacts:\n  - { name: weights, path: weights.bin }\n  - { name: vocab, url: "https://models.example/vocab.txt" }\nevaluation: { metrics: { accuracy: 0.91 } }\ncard: { intendedUse: spam triage }\n');
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
    clock = Date.UTC(2026, 11, 7, 6, 0);
    registry = createModelRegistry({ store, now: () => clock });
    app = Fastify();
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      const name = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      request.principal = { principal: name, keyId: `bk_${name}`, role: 'operator', service: null };
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerModelRoutes(app, { registry, baseDir: tmp.dir, hasService: (s) => s === 'spam-filter' });
    await app.ready();
    seen.length = 0;
    vi.stubGlobal('fetch', async (url: URL, init: { method: string; headers: Record<string, string>; body?: string }) => {
      seen.push({ method: init.method, url: url.pathname + url.search, body: init.body === undefined ? undefined : JSON.parse(init.body) });
      const res = await app.inject({ method: init.method as 'GET', url: url.pathname + url.search, headers: init.headers, ...(init.body === undefined ? {} : { payload: init.body }) });
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
    registerModelsCommand(program, { env: {}, out: (line: string) => lines.push(line) });
    await program.parseAsync(['node', 'ballast', ...args]);
  }

  it('registers from a file, then lists, shows and gives the history', async () => {
    await run('models', 'register', '-s', 'spam-filter', '-f', path.join(tmp.dir, 'v2.yaml'), '--reason', 'weeks 1-4', '--api-key', 'ana');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/services/spam-filter/models', body: { name: 'v2', reason: 'weeks 1-4', spec: { adapter: { kind: 'http' }, description: 'trained on weeks 1-4' } } });
    expect((seen[0]!.body as { spec: Record<string, unknown> }).spec.name).toBeUndefined();
    expect(lines[0]).toMatch(/^registered spam-filter\/v2 sha256:[0-9a-f]{64}$/);
    expect(lines[1]).toBe('unverified (a url without sha256): /artifacts/1');
    await run('models', 'register', '-s', 'spam-filter', '-f', path.join(tmp.dir, 'v2.yaml'), '--api-key', 'bo');
    expect(lines[2]).toContain('was already registered with this spec');

    clock += 60_000;
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'rollout', rolloutId: 'rol_1', revision: 4 }, { actor: { principal: 'bo', keyId: null, role: 'operator' } });
    lines = [];
    await run('models', 'list', '-s', 'spam-filter', '--api-key', 'ana');
    expect(lines).toEqual([expect.stringMatching(/^v2 +canary +since 2026-12-07T06:01:00.000Z {2}[0-9a-f]{12} {2}by ana {2}trained on weeks 1-4$/)]);
    lines = [];
    await run('models', 'show', '-s', 'spam-filter', '--version', 'v2', '--api-key', 'ana');
    expect(lines).toContain('artifact    vocab: https://models.example/vocab.txt (unverified)');
    expect(lines).toContain('evaluation  accuracy 0.91');
    expect(lines).toContain('card        intendedUse: spam triage');
    expect(lines.at(-1)).toBe('  2026-12-07T06:01:00.000Z  v2           registered  → canary      by bo: rollout (rollout rol_1, revision 4)');
    lines = [];
    await run('models', 'history', '-s', 'spam-filter', '--api-key', 'ana', '--json');
    expect((JSON.parse(lines.join('\n')) as { transitions: { to: string }[] }).transitions.map((t) => t.to)).toEqual(['registered', 'canary']);
  });

  it('answers served-at, and refuses a file without a name', async () => {
    await run('models', 'register', '-s', 'spam-filter', '-f', path.join(tmp.dir, 'v2.yaml'), '--api-key', 'ana');
    clock += 60_000;
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'live', reason: 'first' }, { actor: { principal: 'ana', keyId: null, role: 'operator' } });
    lines = [];
    await run('models', 'served', '-s', 'spam-filter', '--at', '2026-12-07T06:00:30Z', '--api-key', 'ana');
    await run('models', 'served', '-s', 'spam-filter', '--at', '2026-12-07T06:05:00Z', '--api-key', 'ana');
    expect(seen.at(-1)!.url).toBe('/v1/services/spam-filter/served?at=2026-12-07T06%3A05%3A00Z');
    expect(lines).toEqual(['spam-filter at 2026-12-07T06:00:30.000Z:', '  no registered version was serving', 'spam-filter at 2026-12-07T06:05:00.000Z:', '  v2               live    since 2026-12-07T06:01:00.000Z']);
    writeFileSync(path.join(tmp.dir, 'anon.yaml'), 'adapter: { kind: http, url: "http://m" }\n');
    await expect(run('models', 'register', '-s', 'spam-filter', '-f', path.join(tmp.dir, 'anon.yaml'), '--api-key', 'ana')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });
});
