// No acknowledged privileged action without its audit event: the built `ballast serve` takes
// decisions, feedback, key creations and revocations, denials and checkpoints from concurrent
// clients and is SIGKILLed at a random moment, restarted on the same data directory and killed
// again, several times. Every action a client saw acknowledged must have its audit event, and the
// whole log (leaves, rows, checkpoints) must still verify.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { openAuditLedger } from '../src/cli/runtime.js';
import { openStore, type StoredAuditEvent } from '../src/store/index.js';
import { runCli, startCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-audit-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Acked {
  keys: string[];
  revoked: string[];
  feedback: string[];
  denials: string[];
  decisions: string[];
}

async function call(url: string, method: 'GET' | 'POST', token: string, body?: unknown, requestId?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await request(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(requestId === undefined ? {} : { 'x-request-id': requestId }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Clients hammer the server until it dies; resolves with what they saw acknowledged. */
async function load(base: string, admin: string, viewer: string, round: number, acked: Acked, stop: { dead: boolean }): Promise<void> {
  let n = 0;
  const worker = async (w: number) => {
    while (!stop.dead) {
      const i = n++;
      try {
        switch (i % 5) {
          case 0: {
            const made = await call(`${base}/v1/keys`, 'POST', admin, { principal: `crash-${round}-${w}`, role: 'viewer' });
            if (made.status === 201) {
              acked.keys.push(made.json.id as string);
              if (i % 2 === 0) {
                const revoked = await call(`${base}/v1/keys/${made.json.id as string}/revoke`, 'POST', admin);
                if (revoked.status === 200) acked.revoked.push(made.json.id as string);
              }
            }
            break;
          }
          case 1:
          case 2: {
            const made = await call(`${base}/v1/services/loans/decisions`, 'POST', admin, { input: { text: `r${round} ${i}`, amount: 1000 + i } });
            if (made.status !== 200) break;
            acked.decisions.push(made.json.id as string);
            const fb = await call(`${base}/v1/decisions/${made.json.id as string}/feedback`, 'POST', admin, { kind: 'label', value: { label: 'approve' } });
            if (fb.status === 201) acked.feedback.push(fb.json.id as string);
            break;
          }
          case 3: {
            const requestId = `crash-${round}-${i}`;
            const denied = await call(`${base}/v1/services/loans/decisions`, 'POST', viewer, { input: { text: 'no', amount: 1 } }, requestId);
            if (denied.status === 403) acked.denials.push(requestId);
            break;
          }
          default:
            await call(`${base}/v1/audit/checkpoints`, 'POST', admin);
        }
      } catch {
        // The server died under this request: nothing was acknowledged.
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
}

it('keeps the audit event of every acknowledged action across repeated SIGKILLs under load', { timeout: 120_000 }, async () => {
  const config = path.join(dir, 'ballast.yaml');
  writeFileSync(config, testConfigYaml());
  const data = path.join(dir, 'data');
  const args = ['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'silent'];
  const acked: Acked = { keys: [], revoked: [], feedback: [], denials: [], decisions: [] };
  let admin = '';
  let viewer = '';
  for (let round = 0; round < 4; round++) {
    const server = await startCli(args, /serving loans on (http:\/\/127\.0\.0\.1:\d+)/);
    const base = server.match[1]!;
    if (round === 0) {
      admin = /it is shown only now:\n {2}(bk_\S+)\n/.exec(server.output())![1]!;
      viewer = (await call(`${base}/v1/keys`, 'POST', admin, { principal: 'crash-viewer', role: 'viewer' })).json.token as string;
    }
    const stop = { dead: false };
    const running = load(base, admin, viewer, round, acked, stop);
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 700)));
    server.child.kill('SIGKILL');
    await server.exited;
    stop.dead = true;
    await running;
  }
  expect(acked.decisions.length).toBeGreaterThan(20);
  expect(acked.keys.length).toBeGreaterThan(0);
  expect(acked.feedback.length).toBeGreaterThan(0);
  expect(acked.denials.length).toBeGreaterThan(0);

  const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
  try {
    const events: StoredAuditEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.audit.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
      if (page.length === 0) break;
      events.push(...page);
      after = page[page.length - 1]!.id;
    }
    const has = (action: string, resourceId: string) => events.some((e) => e.action === action && e.resource.id === resourceId);
    expect(acked.keys.filter((id) => !has('key.created', id))).toEqual([]);
    expect(acked.revoked.filter((id) => !has('key.revoked', id))).toEqual([]);
    expect(acked.feedback.filter((id) => !has('feedback.received', id))).toEqual([]);
    expect(acked.denials.filter((rid) => !events.some((e) => e.action === 'access.denied' && e.requestId === rid))).toEqual([]);
    for (const id of acked.decisions) expect(await store.audit.leafOf(id), id).toBeDefined();
    // Every row has its leaf, the indices are dense, and every checkpoint made before a kill holds.
    const verification = await (await openAuditLedger(store, data)).verify();
    expect(verification.problems).toEqual([]);
  } finally {
    await store.close();
  }
  const cli = await runCli(['audit', 'verify', '--config', config, '--data-dir', data]);
  expect(cli.stdout).toContain('ok: every entry matches');
  expect(cli.code).toBe(0);
});
