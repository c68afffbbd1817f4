// Escalation exactly once between processes: four `node` processes (the built dist/, so run `npm run
// build` first) open the same SQLite file, each with its own dispatcher, and all find the same alert
// due at once; the store's guard lets one of them escalate it. Then a fifth process, started later
// (a restart), finds nothing to do. The escalation receiver hears one delivery.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../src/monitoring/alerts/testing/webhook-receiver.js';
import { newId, openStore } from '../src/store/index.js';
import { tempDir } from '../src/store/testing/fixtures.js';

const dist = (p: string) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const secretValue = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const firedAt = Date.UTC(2025, 0, 31, 12, 0, 0);
const after = 15 * 60_000;

/** One process: a dispatcher on the file at a fixed clock, passes until told to stop; prints how many attempts it made. */
const script = `
import { openStore } from ${JSON.stringify(dist('store/index.js'))};
import { createAlertDispatcher, resolveAlertRule } from ${JSON.stringify(dist('monitoring/alerts/index.js'))};
const [db, onCall, escalation, now] = process.argv.slice(1);
const store = await openStore({ kind: 'sqlite', path: db });
const route = (url) => ({ url, secret: 'ONCALL_SECRET', timeoutMs: 2000 });
const ownership = { owners: ['team-spam'], runbook: 'docs/runbooks/spam-filter.md', onCall: route(onCall), escalation: { ...route(escalation), after: '15m', afterMs: ${after} } };
const rule = resolveAlertRule({ name: 'drift' });
const d = createAlertDispatcher({ store, rules: () => [rule], secret: () => ${JSON.stringify(secretValue)}, ownership: () => ownership, escalatingServices: () => ['spam-filter'], now: () => Number(now) });
let attempts = 0;
for (let i = 0; i < 10; i++) attempts += await d.deliverDue();
await d.close();
await store.close();
process.stdout.write(String(attempts));
`;

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('escalation between processes on one SQLite file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let onCall: WebhookReceiver;
  let escalation: WebhookReceiver;

  beforeEach(async () => {
    tmp = tempDir();
    onCall = await startWebhookReceiver(secretValue);
    // The processes sign with their (fixed) clock: the receiver checks the timestamp against the same one.
    escalation = await startWebhookReceiver(secretValue, { now: () => firedAt + after + 1 });
  });
  afterEach(async () => {
    await onCall.close();
    await escalation.close();
    tmp.remove();
  });

  it('escalates a due alert once among four processes, and not again in a process started after', { timeout: 60_000 }, async () => {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const id = newId('alt');
    await store.alerts.fire({ id, rule: 'drift', service: 'spam-filter', monitor: 'input_drift', version: 'v1', segment: '*', severity: 'alert', state: 'firing', firedAt: new Date(firedAt).toISOString(), resolvedAt: null, summary: 'input drifted', values: {} }, []);
    await store.close();

    const args = [tmp.dbPath, onCall.url, escalation.url, String(firedAt + after + 1)];
    const runs = await Promise.all([1, 2, 3, 4].map(() => run(args)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // One of them attempted the escalation's delivery; nobody else had anything to send.
    expect(runs.map((r) => Number(r.stdout)).sort()).toEqual([0, 0, 0, 1]);
    const later = await run([tmp.dbPath, onCall.url, escalation.url, String(firedAt + 10 * after)]);
    expect([later.code, later.stdout]).toEqual([0, '0']);

    expect(escalation.received.map((r) => [(r.json as { type: string }).type, (r.json as { id: string }).id, r.verification.valid])).toEqual([['alert.escalated', id, true]]);
    expect(onCall.received).toEqual([]);
    const reopened = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    try {
      expect((await reopened.alerts.listDeliveries(id)).map((d) => [d.type, d.status])).toEqual([['alert.escalated', 'delivered']]);
      expect((await reopened.alerts.get(id))?.escalatedAt).toBe(new Date(firedAt + after + 1).toISOString());
    } finally {
      await reopened.close();
    }
  });
});
