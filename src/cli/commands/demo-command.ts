import { randomBytes } from 'node:crypto';
import path from 'node:path';
import cliProgress from 'cli-progress';
import {
  ballastCommand,
  DEMO_MIN_SAMPLES,
  displayPath,
  fetchMonitoringReport,
  formatBreakerLines,
  formatMonitoringReport,
  formatSummary,
  loadOrTrainSpamModel,
  loadOrTrainSpamBayes,
  fetchSettledLabels,
  prepareDemoRunDir,
  replayTraffic,
  shellWord,
  startDemoReceiver,
  summarize,
  writeDemoConfig,
  writeSpamReferenceFile,
  apiClient,
  DEMO_SECOND_VERSION,
  formatRollout,
  measureRollback,
  planPhases,
  secondRevisionText,
  trainSecondVersion,
  weekOf,
  writeFirstTrainingData,
  workReviewQueue,
  CREDIT_SERVICE,
  CREDIT_SECOND_VERSION,
  exportAndRetrain,
  creditAnswer,
  creditLabelOf,
  creditServiceConfig,
  fileCreditAppeal,
  formatFairness,
  prepareCredit,
  replayCredit,
  type CreditDecision,
  type DemoFairnessReport,
  formatPeopleMonitors,
  formatReviewStats,
  DEMO_REVIEW_SLA,
  type DemoReviewStats,
  type ReviewSessionResult,
  type SeenItem,
  type BreakerChange,
  type ReplayedDecision,
  type ReplayResult,
  type RolloutStatus,
  type SecondVersion,
  type SpamMessage,
  CREDIT_RUNBOOK,
  DEMO_ESCALATION_AFTER,
  formatOwnershipReport,
  startDemoOnCall,
  type DemoOnCall,
} from '../../demo/index.js';
import { localActor, type ApiKeyView, type KeyManager } from '../../governance/index.js';
import { localUser } from '../runtime.js';
import { startServing, untilSignal } from '../serve-runtime.js';
import { referenceBuildCommand } from './reference-command.js';

/** The environment variable the demo's alert rule names for its webhook secret. */
export const DEMO_WEBHOOK_SECRET = 'BALLAST_DEMO_WEBHOOK_SECRET';

/** One key per job of the demo: its principal and the narrowest role that does it. */
const demoJobs = {
  decider: ['demo-replay', 'decider'],
  labeler: ['demo-mailbox', 'labeler'],
  operator: ['demo-monitoring', 'operator'],
  release: ['demo-release', 'operator'],
  approver: ['demo-approver', 'approver'],
  reviewer: ['demo-reviewer', 'reviewer'],
  reviewer2: ['demo-reviewer-2', 'reviewer'],
  senior: ['demo-senior', 'senior-reviewer'],
  viewer: ['demo-viewer', 'viewer'],
  auditor: ['demo-auditor', 'auditor'],
} as const;
type DemoJob = keyof typeof demoJobs;
/** Jobs a person does (the rest are workloads). */
const personJobs: ReadonlySet<DemoJob> = new Set(['release', 'approver', 'reviewer', 'reviewer2', 'senior', 'viewer', 'auditor']);

/** One key per job of the demo, each audited as made by the local user. */
async function createDemoKeys(keys: KeyManager) {
  const tokens = {} as Record<DemoJob, string>;
  const ids = {} as Record<DemoJob, string>;
  const list: ApiKeyView[] = [];
  for (const [job, [principal, role]] of Object.entries(demoJobs) as Array<[DemoJob, readonly [string, string]]>) {
    const { key, token } = await keys.create({ principal, role, kind: personJobs.has(job) ? 'person' : 'workload', expiresInMs: 7 * 24 * 3600_000 }, { actor: localActor(localUser()) });
    tokens[job] = token;
    ids[job] = key.id;
    list.push(key);
  }
  return { tokens, ids, list };
}

export interface DemoCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly redactionKey?: string;
  readonly exit: boolean;
  readonly limit?: number;
  readonly concurrency: number;
  readonly labelShare: number;
  readonly progress: boolean;
}

