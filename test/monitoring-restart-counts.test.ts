// Labels, outcomes and decisions count once in their window whatever sequence of graceful restarts
// (SIGTERM) and crashes (SIGKILL, one of them while feedback is coming in) the built `ballast serve`
// goes through. After every step the window's labelled count, accuracy and override rate are read
// from the served monitors and compared with values computed here: from what the test sent and the
// server answered, and after the crash during ingestion from the rows in the database.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { startCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const WINDOW = '2002-09-01T10:00:00.000Z';
const AT = '2002-09-01T10:15:00.000Z';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
async function call(base: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await request(base + url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.body.text();
  return { status: r.statusCode, json: text.startsWith('{') ? JSON.parse(text) : text };
}

interface Observed {
  readonly labelled: number;
  readonly accuracy: number | null;
  readonly overrideRate: number | null;
  readonly decisions: number;
}

/** Evaluates every window (once labels are due) and reads the window's accuracy and override rate. */
async function observe(base: string): Promise<Observed> {
  await new Promise((resolve) => setTimeout(resolve, 1100)); // labelDelay 1s after the window's last event
  const evaluated = await call(base, 'POST', '/v1/services/loans/monitors/evaluate', { windows: 'all' });
  expect(evaluated.status).toBe(200);
  // History is newest first: the first entry of the window is the evaluation just made.
  const latest = async (monitor: string) => {
    const h = await call(base, 'GET', `/v1/services/loans/monitors/${monitor}?segment=`);
    expect(h.status).toBe(200);
    return h.json.history.find((e: { window: { start: string } }) => e.window.start === WINDOW);
  };
  const accuracy = await latest('accuracy');
  const override = await latest('override_rate');
  return { labelled: accuracy.detail.samples, accuracy: accuracy.value, overrideRate: override.value, decisions: override.detail.samples };
}

// One process, and a primary with two decision workers (the primary is what a kill -9 hits: it holds the store and the monitors).
describe.each([0, 2])('serve --workers %i', (workers) => {
it('counts 50 labels once through graceful, kill -9, graceful, graceful, kill -9 during feedback, kill -9, graceful', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ballast-restart-counts-${workers}-`));
  dirs.push(dir);
  const config = path.join(dir, 'ballast.yaml');
  const yaml = testConfigYaml()
    .replace('            certainty: { type: number }\n', '            certainty: { type: number }\n            at: { type: string }\n')
    .replace('    live: v1\n', `    live: v1\n    monitoring:\n      window: 1h\n      timestamp: /at\n      outputLabel: /label\n      evaluateEvery: 1h\n      minSamples: 10\n      performance: { labelDelay: 1s }\n`);
  writeFileSync(config, yaml);
  const data = path.join(dir, 'data');
  const args = ['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'silent', '--insecure-no-auth', '--workers', String(workers)];
  const start = async () => {
    const server = await startCli(args, /serving loans on (http:\/\/127\.0\.0\.1:\d+)/);
    return { ...server, base: server.match[1]! };
  };
  const graceful = async (server: Awaited<ReturnType<typeof start>>) => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  };
  const kill = async (server: Awaited<ReturnType<typeof start>>) => {
    server.child.kill('SIGKILL');
    await server.exited;
  };

  // 50 decisions, each labelled once; 31 of them flagged as overridden, 5 more with an outcome that is not an override.
  let server = await start();
  const predicted = new Map<string, string>();
  const truth = new Map<string, string>();
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const made = await call(server.base, 'POST', '/v1/services/loans/decisions', { input: { text: i % 5 === 0 ? 'bad loan' : 'good loan please', amount: 100 + i, country: ['DE', 'FR', 'NL'][i % 3], at: AT } });
    expect(made.status).toBe(200);
    ids.push(made.json.id);
    predicted.set(made.json.id, made.json.output.label);
  }
  for (const [i, id] of ids.entries()) {
    const label = i % 3 === 0 ? 'deny' : 'approve';
    truth.set(id, label);
    expect((await call(server.base, 'POST', `/v1/decisions/${id}/feedback`, { kind: 'label', value: { label } })).status).toBe(201);
    if (i < 36) expect((await call(server.base, 'POST', `/v1/decisions/${id}/feedback`, { kind: 'outcome', value: { override: i < 31 } })).status).toBe(201);
  }
  const accuracyOf = (t: ReadonlyMap<string, string>) => [...t].filter(([id, label]) => predicted.get(id) === label).length / t.size;
  const expected = { labelled: 50, accuracy: accuracyOf(truth), overrideRate: 31 / 50, decisions: 50 };
  // The data can tell a wrong count from a right one: accuracy is neither 0 nor 1.
  expect(expected.accuracy).toBeGreaterThan(0.3);
  expect(expected.accuracy).toBeLessThan(0.9);
  const steps: string[] = ['first run'];
  expect(await observe(server.base), steps.join(' → ')).toEqual(expected);

  for (const step of ['graceful', 'kill -9', 'graceful', 'graceful'] as const) {
    await (step === 'graceful' ? graceful(server) : kill(server));
    server = await start();
    steps.push(step);
    expect(await observe(server.base), steps.join(' → ')).toEqual(expected);
  }

  // 20 more decisions; labels (and corrections) arrive from 4 clients until the server is killed mid-stream.
  for (let i = 0; i < 20; i++) {
    const made = await call(server.base, 'POST', '/v1/services/loans/decisions', { input: { text: i % 2 === 0 ? 'bad loan' : 'good loan please', amount: 500 + i, at: AT } });
    expect(made.status).toBe(200);
    ids.push(made.json.id);
    predicted.set(made.json.id, made.json.output.label);
  }
  const fresh = ids.slice(50);
  const stop = { dead: false };
  const acked: string[] = [];
  let n = 0;
  const worker = async () => {
    while (!stop.dead) {
      const k = n++;
      const id = fresh[k % fresh.length]!;
      try {
        const answer = await call(server.base, 'POST', `/v1/decisions/${id}/feedback`, { kind: 'label', value: { label: (k + Math.floor(k / fresh.length)) % 2 === 0 ? 'deny' : 'approve' } });
        if (answer.status === 201) acked.push(answer.json.id);
      } catch {
        // the server died under this request
      }
    }
  };
  const clients = Promise.all(Array.from({ length: 4 }, worker));
  await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 500)));
  server.child.kill('SIGKILL');
  await server.exited;
  stop.dead = true;
  await clients;
  steps.push('kill -9 during feedback');
  expect(acked.length).toBeGreaterThan(0);

  // What the log holds now: every acknowledged label, maybe a few more made durable just before the kill.
  const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
  const after = new Map(truth);
  try {
    const stored = new Set<string>();
    for (const id of fresh) {
      const rows = (await store.feedback.listForDecision(id)).filter((f) => f.kind === 'label');
      for (const f of rows) stored.add(f.id);
      const latest = rows.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1)).at(-1);
      if (latest !== undefined) after.set(id, (latest.value as { label: string }).label);
    }
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
  } finally {
    await store.close();
  }
  const expectedAfter = { labelled: after.size, accuracy: accuracyOf(after), overrideRate: 31 / 70, decisions: 70 };
  expect(expectedAfter.labelled).toBeGreaterThan(50);

  server = await start();
  expect(await observe(server.base), steps.join(' → ')).toEqual(expectedAfter);
  for (const step of ['kill -9', 'graceful'] as const) {
    await (step === 'graceful' ? graceful(server) : kill(server));
    server = await start();
    steps.push(step);
    expect(await observe(server.base), steps.join(' → ')).toEqual(expectedAfter);
  }
  await graceful(server);
});
});
