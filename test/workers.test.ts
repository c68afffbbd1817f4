// `ballast serve --workers 2` end to end, on the built dist/ (run `npm run build` first), over real
// HTTP on loopback: both workers answer decisions; what they do not answer reaches the primary; a key
// revoked through one process is refused by every worker at once; a new revision, a forced breaker
// reach every worker; a worker killed with SIGKILL under load loses no acknowledged decision and is
// replaced; SIGTERM drains the workers and the primary and exits 0 with every answer in the log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { startCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-workers-'));
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
  rmSync(dir, { recursive: true, force: true });
});

// A fresh connection per request (no keep-alive), so that the primary hands each to the next worker in turn.
const fresh = new Agent({ pipelining: 0 });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
async function call(base: string, method: 'GET' | 'POST', url: string, key: string, body?: unknown, dispatcher?: Agent): Promise<{ status: number; json: any }> {
  const r = await request(base + url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...(dispatcher === undefined ? {} : { dispatcher }),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** The decision workers of a primary: its child processes. */
function workersOf(primary: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** User + system CPU time of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const input = (i: number) => ({ input: { text: i % 4 === 0 ? 'bad loan' : 'good loan please', amount: 100 + i, country: 'DE' } });

it('serves decisions on two workers over one store, shares keys, revisions and breakers, and loses nothing', { timeout: 120_000 }, async () => {
  const config = path.join(dir, 'ballast.yaml');
  writeFileSync(config, testConfigYaml());
  const data = path.join(dir, 'data');
  const server = await startCli(['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'warn', '--workers', '2'], /serving loans on (http:\/\/127\.0\.0\.1:\d+) with 2 decision workers/);
  cleanups.push(() => server.child.kill('SIGKILL'));
  const base = server.match[1]!;
  const admin = /^ {2}(bk_\S+)$/m.exec(server.output())![1]!;
  const primary = server.child.pid!;
  const workers = workersOf(primary);
  expect(workers).toHaveLength(2);
  const acked = new Set<string>();

  // Both workers answer: each one's CPU time grows while 200 decisions come in on fresh connections.
  const before = workers.map(cpuTicks);
  for (let round = 0; round < 20; round++) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(base, 'POST', '/v1/services/loans/decisions', admin, input(round * 10 + i), fresh)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      acked.add(a.json.id);
    }
  }
  const after = workers.map(cpuTicks);
  expect(after[0]! - before[0]!).toBeGreaterThan(0);
  expect(after[1]! - before[1]!).toBeGreaterThan(0);

  // /metrics (served by the primary) adds up every worker's counters: 200 decisions, whichever worker made them.
  const metrics = await call(base, 'GET', '/metrics', admin);
  expect(metrics.status).toBe(200);
  const counted = [...String(metrics.json).matchAll(/^ballast_decisions_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  expect(counted).toBe(200);

  // What a worker does not answer goes to the primary: reading a decision back, feedback, the key routes.
  const one = [...acked][0]!;
  const read = await call(base, 'GET', `/v1/decisions/${one}`, admin);
  expect(read.status).toBe(200);
  expect(read.json.id).toBe(one);
  expect((await call(base, 'POST', `/v1/decisions/${one}/feedback`, admin, { kind: 'label', value: { label: 'approve' } })).status).toBe(201);
  expect((await call(base, 'GET', '/v1/services/loans/decisions', admin)).status).toBe(405);

  // A key made and revoked through the primary: every worker takes it at once, then refuses it at once.
  const made = await call(base, 'POST', '/v1/keys', admin, { principal: 'scorer', role: 'decider', service: 'loans', kind: 'workload' });
  expect(made.status).toBe(201);
  const key = made.json.token as string;
  for (let i = 0; i < 6; i++) expect((await call(base, 'POST', '/v1/services/loans/decisions', key, input(i), fresh)).status).toBe(200);
  const viewer = await call(base, 'POST', '/v1/keys', admin, { principal: 'ana', role: 'viewer' });
  expect((await call(base, 'POST', '/v1/services/loans/decisions', viewer.json.token as string, input(1), fresh)).json.code).toBe('AUTH_FORBIDDEN');
  expect((await call(base, 'POST', `/v1/keys/${made.json.id}/revoke`, admin, {})).status).toBe(200);
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 6; i++) expect((await call(base, 'POST', '/v1/services/loans/decisions', key, input(i), fresh)).json.code).toBe('AUTH_INVALID_KEY');

  // A new revision applied through the API: within moments every worker decides under it.
  const next = testConfigYaml({ extraRules: "        - { name: unlucky, stage: pre, when: 'input.amount == 777.0', action: reject, reason: 'Unlucky amount' }\n" });
  const applied = await call(base, 'POST', '/v1/config', admin, { config: next, reason: 'a new rule' });
  expect(applied.status).toBe(200);
  const revision = applied.json.revision as number;
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 6; i++) {
    const d = await call(base, 'POST', '/v1/services/loans/decisions', admin, { input: { text: 'good loan please', amount: 777, country: 'DE' } }, fresh);
    expect(d.status).toBe(200);
    acked.add(d.json.id);
    expect(d.json.explanation.revision).toBe(revision);
    expect(d.json.outcome).toBe('rejected');
  }

  // An operator forces the breaker open through the primary: no worker calls the model; closed again, all do.
  expect((await call(base, 'POST', '/v1/services/loans/breakers/v1/open', admin, { reason: 'drill' })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 6; i++) {
    const d = await call(base, 'POST', '/v1/services/loans/decisions', admin, input(i), fresh);
    expect(d.status).toBe(200);
    acked.add(d.json.id);
    expect(JSON.stringify(d.json.explanation)).toContain('CIRCUIT_OPEN');
  }
  expect((await call(base, 'POST', '/v1/services/loans/breakers/v1/close', admin, { reason: 'drill over' })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 6; i++) {
    const d = await call(base, 'POST', '/v1/services/loans/decisions', admin, input(i), fresh);
    acked.add(d.json.id);
    expect(JSON.stringify(d.json.explanation)).not.toContain('CIRCUIT_OPEN');
  }

  // SIGKILL one worker while 8 clients send decisions: the others go on, the primary starts another.
  const stop = { now: false };
  let failures = 0;
  const client = async () => {
    while (!stop.now) {
      try {
        const d = await call(base, 'POST', '/v1/services/loans/decisions', admin, input(acked.size));
        if (d.status === 200) acked.add(d.json.id);
        else failures++;
      } catch {
        failures++; // the connection died with the worker
      }
    }
  };
  const clients = Promise.all(Array.from({ length: 8 }, client));
  await new Promise((r) => setTimeout(r, 400));
  process.kill(workers[0]!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 2500));
  stop.now = true;
  await clients;
  const replaced = workersOf(primary);
  expect(replaced).toHaveLength(2);
  expect(replaced).not.toContain(workers[0]);
  expect(failures).toBeLessThan(acked.size);
  for (let i = 0; i < 6; i++) {
    const d = await call(base, 'POST', '/v1/services/loans/decisions', admin, input(i), fresh);
    expect(d.status).toBe(200);
    acked.add(d.json.id);
  }

  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  expect(workersOf(primary)).toEqual([]);

  // Every acknowledged decision is in the log, once.
  const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
  try {
    const stored = new Set<string>();
    let afterId: string | undefined;
    for (;;) {
      const page = await store.decisions.list({ service: 'loans', limit: 1000, ...(afterId === undefined ? {} : { after: afterId }) });
      for (const d of page) stored.add(d.id);
      if (page.length < 1000) break;
      afterId = page.at(-1)!.id;
    }
    expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
    expect(acked.size).toBeGreaterThan(230);
  } finally {
    await store.close();
  }
});

it("opens every worker's error breaker on the calls of all of them, not only its own", { timeout: 60_000 }, async () => {
  // A model server that is not there: every call fails at once (connection refused).
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const config = path.join(dir, 'breaker.yaml');
  writeFileSync(
    config,
    `version: 1
services:
  scorer:
    contract:
      input: { schema: { type: object, required: [amount], properties: { amount: { type: number } } } }
      output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
    policy: { thresholds: { auto: 0.9 } }
    models:
      v1: { adapter: { kind: http, url: 'http://127.0.0.1:${deadPort}/' } }
    live: v1
    resilience:
      retry: { attempts: 1 }
      breaker: { window: { calls: 100 }, minimumCalls: 10, failureRate: 0.5, openMs: 60000 }
`,
  );
  const server = await startCli(['serve', '--config', config, '--port', '0', '--data-dir', path.join(dir, 'breaker-data'), '--log-level', 'warn', '--workers', '2', '--insecure-no-auth'], /serving scorer on (http:\/\/127\.0\.0\.1:\d+)/);
  cleanups.push(() => server.child.kill('SIGKILL'));
  const base = server.match[1]!;
  const explain = async () => JSON.stringify((await call(base, 'POST', '/v1/services/scorer/decisions', 'none', { input: { amount: 1 } }, fresh)).json);
  // 12 failed calls, about 6 on each worker (fresh connections go to the workers in turn): fewer than 10 each. No
  // breaker can open before the 10th call in all; after it, one may already have heard of the other's.
  for (let i = 0; i < 9; i++) expect(await explain()).not.toContain('CIRCUIT_OPEN');
  for (let i = 0; i < 3; i++) await explain();
  await new Promise((r) => setTimeout(r, 400));
  // Each worker has counted the other's calls too: 12 ≥ 10, all failed, so both are open.
  for (let i = 0; i < 6; i++) expect(await explain()).toContain('CIRCUIT_OPEN');
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

it('drains on a Ctrl-C to the whole process group: every worker finishes what it holds, exit 0, nothing answered lost', { timeout: 60_000 }, async () => {
  const config = path.join(dir, 'sigint.yaml');
  // The config's limits hold in the workers too.
  writeFileSync(config, testConfigYaml({ limits: 'limits: { maxStringLength: 1000 }' }));
  const data = path.join(dir, 'sigint-data');
  const server = await startCli(['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'warn', '--workers', '2', '--insecure-no-auth'], /serving loans on (http:\/\/127\.0\.0\.1:\d+)/, { detached: true });
  cleanups.push(() => server.child.kill('SIGKILL'));
  const base = server.match[1]!;
  const primary = server.child.pid!;
  const workers = workersOf(primary);
  expect(workers).toHaveLength(2);
  const long = await call(base, 'POST', '/v1/services/loans/decisions', 'none', { input: { text: 'x'.repeat(1001), amount: 100 } }, fresh);
  expect(long.json.code).toBe('REQUEST_STRING_TOO_LONG');
  const acked = new Set<string>();
  const errors: string[] = [];
  const stop = { now: false };
  const client = async () => {
    while (!stop.now) {
      try {
        const d = await call(base, 'POST', '/v1/services/loans/decisions', 'none', input(acked.size), fresh);
        if (d.status === 200) acked.add(d.json.id);
        else expect(d.json.code).toBe('SERVER_DRAINING');
      } catch (error) {
        // The listener is closed: the drain is over. A reset would be an answer lost in flight.
        errors.push(String((error as { code?: string }).code));
        stop.now = true;
      }
    }
  };
  const clients = Promise.all(Array.from({ length: 4 }, client));
  await new Promise((r) => setTimeout(r, 500));
  process.kill(-primary, 'SIGINT');
  expect(await server.exited).toBe(0);
  stop.now = true;
  await clients;
  expect(acked.size).toBeGreaterThan(10);
  // Connections end refused, or reset when the listener closes under them, as at the end of a one-process drain.
  expect(errors.every((code) => ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(code))).toBe(true);
  // No worker died of the signal itself or failed its drain (the primary would have said so, and started another).
  expect(server.output()).not.toMatch(/decision worker \d+ exited/);
  for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
  try {
    const stored = new Set((await store.decisions.list({ service: 'loans', limit: 10_000 })).map((d) => d.id));
    expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
  } finally {
    await store.close();
  }
});
