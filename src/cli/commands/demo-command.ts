import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { fetchMonitoringReport, formatMonitoringReport, formatSummary, loadOrTrainSpamModel, replayTraffic, summarize, writeDemoConfig, writeSpamReferenceFile, type ReplayedDecision } from '../../demo/index.js';
import { verifyWebhook } from '../../monitoring/alerts/index.js';
import { localActor, type ApiKeyView, type KeyManager } from '../../governance/index.js';
import { localUser } from '../runtime.js';
import { startServing, untilSignal } from '../serve-runtime.js';
import { referenceBuildCommand } from './reference-command.js';

/** The environment variable the demo's alert rule names for its webhook secret. */
export const DEMO_WEBHOOK_SECRET = 'BALLAST_DEMO_WEBHOOK_SECRET';

interface DemoReceiver {
  readonly url: string;
  readonly received: Array<{ readonly valid: boolean; readonly type: string; readonly monitor: string; readonly summary: string }>;
  close(): Promise<void>;
}

/** A webhook receiver on loopback standing in for the on-call tool: it checks every signature. */
async function startReceiver(secret: string): Promise<DemoReceiver> {
  const received: DemoReceiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyWebhook(req.headers as Record<string, string>, body, secret).valid;
      try {
        const payload = JSON.parse(body) as { type?: string; monitor?: string; summary?: string };
        received.push({ valid, type: String(payload.type), monitor: String(payload.monitor), summary: String(payload.summary ?? '') });
      } catch {
        received.push({ valid, type: 'unparsable', monitor: '', summary: '' });
      }
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/alerts`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

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

/** What the quality breaker did in the replay: when it opened and why (the monitor values), and what went to people. */
async function breakerLines(url: string, operatorKey: string, decisions: readonly ReplayedDecision[]): Promise<string[]> {
  const answer = await fetch(`${url}/v1/services/spam-filter/breakers`, { headers: { authorization: `Bearer ${operatorKey}` } });
  if (!answer.ok) throw new Error(`reading the breakers answered ${answer.status}: ${await answer.text()}`);
  const body = (await answer.json()) as { history: Array<{ kind: string; version: string; from: string; to: string; at: string; reason: string }> };
  const opened = body.history.filter((t) => t.kind === 'quality' && t.to === 'open').reverse();
  const skipped = decisions.filter((d) => d.modelError === 'QUALITY_BREAKER_OPEN');
  if (opened.length === 0) return ['Quality breaker (accuracy floor 90%): stayed closed'];
  const first = skipped.map((d) => d.sentAt).sort()[0];
  return [
    `Quality breaker (accuracy floor 90%): ${opened.map((t) => `opened at ${t.at} for ${t.version}: ${t.reason}`).join('; ')}`,
    `  from then on the model was not called: ${skipped.length} messages${first === undefined ? '' : ` (sent from ${first.slice(0, 10)} on)`} went to review; only an operator closes it:`,
    `  ballast breaker close --server ${url} --service spam-filter --version ${opened[0]!.version} --kind quality --reason '…'`,
  ];
}

/** Trains (or loads) the demo model, serves it, replays the newer messages and prints a summary. */
export async function demoCommand(options: DemoCommandOptions, out: (line: string) => void): Promise<void> {
  const demoDir = path.join(options.dataDir, 'demo');
  out('Ballast demo: a spam filter trained on the older SpamAssassin public corpus, served the newer messages.');
  const model = await loadOrTrainSpamModel({ cacheDir: demoDir, onProgress: (stage) => out(`  ${stage}`) });
  const { split, heldOut } = model;
  out(`Model: ${model.trainedNow ? 'trained now' : 'loaded from cache'} (${model.weightsPath})`);
  out(`  trained on ${split.train} messages dated up to ${split.cutDate.toISOString().slice(0, 10)}${model.trainMs === null ? '' : ` in ${(model.trainMs / 1000).toFixed(1)} s`}; serving the ${split.served} newer ones (${split.undated} undated left out)`);
  out(`  held-out accuracy on the newer messages: ${(100 * heldOut.accuracy).toFixed(1)}% (precision ${(100 * heldOut.precision).toFixed(1)}%, recall ${(100 * heldOut.recall).toFixed(1)}%, n=${heldOut.n})`);

  // Alerts go to a signed webhook; the secret reaches Ballast as a user's would, through the environment.
  const secret = process.env[DEMO_WEBHOOK_SECRET] ?? `whsec_${randomBytes(24).toString('base64')}`;
  process.env[DEMO_WEBHOOK_SECRET] = secret;
  const receiver = await startReceiver(secret);
  const configPath = writeDemoConfig(demoDir, model.weightsPath, { url: receiver.url, secretName: DEMO_WEBHOOK_SECRET });

  // The reference the monitors compare with: the training messages, built as a user would with `ballast reference build`.
  const referenceFile = await writeSpamReferenceFile(demoDir, model);
  await referenceBuildCommand(
    { configPath, service: 'spam-filter', file: referenceFile, name: 'default', labelField: 'label', predictionField: 'prediction', confidenceField: 'confidence', dataDir: options.dataDir, redactionKey: options.redactionKey },
    (line) => out(`  ${line}`),
  );

  const running = await startServing({ configPath, host: options.host, port: options.port, dataDir: options.dataDir, redactionKey: options.redactionKey, logLevel: 'error' });
  out(`Serving spam-filter on ${running.url} (config: ${configPath}), with API keys required`);
  try {
    // The demo acts as a team would: a key per job, each with the narrowest role that does it.
    const demoKeys = await createDemoKeys(running.server.keys);
    if (running.firstAdminKey !== undefined) out(`  first start on ${options.dataDir}: made the admin key ${running.firstAdminKey.id} (principal admin), shown once: ${running.firstAdminKey.token}`);
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
    for (const line of await breakerLines(running.url, demoKeys.tokens.operator, result.decisions)) out(line);

    // Labels are judged once due (labelDelay 2 s in the demo's config); then evaluate every week and deliver the alerts.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const report = await fetchMonitoringReport(running.url, 'spam-filter', demoKeys.tokens.operator);
    await running.runtime.monitoring.dispatcher.deliverDue();
    out('');
    for (const line of formatMonitoringReport(report)) out(line);
    const firing = receiver.received.filter((r) => r.type === 'alert.firing');
    out(`  Webhook receiver (${receiver.url}): ${receiver.received.length} deliveries, ${receiver.received.filter((r) => r.valid).length} with a valid signature; firing: ${[...new Set(firing.map((r) => r.monitor))].join(', ') || 'none'}`);
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
    out(`  ballast audit verify --data-dir ${options.dataDir}   # or: ballast audit prove <dec_…> --data-dir ${options.dataDir}`);
    if (options.exit) return;
    const stopSignal = untilSignal();
    const example = result.decisions[0];
    const viewer = `-H 'authorization: Bearer ${demoKeys.tokens.viewer}'`;
    out('');
    out(`Still serving on ${running.url}. Try:`);
    if (example) out(`  curl ${viewer} ${running.url}/v1/decisions/${example.id}`);
    out(`  curl -H 'authorization: Bearer ${demoKeys.tokens.decider}' -H 'content-type: application/json' -d '{"input":{"subject":"WIN $1000 NOW","body":"click here to claim your prize","from":"x@example.com"}}' ${running.url}/v1/services/spam-filter/decisions`);
    out(`  curl ${viewer} ${running.url}/v1/services/spam-filter/monitors`);
    out(`  ballast monitor --config ${configPath} --data-dir ${options.dataDir} --service spam-filter --monitor input_drift`);
    out('Press Ctrl-C to stop.');
    await stopSignal;
  } finally {
    await running.stop();
    await receiver.close();
  }
}
