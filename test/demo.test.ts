import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { runCli } from './helpers/run-cli.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ballast-demo-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('ballast demo', () => {
  it('trains on the older messages, replays newer ones over HTTP with labels, and prints a summary', async () => {
    const r = await runCli(['demo', '--exit', '--port', '0', '--limit', '400', '--no-progress', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/trained on 3627 messages dated up to 2002-08-30/);
    const heldOut = Number(/held-out accuracy on the newer messages: ([\d.]+)%/.exec(r.stdout)?.[1]);
    expect(heldOut).toBeGreaterThan(80);
    expect(r.stdout).toMatch(/Decisions: 400 \(0 refused by the API\)/);
    const outcomes = /By outcome: (.+)/.exec(r.stdout)![1]!;
    const counts = [...outcomes.matchAll(/(\w+) (\d+) \(/g)].reduce((sum, m) => sum + Number(m[2]), 0);
    expect(counts).toBe(400);
    const labelled = Number(/Accuracy where labels came back: [\d.]+% of (\d+)/.exec(r.stdout)?.[1]);
    expect(labelled).toBeGreaterThan(200);
    expect(labelled).toBeLessThan(360);
    for (const stage of ['validate', 'pre_rules', 'invoke', 'post_rules', 'decide', 'record']) expect(r.stdout).toContain(`  ${stage}`);

    // Monitoring: the reference was built from the training messages, the two weeks replayed were judged,
    // the spam share's fall (43% in training, 14% in the week of 2 September) fired an output-drift alert,
    // and the alert reached the webhook receiver with a valid signature.
    expect(r.stdout).toMatch(/Reference profile 'default' of spam-filter stored as ref_\w+: 3627 rows/);
    const week = (start: string) => r.stdout.split('\n').find((l) => l.startsWith(`  ${start}`));
    expect(week('2002-08-26')).toMatch(/^ {2}2002-08-26 +53 /);
    const september = week('2002-09-02')!;
    expect(september).toMatch(/^ {2}2002-09-02 +347 +[\d.]+% of \d+ +[\d.]+% /);
    expect(r.stdout).toMatch(/alt_\w+ output_drift \(alert, firing\): output drifted: chi-square p [\d.e-]+ < 0\.05/);
    const webhook = /Webhook receiver \(\S+\): (\d+) deliveries, (\d+) with a valid signature; firing: (.+)/.exec(r.stdout)!;
    expect(Number(webhook[1])).toBeGreaterThan(0);
    expect(webhook[2]).toBe(webhook[1]);
    expect(webhook[3]).toContain('output_drift');

    // Auth is on: the first start made an admin key, the run used a key per job, and the summary shows
    // a reviewer's and a viewer's key; the viewer asking for a decision was refused and audited.
    expect(r.stdout).toMatch(/made the admin key bk_\w+ \(principal admin\), shown once: bk_\w+_[\w-]{43}/);
    expect(r.stdout).toMatch(/reviewer key \(bk_\w+\): bk_\w+_[\w-]{43}/);
    const viewerKey = /^ {2}viewer key +\(bk_[0-9a-z]{10}\): (bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(/the viewer asking for a decision: 403 AUTH_FORBIDDEN/);
    // Every decision, label and audit event is in the signed Merkle log, and it verifies.
    const audited = /Audit log: (\d+) entries .* under a signed checkpoint, root [0-9a-f]{16}…; verified: ok/.exec(r.stdout);
    expect(audited, r.stdout).not.toBeNull();
    expect(Number(audited![1])).toBeGreaterThan(400 + labelled);

    // The decisions and labels are durable in the demo's log, and the sender address never reached it.
    const store = await openStore({ kind: 'sqlite', path: path.join(dataDir, 'ballast.db') });
    const decisions = await store.decisions.list({ limit: 1000 });
    expect(decisions).toHaveLength(400);
    const feedback = await store.feedback.list({ limit: 1000 });
    expect(feedback).toHaveLength(labelled);
    expect(decisions.every((d) => String((d.input as { from: string }).from).startsWith('hmac-sha256:'))).toBe(true);
    // Every evaluation is kept: the output-drift history has both weeks, the second in alert.
    const history = await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'output_drift', segment: '', limit: 100 });
    const observed = new Map(history.map((e) => [e.windowStart.slice(0, 10), e.observed]));
    expect(observed.get('2002-09-02')).toBe('alert');
    expect((await store.alerts.listActive('spam-filter')).map((a) => a.monitor)).toContain('output_drift');
    // Every label has its audit event with the labeler's key; the viewer's denial is there too.
    const received = await store.audit.list({ action: 'feedback.received', limit: 1000 });
    expect(received).toHaveLength(labelled);
    expect(new Set(received.map((e) => `${e.actor.principal}/${e.actor.role}`))).toEqual(new Set(['demo-mailbox/labeler']));
    const denied = await store.audit.list({ action: 'access.denied', limit: 10 });
    expect(denied.map((e) => e.actor.principal)).toEqual(['demo-viewer']);
    expect(viewerKey.startsWith(denied[0]!.actor.keyId!)).toBe(true);
    await store.close();

    // The config it served is a real file a user can serve again.
    expect(readFileSync(path.join(dataDir, 'demo', 'ballast.yaml'), 'utf8')).toContain('spam-filter');
    // A second run finds the cached model instead of training again.
    const again = await runCli(['demo', '--exit', '--port', '0', '--limit', '20', '--no-progress', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('loaded from cache');
  }, 240_000);

  it('on the whole corpus, opens the quality breaker when the labelled accuracy of late September 2002 falls below its floor, and sends the rest to review', async () => {
    const fullDir = mkdtempSync(path.join(os.tmpdir(), 'ballast-demo-full-'));
    try {
      const r = await runCli(['demo', '--exit', '--port', '0', '--no-progress', '--data-dir', fullDir], { timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      const opened = /Quality breaker \(accuracy floor 90%\): opened at \S+ for logreg-v1: labelled accuracy ([\d.]+)% is below the floor 90\.0% \(window from (\d{4}-\d{2}-\d{2})\)/.exec(r.stdout);
      expect(opened, r.stdout).not.toBeNull();
      expect(opened![2]).toBe('2002-09-23');
      expect(Number(opened![1])).toBeLessThan(90);
      const skipped = /from then on the model was not called: (\d+) messages \(sent from (\d{4}-\d{2}-\d{2}) on\) went to review/.exec(r.stdout)!;
      expect(skipped[2]).toBe('2002-09-30');

      // The store agrees: the breaker's change is kept with the monitor values behind it, and every
      // decision of a message sent after that week went to review without a model call.
      const store = await openStore({ kind: 'sqlite', path: path.join(fullDir, 'ballast.db') });
      try {
        const history = await store.breakers.list({ service: 'spam-filter', limit: 10 });
        expect(history.map((t) => `${t.kind}:${t.from}>${t.to}`)).toEqual(['quality:closed>open']);
        expect(history[0]!.figures).toMatchObject({ monitor: 'accuracy', floor: 0.9, window: { start: '2002-09-23T00:00:00.000Z' } });
        const decisions: Awaited<ReturnType<typeof store.decisions.list>> = [];
        for (let after: string | undefined; ; ) {
          const page = await store.decisions.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
          decisions.push(...page);
          if (page.length < 1000) break;
          after = page.at(-1)!.id;
        }
        const late = decisions.filter((d) => String((d.input as { sent_at: string }).sent_at) >= '2002-09-30');
        expect(late.length).toBe(Number(skipped[1]));
        const modelError = (d: (typeof decisions)[number]) => (d.explanation as { modelError?: { code: string } }).modelError?.code;
        expect(late.every((d) => d.outcome === 'review' && modelError(d) === 'QUALITY_BREAKER_OPEN')).toBe(true);
        const early = decisions.filter((d) => String((d.input as { sent_at: string }).sent_at) < '2002-09-30');
        expect(early.some((d) => modelError(d) === 'QUALITY_BREAKER_OPEN')).toBe(false);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(fullDir, { recursive: true, force: true });
    }
  }, 240_000);
});
