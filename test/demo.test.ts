import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { runCli } from './helpers/run-cli.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ballast-demo-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The Monday after a week's Monday (yyyy-mm-dd). */
const nextWeek = (monday: string) => new Date(Date.parse(`${monday}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10);

/** Where the demo says this run's data lives. */
function runDirOf(stdout: string): string {
  return /^This run's data \(decision log, keys, audit log, config\): (\S+) \(made fresh for this run/m.exec(stdout)![1]!;
}

/**
 * What every demo summary must keep: alert counts that agree with each other and with the webhook
 * deliveries, no window below the monitors' minSamples (30 in the demo) shown as a row, and no
 * wall-clock time beside the 2002 windows without saying it is the wall clock. Returns the alert ids.
 */
function checkSummary(stdout: string): string[] {
  const alerts = /^ {2}Alerts: (?:none fired in this run|(\d+) fired in this run: (\d+) still firing, (\d+) resolved)/m.exec(stdout);
  expect(alerts, stdout).not.toBeNull();
  const [fired, firing, resolved] = [alerts![1], alerts![2], alerts![3]].map((x) => Number(x ?? 0)) as [number, number, number];
  expect(firing + resolved).toBe(fired);
  const lines = [...stdout.matchAll(/^ {4}(alt_\w+) \S+ .*?: fired on the week of (\d{4}-\d{2}-\d{2}), (still firing|resolved on the week of \d{4}-\d{2}-\d{2}): /gm)];
  expect(lines).toHaveLength(fired);
  expect(lines.filter((m) => m[3] === 'still firing')).toHaveLength(firing);
  // Every delivery is accounted for: a first notification per alert fired, any later ones of a grouped
  // alert (its members changed, or a reminder), one per alert resolved; nothing left undelivered.
  const webhook = /Webhook receiver \(\S+\): (\d+) deliver(?:y|ies), (\d+) with a valid signature: (\d+) alert\.firing \(the first notification of each alert fired\)(?: \+ (\d+) alert\.firing again \(members changed, or a reminder\))? \+ (\d+) alert\.resolved \(one per alert resolved\)$/m.exec(stdout);
  expect(webhook, stdout).not.toBeNull();
  const [deliveries, valid, first, again, resolutions] = webhook!.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number];
  expect([first, resolutions]).toEqual([fired, resolved]);
  expect(deliveries).toBe(first + again + resolutions);
  expect(valid).toBe(deliveries);
  for (const row of stdout.matchAll(/^ {2}(\d{4}-\d{2}-\d{2}) +(\d+) /gm)) expect(Number(row[2]), row[0]).toBeGreaterThanOrEqual(30);
  for (const since of stdout.matchAll(/^ {4}(?:ALERT|WARNING) +\S+ since (.*?):/gm)) expect(since[1]).toMatch(/^the week of 2002-\d{2}-\d{2}$|wall clock$/);
  for (const time of stdout.matchAll(/\b20[1-9]\d-\d{2}-\d{2}T[\d:.]+Z/g)) expect(stdout.slice(time.index + time[0].length), time[0]).toMatch(/^ wall clock/);
  return lines.map((m) => m[1]!);
}

/**
 * The ownership lines: owners and runbook of both services, the on-call's acknowledgements (every alert
 * but the one it missed) and that one alert's single escalation. Returns the missed alert and the count acknowledged.
 */
function checkOwnership(stdout: string): { id: string; acknowledged: number } {
  expect(stdout).toMatch(/^ {2}spam-filter: owned by team-mail-safety, demo-monitoring \(risk medium\); runbook docs\/runbooks\/spam-filter\.md; alerts on call to http:\S+\/alerts, escalation after 2s to http:\S+\/escalations; review SLA 20s$/m);
  expect(stdout).toMatch(/^ {2}credit-precheck: owned by team-credit-risk, demo-release \(risk high\); runbook docs\/runbooks\/credit-precheck\.md; alerts on call to http:\S+\/alerts, escalation after 2s to http:\S+\/escalations; review SLA 8h$/m);
  // It misses one alert at a time until one escalates (a missed alert that resolves first cannot), so usually exactly one.
  const onCall = /^ {2}on call \(demo-monitoring\) acknowledged (\d+) of (\d+) alerts as they fired \(audited as alert\.acknowledged\); it missed (alt_\w+(?:, alt_\w+)*)$/m.exec(stdout);
  expect(onCall, stdout).not.toBeNull();
  const [acknowledged, all, missed] = [Number(onCall![1]), Number(onCall![2]), onCall![3]!.split(', ')];
  expect(acknowledged + missed.length).toBe(all);
  const escalated = [...stdout.matchAll(/^ {2}escalated: (alt_\w+) \(spam-filter \w+\) went unacknowledged and escalated once, ([\d.]+) s after it fired \(delay 2s\), to http:\S+\/escalations \(1 of 1 signatures valid\)$/gm)];
  expect(escalated.map((m) => m[1]), stdout).toEqual([missed.at(-1)]);
  expect(Number(escalated[0]![2])).toBeGreaterThanOrEqual(2);
  expect(stdout.match(/^ {2}escalated: /gm)).toHaveLength(1);
  return { id: escalated[0]![1]!, acknowledged };
}

/** The summary's cross-check section: its weekly rows, the all-weeks line, what was not compared and what went to review. */
function crossCheckSection(stdout: string) {
  expect(stdout).toMatch(/^Cross-check 'bayes' \(naive Bayes, bayes-v1, trained on the same older messages\) against the served model's label, by week of the messages/m);
  const rows = [...stdout.matchAll(/^ {4}(\d{4}-\d{2}-\d{2}) +(\d+) +(\d+) +([\d.]+)% +(\d+)$/gm)].map((m) => ({ week: m[1]!, checked: Number(m[2]), agreed: Number(m[3]), rate: Number(m[4]), toReview: Number(m[5]) }));
  const folded = /^ {4}\d+ weeks? with fewer than 30 checks, together: (\d+) checked, (\d+) agreed \([\d.]+%\), (\d+) to review$/m.exec(stdout);
  const all = /^ {4}all weeks: (\d+) checked, (\d+) agreed \(([\d.]+)%\)$/m.exec(stdout);
  expect(all, stdout).not.toBeNull();
  const [checked, agreed] = [Number(all![1]), Number(all![2])];
  // The rows and the folded weeks add up to the total, and each rate is its row's.
  expect(rows.reduce((n, r) => n + r.checked, 0) + Number(folded?.[1] ?? 0)).toBe(checked);
  expect(rows.reduce((n, r) => n + r.agreed, 0) + Number(folded?.[2] ?? 0)).toBe(agreed);
  for (const r of rows) expect(r.rate).toBeCloseTo((100 * r.agreed) / r.checked, 1);
  const notCompared = Number(/^ {2}not compared: (\d+) decisions the model did not answer/m.exec(stdout)?.[1] ?? 0);
  const review = /^ {2}the disagreements sent (\d+) decisions to review \((\d+) of them the model alone would have decided\); by the true labels the served model was wrong on (\d+) and bayes on (\d+); the reviewers settled (\d+), (\d+) to the true label$/m.exec(stdout);
  expect(review, stdout).not.toBeNull();
  const [sent, alone, servedWrong, checkerWrong, settled, settledRight] = review!.slice(1).map(Number) as [number, number, number, number, number, number];
  // Every disagreement went to review; two labels that differ have exactly one wrong; the queue was worked to the end.
  expect(sent).toBe(checked - agreed);
  expect(rows.reduce((n, r) => n + r.toReview, 0) + Number(folded?.[3] ?? 0)).toBe(sent);
  expect(servedWrong + checkerWrong).toBe(sent);
  expect(alone).toBeLessThanOrEqual(sent);
  expect(settled).toBe(sent);
  expect(settledRight).toBeLessThanOrEqual(settled);
  return { rows, checked, agreed, notCompared, sent, servedWrong };
}

type StoredDecisionLike = { id: string; outcome: string; explanation: unknown };
/** The store's account of the cross-check: decisions the checker compared, those it agreed on, disagreements that went to review. */
function crossChecksInStore(decisions: readonly StoredDecisionLike[]) {
  const explained = (d: StoredDecisionLike) => d.explanation as { modelError?: unknown; crossChecks?: { name: string; kind: string; version?: string; verdict: string }[]; reasons: { kind: string; code: string; effect: string; checker?: string }[] };
  const compared = decisions.filter((d) => explained(d).modelError === undefined && explained(d).crossChecks?.some((c) => c.name === 'bayes' && c.kind === 'version' && c.version === 'bayes-v1' && c.verdict !== 'unavailable'));
  const disagreed = compared.filter((d) => explained(d).crossChecks!.some((c) => c.name === 'bayes' && c.verdict === 'disagree'));
  const reviewed = disagreed.filter((d) => d.outcome === 'review' && explained(d).reasons.some((r) => r.kind === 'cross_check' && r.code === 'disagreement' && r.checker === 'bayes' && r.effect === 'review'));
  return { compared: compared.length, agreed: compared.length - disagreed.length, reviewed: reviewed.length };
}

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
    // The cross-check: naive Bayes compared every answer of the two weeks (the breaker stays closed), all 400.
    expect(r.stdout).toMatch(/^Cross-check model bayes-v1 \(naive Bayes\): trained now .*; held-out accuracy [\d.]+% on the same newer messages$/m);
    const crossCheck = crossCheckSection(r.stdout);
    expect(crossCheck.rows.map((w) => w.week)).toEqual(['2002-08-26', '2002-09-02']);
    expect([crossCheck.checked, crossCheck.notCompared]).toEqual([400, 0]);

    // Monitoring: the reference was built from the training messages, the two weeks replayed were judged,
    // the spam share's fall (43% in training, 14% in the week of 2 September) fired an output-drift alert,
    // and the alert reached the webhook receiver with a valid signature.
    expect(r.stdout).toMatch(/Reference profile 'default' of spam-filter stored as ref_\w+: 3627 rows/);
    const runDir = runDirOf(r.stdout);
    expect(runDir).toBe(path.join(dataDir, 'demo', 'run'));
    const firstAlerts = checkSummary(r.stdout);
    expect(firstAlerts.length).toBeGreaterThan(0);
    const week = (start: string) => r.stdout.split('\n').find((l) => l.startsWith(`  ${start}`));
    expect(week('2002-08-26')).toMatch(/^ {2}2002-08-26 +53 /);
    // The week of 2 September was served by both versions (shadow copies are not decisions): its rows add up.
    const september = r.stdout.split('\n').filter((l) => l.startsWith('  2002-09-02 '));
    expect(september[0]).toMatch(/^ {2}2002-09-02 +\d+ +[\d.]+% of \d+ +[\d.]+% /);
    expect(september.reduce((n, l) => n + Number(/^ {2}2002-09-02 +(\d+) /.exec(l)![1]), 0)).toBe(347);
    expect(r.stdout).toMatch(/alt_\w+ output_drift \(alert\): fired on the week of 2002-09-02, still firing: output drifted: chi-square p [\d.e-]+ < 0\.05/);

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
    const store = await openStore({ kind: 'sqlite', path: path.join(runDir, 'ballast.db') });
    const decisions = await store.decisions.list({ service: 'spam-filter', limit: 1000 });
    expect(decisions).toHaveLength(400);
    // The summary's cross-check counts are the stored explanations'.
    expect(crossChecksInStore(decisions)).toEqual({ compared: crossCheck.checked, agreed: crossCheck.agreed, reviewed: crossCheck.sent });
    const feedback = await store.feedback.list({ service: 'spam-filter', limit: 1000 });
    expect(feedback.filter((f) => f.kind === 'label')).toHaveLength(labelled);
    // People worked the review queue through the API: every item opened is settled, each one override feedback by a reviewer.
    const queue = /spam-filter: (\d+) items \((\d+) decided, (\d+) waiting, (\d+) escalated\); (\d+) settled: (\d+) accepted, (\d+) overridden/.exec(r.stdout);
    expect(queue, r.stdout).not.toBeNull();
    const [items, decided, waiting, escalated, settled] = queue!.slice(1, 6).map(Number);
    expect([decided, waiting, escalated, settled]).toEqual([items, 0, 0, items]);
    expect(decisions.filter((d) => d.outcome === 'review')).toHaveLength(items!);
    const overrides = feedback.filter((f) => f.kind === 'override');
    expect(overrides).toHaveLength(items!);
    expect(overrides.filter((f) => !['demo-reviewer', 'demo-reviewer-2', 'demo-senior'].includes(f.source ?? ''))).toEqual([]);
    expect(r.stdout).toMatch(new RegExp(`the caller heard ${items} outcomes and \\d+ SLA breaches by signed webhook \\((\\d+) of \\1 signatures valid\\)`));
    expect(decisions.every((d) => String((d.input as { from: string }).from).startsWith('hmac-sha256:'))).toBe(true);
    // Every evaluation is kept: the output-drift history has both weeks, the second in alert.
    const history = await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'output_drift', segment: '', limit: 100 });
    const observed = new Map(history.map((e) => [e.windowStart.slice(0, 10), e.observed]));
    expect(observed.get('2002-09-02')).toBe('alert');
    expect((await store.alerts.listActive('spam-filter')).map((a) => a.monitor)).toContain('output_drift');
    // The summary's alerts are the store's, one line each.
    expect((await store.alerts.list({ service: 'spam-filter', limit: 1000 })).map((a) => a.id).sort()).toEqual([...firstAlerts].sort());
    // Ownership: both services name owners and a runbook; the on-call acknowledged every alert but one, which escalated once.
    const missed = checkOwnership(r.stdout);
    const spamAlerts = await store.alerts.list({ service: 'spam-filter', limit: 1000 });
    expect(spamAlerts.filter((a) => a.escalatedAt !== undefined).map((a) => a.id)).toEqual([missed.id]);
    expect((await store.alerts.listDeliveries(missed.id)).filter((d) => d.type === 'alert.escalated').map((d) => d.status)).toEqual(['delivered']);
    expect(spamAlerts.filter((a) => a.acknowledged?.by === 'demo-monitoring')).toHaveLength(missed.acknowledged);
    expect(spamAlerts.find((a) => a.id === missed.id)?.acknowledged).toBeUndefined();
    const acks = await store.audit.list({ action: 'alert.acknowledged', limit: 1000 });
    expect(acks.map((e) => `${e.actor.principal}/${e.actor.role}`)).toEqual(Array.from({ length: missed.acknowledged }, () => 'demo-monitoring/operator'));
    // Every label has its audit event with the labeler's key; the viewer's denial is there too.
    // (and the credit pre-check's 303 outcomes, sent by the same labeler)
    const received = await store.audit.list({ action: 'feedback.received', limit: 2000 });
    expect(received).toHaveLength(labelled + 303);
    expect(new Set(received.map((e) => `${e.actor.principal}/${e.actor.role}`))).toEqual(new Set(['demo-mailbox/labeler']));
    const denied = await store.audit.list({ action: 'access.denied', limit: 10 });
    expect(denied.map((e) => e.actor.principal)).toEqual(['demo-viewer']);
    expect(viewerKey.startsWith(denied[0]!.actor.keyId!)).toBe(true);
    // The credit pre-check: its queue worked to the end, an appeal decided by someone who did not decline, fairness per group.
    const credit = /credit-precheck: (\d+) items \((\d+) decided, (\d+) waiting, (\d+) escalated\)/.exec(r.stdout);
    expect(credit, r.stdout).not.toBeNull();
    expect(Number(credit![2])).toBe(Number(credit![1]));
    const creditDecisions = (await store.decisions.list({ service: 'credit-precheck', limit: 1000 }));
    expect(creditDecisions).toHaveLength(303);
    const creditItems = await store.reviews.list({ service: 'credit-precheck', limit: 1000 });
    expect(creditItems.filter((i) => i.kind === 'decision')).toHaveLength(creditDecisions.filter((d) => d.outcome === 'review').length);
    expect(creditItems.filter((i) => i.kind === 'decision' && i.requiredReviews === 2).length).toBeGreaterThan(0);
    const appealLine = /appeal (rvw_\w+): applicant \d+ \(declined by ([\w-]+(?: and [\w-]+)*), who repaid in truth\) appealed; re-decided by ([\w-]+), not by who declined/.exec(r.stdout);
    expect(appealLine, r.stdout).not.toBeNull();
    expect(appealLine![2]!.split(' and ')).not.toContain(appealLine![3]);
    const appealItem = await store.reviews.get(appealLine![1]!);
    expect(appealItem).toMatchObject({ kind: 'appeal', state: 'decided' });
    expect(r.stdout).toMatch(/fairness over 303 decisions .*: (ok|alert|unknown)/);
    for (const field of ['sex', 'age_band', 'foreign_worker']) expect(r.stdout).toMatch(new RegExp(`\\n {4}${field} \\((ok|alert|unknown)\\): approved `));
    // The export's digest is the file's, and the registry keeps it as the next version's training data.
    const exported = path.join(runDir, 'credit-precheck-dataset.jsonl');
    const digest = createHash('sha256').update(readFileSync(exported)).digest('hex');
    expect(JSON.parse(readFileSync(`${exported}.manifest.json`, 'utf8')).sha256).toBe(digest);
    const v2 = await store.registry.get('credit-precheck', 'credit-logreg-v2');
    expect((v2?.spec as { trainingData?: { sha256?: string } } | undefined)?.trainingData?.sha256).toBe(digest);
    expect(await store.audit.list({ action: 'dataset.exported', limit: 10 })).toMatchObject([{ actor: { principal: 'demo-auditor' } }]);
    await store.close();

    // Safe change: logreg-v2 was trained on the returned labels, registered with its lineage by revision 2,
    // shadowed, canaried with a rollback drill (nothing served by it once the rollback answered), retried.
    expect(r.stdout).toMatch(/^Safe change: logreg-v2, from training to (live|rolled-back|running|paused)$/m);
    expect(r.stdout).toMatch(/registered by demo-release in revision 2 \(add \/services\/spam-filter\/models\/logreg-v2\): digest sha256:[0-9a-f]{12}…, weights sha256 [0-9a-f]{12}…, training data \d+ rows sha256 [0-9a-f]{12}…/);
    expect(r.stdout).toMatch(/^ {4}agreement: the same label on [\d.]+% of \d+ copies/m);
    const drill = /Rollback drill \(rollout rol_\w+, canary at 50%, 8 callers\): rollback answered in ([\d.]+) ms .*; 0 decisions sent after it answered were served by logreg-v2/.exec(r.stdout);
    expect(drill, r.stdout).not.toBeNull();
    expect(Number(drill![1])).toBeLessThan(1000);
    const lineage = await openStore({ kind: 'sqlite', path: path.join(runDir, 'ballast.db') });
    try {
      const v2 = await lineage.registry.get('spam-filter', 'logreg-v2');
      expect(v2).toMatchObject({ author: 'demo-release', spec: { trainingData: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, evaluation: { metrics: { accuracy: expect.any(Number) } } } });
      const moves = (await lineage.registry.history('spam-filter', 'logreg-v2')).map((t) => `${t.to}/${t.actor}`);
      expect(moves.slice(0, 6)).toEqual(['registered/demo-release', 'shadow/demo-release', 'registered/demo-release', 'canary/demo-release', 'rolled-back/demo-release', 'canary/demo-release']);
      expect((await lineage.registry.history('spam-filter', 'logreg-v1')).map((t) => t.to).slice(0, 2)).toEqual(['registered', 'live']);
      const applied = await lineage.audit.list({ action: 'config.applied', limit: 10 });
      expect(applied.map((e) => e.actor.principal)).toContain('demo-release');
      // Every decision names the revision it ran on: 1 before the apply, 2 (or 3 once promoted) after.
      const revisions = new Set((await lineage.decisions.list({ limit: 1000 })).map((d) => (d.explanation as { revision?: number }).revision));
      expect([...revisions].sort()).toEqual(expect.arrayContaining([1, 2]));
    } finally {
      await lineage.close();
    }

    // The config it served is a real file a user can serve again.
    expect(readFileSync(path.join(runDir, 'ballast.yaml'), 'utf8')).toContain('spam-filter');
    // The commands it suggests work from here (the checkout: npx finds the package's own bin).
    const monitorLine = /^ {2}One monitor's history from the shell: (.+)$/m.exec(r.stdout)![1]!;
    expect(monitorLine).toBe(`npx ballast monitor --config ${path.join(runDir, 'ballast.yaml')} --data-dir ${runDir} --service spam-filter --monitor input_drift`);
    const monitor = spawnSync('sh', ['-c', monitorLine], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    expect(monitor.status, monitor.stderr).toBe(0);
    expect(monitor.stdout).toMatch(/^spam-filter input_drift: \d+ evaluations/);
    expect(r.stdout).toMatch(/^ {2}npx ballast audit verify --data-dir \S+ {3}# or: npx ballast audit prove/m);
    expect(r.stdout).not.toMatch(/^ +ballast /m);

    // A second run into the same data dir finds the cached model instead of training again, and reports
    // only its own run: a fresh store (20 decisions, not 420), none of the first run's alerts.
    const again = await runCli(['demo', '--exit', '--port', '0', '--limit', '20', '--no-progress', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('loaded from cache');
    expect(runDirOf(again.stdout)).toBe(runDir);
    expect(again.stdout).toMatch(/Decisions: 20 \(0 refused by the API\)/);
    expect(checkSummary(again.stdout)).toEqual([]);
    for (const id of firstAlerts) expect(again.stdout).not.toContain(id);
    // Twenty messages of one week, split between the versions: each version's table folds its part.
    const small = [...again.stdout.matchAll(/not shown: 1 week with fewer than 30 messages \(the monitors' minSamples\), which no monitor judges: 2002-08-26 \((\d+)\)/g)];
    expect(small.reduce((n, m) => n + Number(m[1]), 0)).toBe(20);
    const second = await openStore({ kind: 'sqlite', path: path.join(runDir, 'ballast.db') });
    try {
      expect(await second.decisions.list({ service: 'spam-filter', limit: 1000 })).toHaveLength(20);
      expect(await second.alerts.list({ service: 'spam-filter', limit: 1000 })).toEqual([]);
    } finally {
      await second.close();
    }
  }, 240_000);

  it('on the whole corpus, opens the quality breaker when the labelled accuracy of late September 2002 falls below its floor, and sends the rest to review', async () => {
    const fullDir = mkdtempSync(path.join(os.tmpdir(), 'ballast-demo-full-'));
    try {
      const r = await runCli(['demo', '--exit', '--port', '0', '--no-progress', '--data-dir', fullDir], { timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      // On the whole corpus too: one alert nobody acknowledged, escalated once.
      checkOwnership(r.stdout);
      // The canary splits late September's mail between the versions by sender: each version's breaker opens
      // on the first week its own labelled accuracy falls below the floor, and at least one does on 23 September.
      const openings = [...r.stdout.matchAll(/opened on judging the week of (\d{4}-\d{2}-\d{2}) \(\S+ wall clock\) for (logreg-v[12]): labelled accuracy ([\d.]+)% is below the floor 90\.0% \(window from (\d{4}-\d{2}-\d{2})\)/g)];
      expect(openings.length, r.stdout).toBeGreaterThan(0);
      expect(openings.map((m) => m[1]).sort()[0]).toBe('2002-09-23');
      for (const m of openings) {
        expect(m[4]).toBe(m[1]);
        expect(Number(m[3])).toBeLessThan(90);
      }
      const openedOn = new Map(openings.map((m) => [m[2]!, m[1]!]));
      const skipped = /from then on the model was not called: (\d+) messages \(sent from (\d{4}-\d{2}-\d{2}) on\) went to review/.exec(r.stdout)!;
      // From the week after an opening: 30 September, or 7 October when logreg-v2 was promoted before it and opened on 30 September.
      expect([...openedOn.values()].map(nextWeek)).toContain(skipped[2]);

      // The cross-check: naive Bayes agrees with the served model on the first weeks' mail and parts from it as the
      // mail drifts: every week from 23 September on agrees less than every week before it; the mail people sorted
      // while the breaker was open is not compared.
      const crossCheck = crossCheckSection(r.stdout);
      const early = crossCheck.rows.filter((w) => w.week < '2002-09-23');
      const late = crossCheck.rows.filter((w) => w.week >= '2002-09-23');
      expect(early.map((w) => w.week)).toEqual(['2002-08-26', '2002-09-02', '2002-09-09', '2002-09-16']);
      expect(late.length).toBeGreaterThan(0);
      expect(Math.max(...late.map((w) => w.rate))).toBeLessThan(Math.min(...early.map((w) => w.rate)));
      expect(crossCheck.notCompared).toBe(Number(skipped[1]));
      expect(crossCheck.checked + crossCheck.notCompared).toBe(2418);
      // Most of what the disagreements sent to people was the served model's mistake.
      expect(crossCheck.servedWrong).toBeGreaterThan(crossCheck.sent / 2);

      // The summary on the whole corpus: counts that agree, the small weeks of October–July folded into
      // one line, and the monitors' states dated by the messages' weeks (the labelled accuracy since the
      // week that opened the breaker).
      const alerts = checkSummary(r.stdout);
      expect(alerts.length).toBeGreaterThan(0);
      const folded = [...r.stdout.matchAll(/^ {2}not shown: (\d+) weeks? with fewer than 30 messages \(the monitors' minSamples\), which no monitor judges: (.+); (\d+) messages? in all$/gm)];
      expect(folded.length, r.stdout).toBeGreaterThan(0);
      expect(folded.map((m) => m[2]).join(', ')).toMatch(/2002-10-14 \(\d\)/);
      expect(r.stdout).toMatch(/^ {4}ALERT +accuracy since the week of 2002-09-23: accuracy 0\.\d+ < alert bound/m);

      // The store agrees: the breaker's change is kept with the monitor values behind it, and every
      // decision of a message sent after that week went to review without a model call.
      const store = await openStore({ kind: 'sqlite', path: path.join(runDirOf(r.stdout), 'ballast.db') });
      try {
        const history = await store.breakers.list({ service: 'spam-filter', limit: 10 });
        expect(history.map((t) => `${t.version}:${t.kind}:${t.from}>${t.to}`).sort()).toEqual([...openedOn.keys()].sort().map((v) => `${v}:quality:closed>open`));
        for (const t of history) expect(t.figures).toMatchObject({ monitor: 'accuracy', floor: 0.9, window: { start: `${openedOn.get(t.version)}T00:00:00.000Z` } });
        const decisions: Awaited<ReturnType<typeof store.decisions.list>> = [];
        for (let after: string | undefined; ; ) {
          const page = await store.decisions.list({ service: 'spam-filter', limit: 1000, ...(after === undefined ? {} : { after }) });
          decisions.push(...page);
          if (page.length < 1000) break;
          after = page.at(-1)!.id;
        }
        const modelError = (d: (typeof decisions)[number]) => (d.explanation as { modelError?: { code: string } }).modelError?.code;
        const sentAt = (d: (typeof decisions)[number]) => String((d.input as { sent_at: string }).sent_at);
        // Every message a version served after the week that opened its breaker went to review without a
        // model call; nothing did before; the summary's count is the store's.
        const broken = (d: (typeof decisions)[number]) => openedOn.has(d.version ?? '') && sentAt(d) >= nextWeek(openedOn.get(d.version!)!);
        expect(decisions.filter(broken).every((d) => d.outcome === 'review' && modelError(d) === 'QUALITY_BREAKER_OPEN')).toBe(true);
        expect(decisions.filter((d) => !broken(d)).some((d) => modelError(d) === 'QUALITY_BREAKER_OPEN')).toBe(false);
        expect(decisions.filter((d) => modelError(d) === 'QUALITY_BREAKER_OPEN').length).toBe(Number(skipped[1]));
        expect(crossChecksInStore(decisions)).toEqual({ compared: crossCheck.checked, agreed: crossCheck.agreed, reviewed: crossCheck.sent });
        // The alerts the summary lists are this run's alerts in the store, all of them.
        expect((await store.alerts.list({ service: 'spam-filter', limit: 1000 })).map((a) => a.id).sort()).toEqual([...alerts].sort());
      } finally {
        await store.close();
      }
    } finally {
      rmSync(fullDir, { recursive: true, force: true });
    }
  }, 240_000);
});