/** What the quality breaker did in the replay, read through the API. */
async function breakerLines(url: string, operatorKey: string, decisions: readonly ReplayedDecision[], cli: string): Promise<string[]> {
  const answer = await fetch(`${url}/v1/services/spam-filter/breakers`, { headers: { authorization: `Bearer ${operatorKey}` } });
  if (!answer.ok) throw new Error(`reading the breakers answered ${answer.status}: ${await answer.text()}`);
  const body = (await answer.json()) as { history: BreakerChange[] };
  return formatBreakerLines(body.history, decisions, url, cli);
}

/** Trains (or loads) the demo model, serves it, replays the newer messages and prints a summary. */
export async function demoCommand(options: DemoCommandOptions, out: (line: string) => void): Promise<void> {
  const demoDir = path.join(options.dataDir, 'demo');
  // This run's store, keys, audit log and config: fresh every run, so the report is this run's alone.
  const runDir = prepareDemoRunDir(options.dataDir);
  const cli = ballastCommand();
  const shown = (p: string) => shellWord(displayPath(p));
  out('Ballast demo: a spam filter trained on the older SpamAssassin public corpus, served the newer messages.');
  out(`This run's data (decision log, keys, audit log, config): ${displayPath(runDir)} (made fresh for this run; the next demo run replaces it; the trained model is cached in ${displayPath(demoDir)})`);
  const model = await loadOrTrainSpamModel({ cacheDir: demoDir, onProgress: (stage) => out(`  ${stage}`) });
  const { split, heldOut } = model;
  out(`Model: ${model.trainedNow ? 'trained now' : 'loaded from cache'} (${model.weightsPath})`);
  out(`  trained on ${split.train} messages dated up to ${split.cutDate.toISOString().slice(0, 10)}${model.trainMs === null ? '' : ` in ${(model.trainMs / 1000).toFixed(1)} s`}; serving the ${split.served} newer ones (${split.undated} undated left out)`);
  out(`  held-out accuracy on the newer messages: ${(100 * heldOut.accuracy).toFixed(1)}% (precision ${(100 * heldOut.precision).toFixed(1)}%, recall ${(100 * heldOut.recall).toFixed(1)}%, n=${heldOut.n})`);
  // The cross-check: naive Bayes on the same older messages, asked for a second opinion on every answer.
  const checker = await loadOrTrainSpamBayes(demoDir, model);
  out(`Cross-check model bayes-v1 (naive Bayes): ${checker.trainedNow ? 'trained now' : 'loaded from cache'} (${checker.weightsPath}); held-out accuracy ${(100 * checker.heldOut.accuracy).toFixed(1)}% on the same newer messages`);

  // Alerts go to a signed webhook; the secret reaches Ballast as a user's would, through the environment.
  const secret = process.env[DEMO_WEBHOOK_SECRET] ?? `whsec_${randomBytes(24).toString('base64')}`;
  process.env[DEMO_WEBHOOK_SECRET] = secret;
  const receiver = await startDemoReceiver(secret);
  // The mail client's end of the review queue: it hears each reviewed message's outcome.
  const reviewReceiver = await startDemoReceiver(secret);
  // The escalation route: where an alert nobody on call acknowledged goes, once, after DEMO_ESCALATION_AFTER.
  const escalationReceiver = await startDemoReceiver(secret, '/escalations');
  const alertTarget = { url: receiver.url, secretName: DEMO_WEBHOOK_SECRET, reviewUrl: reviewReceiver.url, escalationUrl: escalationReceiver.url };
  // The first version's lineage in the registry: what it was trained on, and its cross-validated accuracy.
  const outOfFoldRight = model.train.filter((m) => model.outOfFold.get(m.id)?.label === m.label).length;
  const firstRegistry = {
    trainingData: { ref: await writeFirstTrainingData(runDir, model.train), rows: model.train.length, description: `the ${model.train.length} older messages, dated up to ${split.cutDate.toISOString().slice(0, 10)}` },
    evaluation: { dataset: `${model.outOfFold.size} training messages, 5-fold cross-validation`, metrics: { accuracy: Math.round((10_000 * outOfFoldRight) / Math.max(1, model.outOfFold.size)) / 10_000 } },
  };
  // The second service: a credit pre-check on German Credit, trained now (a fraction of a second).
  const credit = prepareCredit(runDir);
  out(`Credit model: trained in ${credit.trainMs.toFixed(0)} ms on ${credit.train.length} applicants of Statlog German Credit (without the protected attributes); held-out accuracy ${(100 * credit.heldOut.accuracy).toFixed(1)}% on the other ${credit.live.length} (always "good": ${(100 * credit.heldOut.majorityAccuracy).toFixed(1)}%)`);
  const creditReceiver = await startDemoReceiver(secret);
  const creditBlock = {
    ...creditServiceConfig(credit.weightsPath),
    // Declines are adverse actions: people decide the unsure ones within a working day, and the lender hears back.
    review: { sla: '8h', lease: '5m', webhook: { url: creditReceiver.url, secret: DEMO_WEBHOOK_SECRET } },
    fairness: { favourable: { pointer: '/label', equals: 'approve' }, minGroupCount: 30, bounds: { minSelectionRatio: 0.8, maxEqualOpportunityDifference: 0.1 } },
    ownership: { runbook: CREDIT_RUNBOOK, onCall: { url: receiver.url, secret: DEMO_WEBHOOK_SECRET }, escalation: { after: DEMO_ESCALATION_AFTER, url: escalationReceiver.url, secret: DEMO_WEBHOOK_SECRET } },
  };
  const moreServices = { [CREDIT_SERVICE]: creditBlock };
  const configPath = writeDemoConfig(runDir, model.weightsPath, alertTarget, (file) => `${cli} serve --config ${shown(file)} --data-dir ${shown(runDir)}`, { first: firstRegistry, services: moreServices, checker: checker.weightsPath });

  // The reference the monitors compare with: the training messages, built as a user would with `ballast reference build`.
  const referenceFile = await writeSpamReferenceFile(demoDir, model);
  await referenceBuildCommand(
    { configPath, service: 'spam-filter', file: referenceFile, name: 'default', labelField: 'label', predictionField: 'prediction', confidenceField: 'confidence', dataDir: runDir, redactionKey: options.redactionKey },
    (line) => out(`  ${line}`),
  );

  const running = await startServing({ configPath, host: options.host, port: options.port, dataDir: runDir, redactionKey: options.redactionKey, logLevel: 'error' });
  let onCall: DemoOnCall | undefined;
  out(`Serving spam-filter on ${running.url} (config: ${configPath}), with API keys required`);
  try {
    // The demo acts as a team would: a key per job, each with the narrowest role that does it.
    const demoKeys = await createDemoKeys(running.server.keys);
    if (running.firstAdminKey !== undefined) out(`  first start on ${displayPath(runDir)}: made the admin key ${running.firstAdminKey.id} (principal admin), shown once: ${running.firstAdminKey.token}`);
    out(`  keys for this run: ${demoKeys.list.map((k) => `${k.principal} (${k.role})`).join(', ')}`);
    // The person on call (demo-monitoring, an operator) acknowledges the alerts as they fire, but misses one.
    onCall = startDemoOnCall({ url: running.url, token: demoKeys.tokens.operator, principal: demoJobs.operator[0], services: ['spam-filter', CREDIT_SERVICE] });
    const messages = options.limit === undefined ? model.served : model.served.slice(0, options.limit);
    const bar = options.progress && process.stdout.isTTY ? new cliProgress.SingleBar({ format: 'Replaying {bar} {value}/{total} messages | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(messages.length, 0);
    const operator = { authorization: `Bearer ${demoKeys.tokens.operator}`, 'content-type': 'application/json' };
    const release = apiClient(running.url, demoKeys.tokens.release);
    const approver = apiClient(running.url, demoKeys.tokens.approver);
    const weekSizes = new Map<string, number>();
    for (const m of messages) weekSizes.set(weekOf(m.date!), (weekSizes.get(weekOf(m.date!)) ?? 0) + 1);
    const loop: string[] = [];
    const all: ReplayResult[] = [];
    let sent = 0;
    // The truth of every replayed message, by decision id: what the demo's reviewers know.
    const truthOf = new Map<string, 'spam' | 'ham'>();
    const sessions: ReviewSessionResult[] = [];
    const reviewers = [
      { principal: demoJobs.reviewer[0], token: demoKeys.tokens.reviewer },
      { principal: demoJobs.reviewer2[0], token: demoKeys.tokens.reviewer2 },
    ];
    const senior = { principal: demoJobs.senior[0], token: demoKeys.tokens.senior };
    const spamAnswer = (label: 'spam' | 'ham') => ({ label, spam_probability: label === 'spam' ? 1 : 0 });
    /** The reviewers' session after a stretch of mail: each takes up to `capacity` items; the senior takes what was escalated. */
    const reviewSession = async (capacity?: number) => {
      const common = {
        url: running.url,
        services: ['spam-filter'],
        truth: (item: SeenItem) => {
          const t = truthOf.get(item.decisionId);
          return t === undefined ? undefined : spamAnswer(t);
        },
        sameLabel: (a: unknown, b: unknown) => (a as { label?: unknown } | null)?.label === (b as { label?: unknown } | null)?.label,
        opposite: (a: unknown) => spamAnswer((a as { label: string }).label === 'spam' ? 'ham' : 'spam'),
        accuracy: 0.95,
      };
      sessions.push(await workReviewQueue({ ...common, reviewers, ...(capacity === undefined ? {} : { capacity }) }));
      sessions.push(await workReviewQueue({ ...common, reviewers: [senior], ...(capacity === undefined ? {} : { capacity }) }));
    };
    // Set once logreg-v2 is trained; the approval's reason quotes its evaluation.
    const trained: { v2?: SecondVersion } = {};
    /** What the team does once a week's labels are in, after the monitors: the rollout's analysis, and an approval when it waits for one. */
    const afterWeek = async () => {
      await running.runtime.safeChange.rollouts.tick();
      const status = await release<RolloutStatus>('GET', '/v1/services/spam-filter/rollout').catch(() => undefined);
      if (status?.rollout.state !== 'paused' || status.rollout.status.awaiting !== 'approval') return;
      const reason = `the canary passed its analysis; holdout accuracy ${(100 * trained.v2!.holdout.second.accuracy).toFixed(1)}% against ${(100 * trained.v2!.holdout.first.accuracy).toFixed(1)}%`;
      await approver('POST', `/v1/services/spam-filter/models/${DEMO_SECOND_VERSION}/approvals`, { decision: 'approve', reason });
      loop.push(`  ${DEMO_SECOND_VERSION} approved by ${demoJobs.approver[0]} (${demoJobs.approver[1]}; not its author ${demoJobs.release[0]}): ${reason}`);
      await release('POST', '/v1/services/spam-filter/rollout/promote', { reason: 'approved: promote to 100%' });
    };
    /** Replays `list`; `next` is the message after it, so a week cut in two is judged once, when it is whole. */
    const replay = async (list: readonly SpamMessage[], next: SpamMessage | undefined, onProgress?: (done: number) => void) => {
      const offset = sent;
      const result = await replayTraffic({
        url: running.url,
        messages: list,
        concurrency: options.concurrency,
        labelShare: options.labelShare,
        keys: { decider: demoKeys.tokens.decider, labeler: demoKeys.tokens.labeler },
        onProgress: (done) => {
          bar?.update(offset + done);
          onProgress?.(done);
        },
        // Once a week (of the messages' dates) the labels are in: the monitors judge the week, and a
        // week below the accuracy floor opens the quality breaker before the next week's mail arrives.
        onWeekEnd: async (week) => {
          if (next !== undefined && weekOf(next.date!) === week) return;
          if ((weekSizes.get(week) ?? 0) >= 30) {
            await new Promise((resolve) => setTimeout(resolve, 1050));
            const answer = await fetch(`${running.url}/v1/services/spam-filter/monitors/evaluate`, { method: 'POST', headers: operator, body: '{}' });
            if (!answer.ok) throw new Error(`evaluating the monitors answered ${answer.status}: ${await answer.text()}`);
          }
          await afterWeek();
        },
      });
      sent += list.length;
      all.push(result);
      for (const d of result.decisions) truthOf.set(d.id, d.truth);
      // A team with a day's capacity: what it does not reach waits, and some of it runs past its SLA.
      await reviewSession(40);
      return result;
    };

    // 1. The first weeks on logreg-v1 alone.
    const phases = planPhases(messages);
    const first = await replay(phases.first, phases.shadow[0] ?? phases.canary[0]);
    // 2. logreg-v2: the older messages plus the labels that came back, registered with its lineage by a new revision.
    const secondModel = await trainSecondVersion({ dir: runDir, train: model.train, served: phases.first, decisions: first.decisions, first: model.weights, cutDate: split.cutDate });
    trained.v2 = secondModel;
    const applied = await release<{ revision: number; plan: { changes: { kind: string; path: string }[] } }>('POST', '/v1/config', { config: secondRevisionText(model.weightsPath, alertTarget, firstRegistry, secondModel, moreServices, checker.weightsPath), reason: `${DEMO_SECOND_VERSION}: retrained with the labels of the first weeks` });
    const v2 = await release<{ digest: string; author: string; state: string; spec: { artifacts: { sha256: string }[]; trainingData: { sha256: string; rows: number } } }>('GET', `/v1/services/spam-filter/models/${DEMO_SECOND_VERSION}`);
    loop.push(`  ${DEMO_SECOND_VERSION}: trained in ${(secondModel.trainMs / 1000).toFixed(1)} s on ${secondModel.older} older messages + ${secondModel.returned} labels returned for the mail of the week${secondModel.weeks.length === 1 ? '' : 's'} of ${secondModel.weeks.join(', ')}; on ${secondModel.holdout.n} returned labels kept out of training: accuracy ${(100 * secondModel.holdout.second.accuracy).toFixed(1)}% (logreg-v1: ${(100 * secondModel.holdout.first.accuracy).toFixed(1)}%)`);
    loop.push(`  registered by ${v2.author} in revision ${applied.revision} (${applied.plan.changes.map((c) => `${c.kind} ${c.path}`).join(', ')}): digest ${v2.digest.slice(0, 19)}…, weights sha256 ${v2.spec.artifacts[0]!.sha256.slice(0, 12)}…, training data ${v2.spec.trainingData.rows} rows sha256 ${v2.spec.trainingData.sha256.slice(0, 12)}…`);

    // 3. Shadow: every message of the next weeks copied to logreg-v2, never answered by it.
    await release('POST', '/v1/services/spam-filter/rollouts', { candidate: DEMO_SECOND_VERSION, strategy: 'shadow', share: 1, pause: { minDecisions: Math.max(1, Math.min(200, Math.round(0.6 * phases.shadow.length))) }, reason: 'watch v2 on live mail first' });
    await replay(phases.shadow, phases.canary[0]);
    // The copies are answered and written off the request path, in batches: let the last batch land.
    for (let waited = 0, last = -1; waited < 10_000; waited += 100) {
      const stats = running.runtime.shadow.stats();
      if (stats.inFlight === 0 && stats.recorded + stats.dropped === last) break;
      last = stats.recorded + stats.dropped;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await running.runtime.safeChange.rollouts.tick();
    const shadow = await release<RolloutStatus>('GET', '/v1/services/spam-filter/rollout');
    if (shadow.rollout.state === 'running' || shadow.rollout.state === 'paused') await release('POST', '/v1/services/spam-filter/rollout/abort', { reason: 'the shadow weeks are over' });
    loop.push(...formatRollout((await release<RolloutStatus>('GET', '/v1/services/spam-filter/rollout')) ?? shadow, 'Shadow'));

    // 4. The canary, with a rollback drill under load at its start: rolled back mid-replay, then retried.
    const drillRollout = await release<{ id: string }>('POST', '/v1/services/spam-filter/rollouts', { candidate: DEMO_SECOND_VERSION, reason: 'canary of v2' });
    const drillCount = Math.min(120, Math.max(2, Math.round(0.3 * phases.canary.length)));
    let rollback: Promise<{ sentAtMs: number; answeredAtMs: number; tookMs: number | null }> | undefined;
    const drill = await replay(phases.canary.slice(0, drillCount), phases.canary[drillCount], (done) => {
      if (done !== Math.ceil(drillCount / 2) || rollback !== undefined) return;
      const sentAtMs = performance.now();
      rollback = release<{ tookMs?: number }>('POST', '/v1/services/spam-filter/rollback', { reason: 'rollback drill' }).then((answer) => ({ sentAtMs, answeredAtMs: performance.now(), tookMs: answer.tookMs ?? null }));
    });
    const rolledBack = rollback === undefined ? undefined : await rollback;
    const timing = rolledBack === undefined ? undefined : measureRollback(drill.decisions, rolledBack.sentAtMs, rolledBack.answeredAtMs, rolledBack.tookMs);
    if (timing !== undefined) {
      loop.push(
        `  Rollback drill (rollout ${drillRollout.id}, canary at 50%, ${options.concurrency} callers): rollback answered in ${timing.commandMs.toFixed(1)} ms (server ${timing.tookMs?.toFixed(1) ?? '?'} ms); ${timing.lastCandidateMs > 0 ? `the last decision ${DEMO_SECOND_VERSION} served completed ${timing.lastCandidateMs.toFixed(1)} ms after the command was sent` : `every decision ${DEMO_SECOND_VERSION} served had completed before the command was sent`}; ${timing.candidateAfter} decisions sent after it answered were served by ${DEMO_SECOND_VERSION} (${timing.decisions} decisions in the drill, ${timing.candidateBefore} served by ${DEMO_SECOND_VERSION} before it)`,
      );
    }
    await release('POST', '/v1/services/spam-filter/rollout/retry', { reason: 'the drill is over: the canary again, from its first step' });
    await replay(phases.canary.slice(drillCount), undefined);
    bar?.stop();
    // The backlog, worked to the end (the SLA sweep has escalated what waited too long: the senior takes those).
    await running.server.reviews.sweep();
    await reviewSession();

    // The credit pre-check: applications from the held-out applicants, their outcomes as labels, the queue worked,
    // an appeal by a declined applicant who would have repaid, and the fairness of it all per protected group.
    const creditSince = new Date().toISOString();
    const creditDecisions: CreditDecision[] = await replayCredit({ url: running.url, rows: credit.live, decider: demoKeys.tokens.decider, labeler: demoKeys.tokens.labeler, concurrency: options.concurrency });
    const creditTruth = new Map(creditDecisions.map((d) => [d.id, creditLabelOf(d.row)]));
    const creditSessions: ReviewSessionResult[] = [];
    const creditSession = async () => {
      const common = {
        url: running.url,
        services: [CREDIT_SERVICE],
        truth: (item: SeenItem) => {
          const t = creditTruth.get(item.decisionId);
          return t === undefined ? undefined : creditAnswer(t);
        },
        sameLabel: (a: unknown, b: unknown) => (a as { label?: unknown } | null)?.label === (b as { label?: unknown } | null)?.label,
        opposite: (a: unknown) => creditAnswer((a as { label: string }).label === 'approve' ? 'decline' : 'approve'),
        accuracy: 0.9,
      };
      creditSessions.push(await workReviewQueue({ ...common, reviewers }));
      creditSessions.push(await workReviewQueue({ ...common, reviewers: [senior] }));
    };
    await creditSession();
    const appeal = await fileCreditAppeal({ url: running.url, decider: demoKeys.tokens.decider, decisions: creditDecisions });
    await creditSession();
    await running.runtime.monitoring.fairness.evaluate();
    // The next version is trained from an export of what was decided, labelled by outcomes and by people, and registered with it as its lineage.
    const retrain = await exportAndRetrain({ url: running.url, auditor: demoKeys.tokens.auditor, operator: demoKeys.tokens.release, dir: runDir, train: credit.train, since: creditSince, until: new Date(Date.now() + 1).toISOString() });
    await running.runtime.safeChange.rollouts.tick();
    const canary = await release<RolloutStatus>('GET', '/v1/services/spam-filter/rollout');
    loop.push(...formatRollout(canary, 'Canary'));
    const live = ((await release<{ live?: string }>('GET', '/v1/services/spam-filter')).live ?? '?');
    loop.push(`  Live now: ${live} (revision ${running.runtime.catalog.revision}); ${DEMO_SECOND_VERSION} ${canary.rollout.state === 'promoted' ? 'was promoted on its merit' : `was not promoted: its rollout is ${canary.rollout.state}`}. History: ${cli} models history --server ${running.url} --service spam-filter`);

    const result: ReplayResult = { decisions: all.flatMap((r) => r.decisions), refused: all.flatMap((r) => r.refused), feedbackSent: all.reduce((n, r) => n + r.feedbackSent, 0), elapsedMs: all.reduce((n, r) => n + r.elapsedMs, 0) };
    out('');
    out('Summary');
    const settled = await fetchSettledLabels(running.url, demoKeys.tokens.senior, 'spam-filter', result.decisions);
    for (const line of formatSummary(summarize(result, settled))) out(line);
    if (result.refused.length > 0) out(`Refused: ${result.refused.slice(0, 5).map((r) => `${r.messageId} ${r.status} ${r.code}`).join('; ')}`);
    for (const line of await breakerLines(running.url, demoKeys.tokens.operator, result.decisions, cli)) out(line);
    out('');
    out(`Safe change: ${DEMO_SECOND_VERSION}, from training to ${canary.rollout.state === 'promoted' ? 'live' : canary.rollout.state}`);
    for (const line of loop) out(line);

    // Labels are judged once due (labelDelay 2 s in the demo's config); then evaluate every week and deliver the alerts.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const versions = [...new Set(result.decisions.map((d) => d.version).filter((v): v is string => v !== null))].sort();
    const monitorCommand = `${cli} monitor --config ${shown(configPath)} --data-dir ${shown(runDir)} --service spam-filter --monitor input_drift`;
    for (const [i, version] of versions.entries()) {
      const report = await fetchMonitoringReport(running.url, 'spam-filter', demoKeys.tokens.operator, version);
      if (i === versions.length - 1) await running.runtime.monitoring.dispatcher.deliverDue();
      out('');
      const last = i === versions.length - 1;
      for (const line of formatMonitoringReport(report, { minSamples: DEMO_MIN_SAMPLES, version, ...(last ? { webhook: { url: receiver.url, deliveries: receiver.received }, monitorCommand } : { weeksOnly: true }) })) out(line);
    }
    out('');
    for (const line of await formatOwnershipReport({ url: running.url, token: demoKeys.tokens.operator, services: ['spam-filter', CREDIT_SERVICE], onCall, onCallPrincipal: demoJobs.operator[0], escalation: escalationReceiver, deliverDue: () => running.runtime.monitoring.dispatcher.deliverDue(), cli })) out(line);
    out('');
    out('Humans in the loop (the review queue, worked through the API by demo-reviewer and demo-reviewer-2, escalations by demo-senior):');
    const reviewStats = await apiClient(running.url, demoKeys.tokens.senior)<DemoReviewStats>('GET', '/v1/reviews/stats?service=spam-filter');
    for (const line of formatReviewStats('spam-filter', reviewStats, sessions, { outcomes: reviewReceiver.received.filter((r) => r.type === 'review.decided').length, breaches: reviewReceiver.received.filter((r) => r.type === 'review.sla_breached').length, received: reviewReceiver.received.length, valid: reviewReceiver.received.filter((r) => r.valid).length }, DEMO_REVIEW_SLA)) out(line);
    out(`  the queue: ${cli} review stats --server ${running.url} --service spam-filter`);
    const creditStats = await apiClient(running.url, demoKeys.tokens.senior)<DemoReviewStats>('GET', `/v1/reviews/stats?service=${CREDIT_SERVICE}`);
    const creditHeard = creditReceiver.received;
    for (const line of formatReviewStats(CREDIT_SERVICE, creditStats, creditSessions, { outcomes: creditHeard.filter((r) => r.type === 'review.decided' || r.type === 'appeal.decided').length, breaches: creditHeard.filter((r) => r.type === 'review.sla_breached').length, received: creditHeard.length, valid: creditHeard.filter((r) => r.valid).length }, '8h')) out(line);
    const autoShare = creditDecisions.filter((d) => d.outcome === 'auto').length;
    out(`    ${creditDecisions.length} applications: ${autoShare} decided by the model alone, ${creditDecisions.filter((d) => d.outcome === 'review').length} sent to people (loans above 10,000 to two reviewers; unsure declines always)`);
    if (appeal === null) out('    appeal: no declined applicant who would have repaid, so none was filed');
    else {
      const decided = await apiClient(running.url, demoKeys.tokens.senior)<{ state: string; outcome: { verdict: string; output: { label: string }; overturned?: boolean; reviewers: string[] } | null }>('GET', `/v1/reviews/${appeal.appealId}`);
      out(`    appeal ${appeal.appealId}: applicant ${appeal.decision.row.index} (declined by ${appeal.declinedBy}, who repaid in truth) appealed; ${decided.outcome === null ? `still ${decided.state}` : `re-decided by ${decided.outcome.reviewers.join(', ')}, not by who declined: ${decided.outcome.overturned === true ? `overturned to ${decided.outcome.output.label}` : `upheld (${decided.outcome.output.label})`}`}; the lender heard it by webhook (appeal.decided)`);
    }
    out(formatPeopleMonitors(await running.runtime.monitoring.hub.evaluate(CREDIT_SERVICE, 'all')));
    const fairness = await apiClient(running.url, demoKeys.tokens.operator)<DemoFairnessReport>('GET', `/v1/services/${CREDIT_SERVICE}/fairness`);
    for (const line of formatFairness(fairness)) out(line);
    out(`  fairness: curl -H 'authorization: Bearer <operator key>' ${running.url}/v1/services/${CREDIT_SERVICE}/fairness`);
    const labels = Object.entries(retrain.manifest.labels).map(([kind, n]) => `${n} ${kind}`).join(', ');
    out(`  dataset export (by ${demoJobs.auditor[0]}, audited as dataset.exported): ${retrain.manifest.rows} labelled decisions (${labels}) to ${displayPath(retrain.file)}, sha256 ${retrain.manifest.sha256.slice(0, 16)}… (the saved file: ${retrain.savedSha256 === retrain.manifest.sha256 ? 'the same' : `DIFFERENT, ${retrain.savedSha256.slice(0, 16)}…`})`);
    out(`  ${CREDIT_SECOND_VERSION}: trained on ${retrain.trainedOn} rows (the original ${credit.train.length} and the export), registered by ${demoJobs.release[0]} with digest ${retrain.registered.digest.slice(0, 19)}…; its training data in the registry: ${retrain.registered.trainingData.ref === retrain.file ? 'the export' : retrain.registered.trainingData.ref}, sha256 ${(retrain.registered.trainingData.sha256 ?? 'none').slice(0, 16)}… ${retrain.registered.trainingData.sha256 === retrain.manifest.sha256 ? '(the manifest\'s digest)' : '(NOT the manifest\'s digest)'}`);
    out('');
    out('Access (every request carries an API key; roles decide what it may do):');
    out(`  reviewer key (${demoKeys.ids.reviewer}): ${demoKeys.tokens.reviewer}`);
    out(`  viewer key   (${demoKeys.ids.viewer}): ${demoKeys.tokens.viewer}`);
    const denied = await fetch(`${running.url}/v1/services/spam-filter/decisions`, { method: 'POST', headers: { authorization: `Bearer ${demoKeys.tokens.viewer}`, 'content-type': 'application/json' }, body: '{"input":{"subject":"hi","body":"hello","from":"a@b.c"}}' });
    const deniedBody = (await denied.json()) as { code?: string };
    out(`  the viewer asking for a decision: ${denied.status} ${deniedBody.code ?? ''} (audited as access.denied)`);
    // Every decision, label and audit event is a leaf of the Merkle log; sign it and check it all.
    const checkpoint = await running.runtime.ledger.checkpoint();
    const verification = await running.runtime.ledger.verify();
    out(`Audit log: ${checkpoint.treeSize} entries (decisions, labels, audit events) under a signed checkpoint, root ${checkpoint.rootHash.slice(0, 16)}…; verified: ${verification.ok ? 'ok' : `${verification.problems.length} problems`}`);
    out(`  ${cli} audit verify --data-dir ${shown(runDir)}   # or: ${cli} audit prove <dec_…> --data-dir ${shown(runDir)}`);
    if (options.exit) return;
    const stopSignal = untilSignal();
    const example = result.decisions[0];
    const viewer = `-H 'authorization: Bearer ${demoKeys.tokens.viewer}'`;
    out('');
    out(`Still serving on ${running.url}. Try:`);
    if (example) out(`  curl ${viewer} ${running.url}/v1/decisions/${example.id}`);
    out(`  curl -H 'authorization: Bearer ${demoKeys.tokens.decider}' -H 'content-type: application/json' -d '{"input":{"subject":"WIN $1000 NOW","body":"click here to claim your prize","from":"x@example.com"}}' ${running.url}/v1/services/spam-filter/decisions`);
    out(`  curl ${viewer} ${running.url}/v1/services/spam-filter/monitors`);
    out('Press Ctrl-C to stop.');
    await stopSignal;
  } finally {
    await onCall?.stop();
    await running.stop();
    await receiver.close();
    await escalationReceiver.close();
    await reviewReceiver.close();
    await creditReceiver.close();
  }
}
