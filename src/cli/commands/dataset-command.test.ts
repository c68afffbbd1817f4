// The dataset command against the real route on a real SQLite store: fetch is answered by Fastify
// inject. The file written hashes (sha256sum) to the manifest beside it; a body that does not is refused.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { problemContentType, problemOf, toBallastError } from '../../server/problem.js';
import { registerDatasetRoutes } from '../../server/routes/dataset-routes.js';
import { openStore, type Store } from '../../store/index.js';
import { makeDecision, makeFeedback, tempDir } from '../../store/testing/fixtures.js';
import { registerDatasetCommand } from './dataset-command.js';

describe('dataset command', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let app: FastifyInstance;
  let lines: string[];
  let tamper: boolean;
  const urls: string[] = [];

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    app = Fastify();
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      const name = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      request.principal = { principal: name, keyId: `bk_${name}`, role: 'auditor', service: null };
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerDatasetRoutes(app, { store, hasService: (s) => s === 'spam-filter' });
    await app.ready();
    tamper = false;
    urls.length = 0;
    vi.stubGlobal('fetch', async (url: URL, init: { method: string; headers: Record<string, string> }) => {
      urls.push(url.pathname + url.search);
      const res = await app.inject({ method: 'GET', url: url.pathname + url.search, headers: init.headers });
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
      return new Response(tamper ? Buffer.concat([res.rawPayload, Buffer.from('x')]) : res.rawPayload, { status: res.statusCode, headers });
    });
    lines = [];
    const d = makeDecision({ createdAt: '2025-01-31T12:00:00.000Z' });
    await store.decisions.append(d);
    await store.decisions.append(makeDecision({ createdAt: '2025-01-31T13:00:00.000Z' }));
    await store.feedback.append(makeFeedback(d.id, { kind: 'override', value: 'ham', source: 'rev:bo' }));
  });

  afterEach(async () => {
    vi.unstubAllGlobals();
    await app.close();
    await store.close();
    tmp.remove();
  });

  async function run(...args: string[]): Promise<void> {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerDatasetCommand(program, { env: {}, out: (line: string) => lines.push(line) });
    await program.parseAsync(['node', 'ballast', ...args]);
  }

  it('writes the file and its manifest; the manifest digest is the file’s sha256sum', async () => {
    const out = path.join(tmp.dir, 'train.csv');
    await run('dataset', 'export', '-s', 'spam-filter', '--since', '2025-01-31T00:00:00Z', '--until', '2025-02-01T00:00:00Z', '--format', 'csv', '--out', out, '--include-unlabeled', '--api-key', 'audrey');
    expect(urls[0]).toBe('/v1/services/spam-filter/dataset?since=2025-01-31T00%3A00%3A00.000Z&until=2025-02-01T00%3A00%3A00.000Z&format=csv&includeUnlabeled=true');
    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as { sha256: string; rows: number; labels: Record<string, number>; createdBy: string };
    expect(manifest).toMatchObject({ rows: 2, labels: { override: 1, none: 1 }, createdBy: 'audrey' });
    expect(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]).toBe(manifest.sha256);
    expect(lines[0]).toMatch(/^2 rows of spam-filter \[2025-01-31T00:00:00.000Z, 2025-02-01T00:00:00.000Z\) → .*train.csv \(csv, \d+ bytes\)$/);
    expect(lines[1]).toBe('labels: 0 appeal, 1 override, 0 label, 1 none');
  });

  it('removes a file whose bytes do not match the manifest, and names server errors', async () => {
    tamper = true;
    const out = path.join(tmp.dir, 'bad.jsonl');
    await expect(run('dataset', 'export', '-s', 'spam-filter', '--since', '2025-01-31T00:00:00Z', '--until', '2025-02-01T00:00:00Z', '--out', out, '--api-key', 'audrey')).rejects.toMatchObject({ code: 'UPSTREAM_MALFORMED_RESPONSE' });
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.manifest.json`)).toBe(false);
    tamper = false;
    await expect(run('dataset', 'export', '-s', 'nope', '--since', '2025-01-31T00:00:00Z', '--until', '2025-02-01T00:00:00Z', '--out', out, '--api-key', 'audrey')).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    await expect(run('dataset', 'export', '-s', 'spam-filter', '--since', '2025-02-01T00:00:00Z', '--until', '2025-01-31T00:00:00Z', '--out', out, '--api-key', 'audrey')).rejects.toMatchObject({ code: 'REQUEST_INVALID', detail: expect.stringContaining('must be before until') });
    expect(urls).toHaveLength(2);
  });
});
