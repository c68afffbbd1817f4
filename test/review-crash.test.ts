// Nothing acknowledged by the review queue is lost across kill -9: the built `ballast serve` takes
// decisions that go to review, claims, human decisions and appeals from concurrent clients, is
// SIGKILLed at a random moment and restarted on the same data directory, eight times. Every item a
// decision answer named, every human decision and every appeal a client saw acknowledged must be in
// the store; each settled item has exactly one feedback row and each appeal exactly one complaint; once the leases of the killed rounds run
// out, every undecided item can be taken again; the audit log still verifies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { openAuditLedger } from '../src/cli/runtime.js';
import { openStore } from '../src/store/index.js';
import { startCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-review-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Acked {
  items: string[];
  decided: { item: string; reviewer: string; verdict: string }[];
  appeals: string[];
}

async function call(url: string, method: 'GET' | 'POST', token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await request(url, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.body.text();
  return { status: r.statusCode, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function load(base: string, tokens: { admin: string; reviewers: readonly string[] }, round: number, acked: Acked, stop: { dead: boolean }): Promise<void> {
  let n = 0;
  const worker = async (w: number) => {
    const reviewer = tokens.reviewers[w % tokens.reviewers.length]!;
    while (!stop.dead) {
      const i = n++;
      try {
        if (i % 3 === 0) {
          const made = await call(`${base}/v1/services/loans/decisions`, 'POST', tokens.admin, { input: { text: `r${round} ${i}`, amount: 1000 + i, certainty: 0.5 } });
          const review = made.json.review as { id: string } | undefined;
          if (made.status === 200 && review !== undefined) acked.items.push(review.id);
        } else if (i % 3 === 1) {
          const next = await call(`${base}/v1/reviews/next`, 'POST', reviewer);
          if (next.status !== 200) continue;
          const item = next.json.id as string;
          const verdict = i % 2 === 0 ? { decision: 'accept' } : { decision: 'override', label: { label: 'deny', score: 0.1 }, rationale: `round ${round}` };
          const decided = await call(`${base}/v1/reviews/${item}/decision`, 'POST', reviewer, verdict);
          if (decided.status === 200) acked.decided.push({ item, reviewer: w % 2 === 0 ? 'rev-a' : 'rev-b', verdict: verdict.decision });
        } else {
          const done = acked.decided[Math.floor(Math.random() * acked.decided.length)];
          if (done === undefined) continue;
          const item = await call(`${base}/v1/reviews/${done.item}`, 'GET', tokens.admin);
          const filed = await call(`${base}/v1/decisions/${item.json.decisionId as string}/appeals`, 'POST', tokens.admin, { statement: `appeal ${round} ${i}` });
          if (filed.status === 201) acked.appeals.push(filed.json.id as string);
        }
      } catch {
        // The server died under this request: nothing was acknowledged.
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
}

it('keeps every acknowledged review item, human decision and appeal across repeated SIGKILLs', { timeout: 180_000 }, async () => {
  const config = path.join(dir, 'ballast.yaml');
  writeFileSync(config, testConfigYaml().replace('    live: v1\n', '    live: v1\n    review:\n      lease: 1s\n'));
  const data = path.join(dir, 'data');
  const args = ['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'silent'];
  const acked: Acked = { items: [], decided: [], appeals: [] };
  const tokens = { admin: '', reviewers: [] as string[], fresh: '' };
  for (let round = 0; round < 8; round++) {
    const server = await startCli(args, /serving loans on (http:\/\/127\.0\.0\.1:\d+)/);
    const base = server.match[1]!;
    if (round === 0) {
      tokens.admin = /it is shown only now:\n {2}(bk_\S+)\n/.exec(server.output())![1]!;
      for (const principal of ['rev-a', 'rev-b']) tokens.reviewers.push((await call(`${base}/v1/keys`, 'POST', tokens.admin, { principal, role: 'reviewer' })).json.token as string);
      // A reviewer who decides nothing under load: no item is closed to them at the end.
      tokens.fresh = (await call(`${base}/v1/keys`, 'POST', tokens.admin, { principal: 'rev-fresh', role: 'reviewer' })).json.token as string;
    }
    const stop = { dead: false };
    const running = load(base, tokens, round, acked, stop);
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.floor(Math.random() * 700)));
    server.child.kill('SIGKILL');
    await server.exited;
    stop.dead = true;
    await running;
  }
  expect(acked.items.length).toBeGreaterThan(20);
  expect(acked.decided.length).toBeGreaterThan(5);

  const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
  let undecided: number;
  try {
    for (const id of acked.items) expect(await store.reviews.get(id), id).toBeDefined();
    for (const id of acked.appeals) expect(await store.reviews.get(id), id).toMatchObject({ kind: 'appeal' });
    for (const d of acked.decided) {
      const item = await store.reviews.get(d.item);
      expect(item?.decisions.some((x) => x.reviewer === d.reviewer && x.decision === d.verdict), d.item).toBe(true);
    }
    // Each settled item is feedback exactly once, whatever the kills.
    const all: Awaited<ReturnType<typeof store.reviews.list>> = [];
    for (let page = await store.reviews.list({ limit: 1000 }); page.length > 0; page = await store.reviews.list({ limit: 1000, after: page.at(-1)!.id })) all.push(...page);
    for (const item of all.filter((i) => i.state === 'decided')) {
      const kind = item.kind === 'appeal' ? 'appeal' : 'override';
      const rows = (await store.feedback.listForDecision(item.decisionId)).filter((f) => f.kind === kind);
      const settled = all.filter((i) => i.decisionId === item.decisionId && i.state === 'decided' && i.kind === item.kind).length;
      expect(rows, item.id).toHaveLength(settled);
    }
    // Each appeal is one complaint, written with it: no appeal without its row, no row without its appeal.
    const complaints = new Map<string, number>();
    for (const decisionId of new Set(all.map((i) => i.decisionId))) {
      for (const f of await store.feedback.listForDecision(decisionId)) {
        if (f.kind !== 'outcome') continue;
        const appeal = (f.value as { appeal?: string }).appeal!;
        expect(all.find((i) => i.id === appeal), f.id).toMatchObject({ kind: 'appeal', decisionId });
        complaints.set(appeal, (complaints.get(appeal) ?? 0) + 1);
      }
    }
    const appeals = all.filter((i) => i.kind === 'appeal');
    expect(appeals.length).toBeGreaterThanOrEqual(acked.appeals.length);
    for (const a of appeals) expect(complaints.get(a.id), a.id).toBe(1);
    expect(complaints.size).toBe(appeals.length);
    undecided = all.filter((i) => i.state !== 'decided').length;
    expect((await (await openAuditLedger(store, data)).verify()).problems).toEqual([]);
  } finally {
    await store.close();
  }

  // The leases of the killed rounds run out: every undecided item can be taken again.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const server = await startCli(args, /serving loans on (http:\/\/127\.0\.0\.1:\d+)/);
  try {
    const base = server.match[1]!;
    const taken = new Set<string>();
    for (;;) {
      const next = await call(`${base}/v1/reviews/next`, 'POST', tokens.fresh);
      if (next.status === 204) break;
      taken.add(next.json.id as string);
    }
    expect(taken.size).toBe(undecided);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});
