// Escalation exactly once between processes: four `node` processes (the built dist/, so run `npm run
// build` first) open the same SQLite file, each with its own dispatcher, and all find the same alert
// due at once; the store's guard lets one of them escalate it. Then a fifth process, started later
// (a restart), finds nothing to do. The escalation receiver hears one delivery. And an acknowledgement
// from another process racing the escalation: it either comes first (no escalation, ever) or after.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../src/monitoring/alerts/testing/webhook-receiver.js';
import { newId, openStore, type Store } from '../src/store/index.js';
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

/** One process acknowledging alerts, one after another; prints, per alert, whether the ack's transaction saw it escalated. */
const ackScript = `
import { openStore, newId } from ${JSON.stringify(dist('store/index.js'))};
const [db, at, ...ids] = process.argv.slice(1);
const store = await openStore({ kind: 'sqlite', path: db });
const seen = {};
for (const id of ids) {
  const audit = { id: newId('aud'), at, actor: { principal: 'ana', keyId: null, role: 'operator' }, action: 'alert.acknowledged', resource: { kind: 'alert', id }, service: 'spam-filter', beforeDigest: null, afterDigest: null, before: null, after: null, requestId: null, detail: null };
  const result = await store.alerts.acknowledge(id, { by: 'ana', at, note: null }, audit);
  seen[id] = { changed: result?.changed, escalatedAt: result?.alert.escalatedAt ?? null };
}
await store.close();
process.stdout.write(JSON.stringify(seen));
`;

function run(args: readonly string[], code = script): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A firing alert whose on-call notification was enqueued when it fired (group.wait 0), as the dispatcher writes it. */
async function fireNotified(store: Store, monitor: string): Promise<string> {
  const id = newId('alt');
  const at = new Date(firedAt).toISOString();
  const alert = { id, rule: 'drift', service: 'spam-filter', monitor, version: 'v1', segment: '*', severity: 'alert', state: 'firing' as const, firedAt: at, resolvedAt: null, summary: `${monitor} drifted`, values: {} };
  await store.alerts.fire(alert, [{ id: newId('whd'), type: 'alert.firing', url: onCallUrl, secretName: 'ONCALL_SECRET', timeoutMs: 2000, body: JSON.stringify({ type: 'alert.firing', id }), createdAt: at }]);
  return id;
}
let onCallUrl = '';

describe('escalation between processes on one SQLite file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let onCall: WebhookReceiver;
  let escalation: WebhookReceiver;

  beforeEach(async () => {
    tmp = tempDir();
    // The processes sign with their (fixed) clock: the receivers check the timestamp against the same one.
    onCall = await startWebhookReceiver(secretValue, { now: () => firedAt + after + 1 });
    escalation = await startWebhookReceiver(secretValue, { now: () => firedAt + after + 1 });
    onCallUrl = onCall.url;
  });
  afterEach(async () => {
    onCallUrl = '';
    await onCall.close();
    await escalation.close();
    tmp.remove();
  });

  it('escalates a due alert once among four processes, and not again in a process started after', { timeout: 60_000 }, async () => {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const id = await fireNotified(store, 'input_drift');
    // Fired as long ago but never notified (group.wait, the rate limit): on call was never paged, so it does not escalate.
    const silent = newId('alt');
    await store.alerts.fire({ id: silent, rule: 'drift', service: 'spam-filter', monitor: 'label_drift', version: 'v1', segment: '*', severity: 'alert', state: 'firing', firedAt: new Date(firedAt).toISOString(), resolvedAt: null, summary: 'labels drifted', values: {} }, []);
    await store.close();

    const args = [tmp.dbPath, onCall.url, escalation.url, String(firedAt + after + 1)];
    const runs = await Promise.all([1, 2, 3, 4].map(() => run(args)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // Two attempts among them: the on-call notification (enqueued when it fired, never delivered yet) and the escalation.
    expect(runs.map((r) => Number(r.stdout)).reduce((a, b) => a + b, 0)).toBe(2);
    const later = await run([tmp.dbPath, onCall.url, escalation.url, String(firedAt + 10 * after)]);
    expect([later.code, later.stdout]).toEqual([0, '0']);

    expect(escalation.received.map((r) => [(r.json as { type: string }).type, (r.json as { id: string }).id, r.verification.valid])).toEqual([['alert.escalated', id, true]]);
    // On call was paged before the escalation route: escalation waits for the first notification.
    expect(onCall.received.map((r) => [(r.json as { type: string }).type, (r.json as { id: string }).id])).toEqual([['alert.firing', id]]);
    const reopened = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    try {
      // Sorted: the ids are time-ordered by each writer's clock (this test's real one, the processes' fixed one).
      expect((await reopened.alerts.listDeliveries(id)).map((d) => [d.type, d.status]).sort()).toEqual([
        ['alert.escalated', 'delivered'],
        ['alert.firing', 'delivered'],
      ]);
      expect((await reopened.alerts.get(id))?.escalatedAt).toBe(new Date(firedAt + after + 1).toISOString());
      expect(await reopened.alerts.listDeliveries(silent)).toEqual([]);
      expect((await reopened.alerts.get(silent))?.escalatedAt).toBeUndefined();
    } finally {
      await reopened.close();
    }
  });

  it('an acknowledgement from another process racing three escalating ones: escalated before it, or acknowledged first and never escalated', { timeout: 60_000 }, async () => {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const ids: string[] = [];
    for (const monitor of ['input_drift', 'label_drift', 'latency']) ids.push(await fireNotified(store, monitor));
    await store.close();

    const now = firedAt + after + 1;
    const ackAt = new Date(now).toISOString();
    const args = [tmp.dbPath, onCall.url, escalation.url, String(now)];
    // All started before any is awaited.
    const [acks, ...runs] = await Promise.all([run([tmp.dbPath, ackAt, ...ids], ackScript), run(args), run(args), run(args)]);
    for (const r of [acks!, ...runs]) expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(acks!.stdout) as Record<string, { changed: boolean; escalatedAt: string | null }>;
    const reopened = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    try {
      for (const id of ids) {
        expect(seen[id]?.changed).toBe(true);
        const alert = await reopened.alerts.get(id);
        const escalations = (await reopened.alerts.listDeliveries(id)).filter((d) => d.type === 'alert.escalated');
        expect(alert?.acknowledged?.at).toBe(ackAt);
        // The ack's own transaction saw the escalation committed, or it came first and no escalation was written.
        if (seen[id]?.escalatedAt === null) expect([alert?.escalatedAt, escalations.length]).toEqual([undefined, 0]);
        else expect([alert?.escalatedAt, escalations.length]).toEqual([new Date(now).toISOString(), 1]);
      }
      const escalated = ids.filter((id) => seen[id]?.escalatedAt !== null);
      expect(escalation.received.map((r) => (r.json as { id: string }).id).sort()).toEqual(escalated.sort());
    } finally {
      await reopened.close();
    }
  });
});
