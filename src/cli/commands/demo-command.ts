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
  prepareDemoRunDir,
  replayTraffic,
  shellWord,
  startDemoReceiver,
  summarize,
  writeDemoConfig,
  writeSpamReferenceFile,
  type BreakerChange,
  type ReplayedDecision,
} from '../../demo/index.js';
import { localActor, type ApiKeyView, type KeyManager } from '../../governance/index.js';
import { localUser } from '../runtime.js';
import { startServing, untilSignal } from '../serve-runtime.js';
import { referenceBuildCommand } from './reference-command.js';

/** The environment variable the demo's alert rule names for its webhook secret. */
export const DEMO_WEBHOOK_SECRET = 'BALLAST_DEMO_WEBHOOK_SECRET';

const demoRoles = { decider: 'demo-replay', labeler: 'demo-mailbox', operator: 'demo-monitoring', reviewer: 'demo-reviewer', viewer: 'demo-viewer' } as const;
type DemoRole = keyof typeof demoRoles;

/** One key per job of the demo, each audited as made by the local user. */
async function createDemoKeys(keys: KeyManager) {
  const tokens = {} as Record<DemoRole, string>;
  const ids = {} as Record<DemoRole, string>;
  const list: ApiKeyView[] = [];
  for (const [role, principal] of Object.entries(demoRoles) as Array<[DemoRole, string]>) {
    const person = role === 'reviewer' || role === 'viewer';
    const { key, token } = await keys.create({ principal, role, kind: person ? 'person' : 'workload', expiresInMs: 7 * 24 * 3600_000 }, { actor: localActor(localUser()) });
    tokens[role] = token;
    ids[role] = key.id;
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

  // Alerts go to a signed webhook; the secret reaches Ballast as a user's would, through the environment.
  const secret = process.env[DEMO_WEBHOOK_SECRET] ?? `whsec_${randomBytes(24).toString('base64')}`;
  process.env[DEMO_WEBHOOK_SECRET] = secret;
  const receiver = await startDemoReceiver(secret);
  const configPath = writeDemoConfig(runDir, model.weightsPath, { url: receiver.url, secretName: DEMO_WEBHOOK_SECRET }, (file) => `${cli} serve --config ${shown(file)} --data-dir ${shown(runDir)}`);

  // The reference the monitors compare with: the training messages, built as a user would with `ballast reference build`.
  const referenceFile = await writeSpamReferenceFile(demoDir, model);
  await referenceBuildCommand(
    { configPath, service: 'spam-filter', file: referenceFile, name: 'default', labelField: 'label', predictionField: 'prediction', confidenceField: 'confidence', dataDir: runDir, redactionKey: options.redactionKey },
    (line) => out(`  ${line}`),
  );

  const running = await startServing({ configPath, host: options.host, port: options.port, dataDir: runDir, redactionKey: options.redactionKey, logLevel: 'error' });
  out(`Serving spam-filter on ${running.url} (config: ${configPath}), with API keys required`);
  try {
    // The demo acts as a team would: a key per job, each with the narrowest role that does it.
    const demoKeys = await createDemoKeys(running.server.keys);
    if (running.firstAdminKey !== undefined) out(`  first start on ${displayPath(runDir)}: made the admin key ${running.firstAdminKey.id} (principal admin), shown once: ${running.firstAdminKey.token}`);
    out(`  keys for this run: ${demoKeys.list.map((k) => `${k.principal} (${k.role})`).join(', ')}`);
    const messages = options.limit === undefined ? model.served : model.served.slice(0, options.limit);
    const bar = options.progress && process.stdout.isTTY ? new cliProgress.SingleBar({ format: 'Replaying {bar} {value}/{total} messages | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(messages.length, 0);
    const operator = { authorization: `Bearer ${demoKeys.tokens.operator}`, 'content-type': 'application/json' };
    const result = await replayTraffic({
      url: running.url,
      messages,
      concurrency: options.concurrency,
      labelShare: options.labelShare,
      keys: { decider: demoKeys.tokens.decider, labeler: demoKeys.tokens.labeler },
      onProgress: (done) => bar?.update(done),
      // Once a week (of the messages' dates) the labels are in: the monitors judge the week, and a
      // week below the accuracy floor opens the quality breaker before the next week's mail arrives.
      onWeekEnd: async (_week, count) => {
        if (count < 30) return;
        await new Promise((resolve) => setTimeout(resolve, 1050));
        const answer = await fetch(`${running.url}/v1/services/spam-filter/monitors/evaluate`, { method: 'POST', headers: operator, body: '{}' });
        if (!answer.ok) throw new Error(`evaluating the monitors answered ${answer.status}: ${await answer.text()}`);
      },
    });
    bar?.stop();
    out('');
    out('Summary');
    for (const line of formatSummary(summarize(result))) out(line);
    if (result.refused.length > 0) out(`Refused: ${result.refused.slice(0, 5).map((r) => `${r.messageId} ${r.status} ${r.code}`).join('; ')}`);
    for (const line of await breakerLines(running.url, demoKeys.tokens.operator, result.decisions, cli)) out(line);

    // Labels are judged once due (labelDelay 2 s in the demo's config); then evaluate every week and deliver the alerts.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const report = await fetchMonitoringReport(running.url, 'spam-filter', demoKeys.tokens.operator);
    await running.runtime.monitoring.dispatcher.deliverDue();
    out('');
    const monitorCommand = `${cli} monitor --config ${shown(configPath)} --data-dir ${shown(runDir)} --service spam-filter --monitor input_drift`;
    for (const line of formatMonitoringReport(report, { minSamples: DEMO_MIN_SAMPLES, webhook: { url: receiver.url, deliveries: receiver.received }, monitorCommand })) out(line);
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
    await running.stop();
    await receiver.close();
  }
}
