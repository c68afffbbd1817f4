// Monitoring end to end over real HTTP on loopback: a reference profile, traffic that drifts, an
// evaluation that finds it, a signed webhook that reports it, explanations that cite it, /metrics
// that shows it, and all of it still there after a restart.
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServing, type RunningServer } from '../src/cli/serve-runtime.js';
import { verifyWebhook } from '../src/monitoring/alerts/index.js';
import { buildReferenceRecord, referenceFeaturesOf, type ReferenceRow } from '../src/monitoring/reference/index.js';
import { textChart } from '../src/cli/commands/monitor-command.js';
import { runCli } from './helpers/run-cli.js';
import { keywordModelPath, testConfigYaml } from './helpers/test-ballast.js';

const SECRET_NAME = 'BALLAST_TEST_WEBHOOK_SECRET';
const secret = 'whsec_' + Buffer.from('a test secret of 24 bytes!').toString('base64');

interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let dir: string;
let configPath: string;
let running: RunningServer | undefined;

function monitoringYaml(url: string): string {
  return `    monitoring:
      window: 1h
      timestamp: /at
      outputLabel: /label
      segments: [country]
      evaluateEvery: 1h
      minSamples: 30
      drift: { share: 0.3 }
      performance: { labelDelay: 1s }
      alerts:
        - name: oncall
          monitors: ['input_drift', 'feature_drift/*']
          minState: warning
          webhook: { url: ${JSON.stringify(url)}, secret: ${SECRET_NAME}, timeoutMs: 2000 }
          group: { wait: 1s }     # the test waits this long before it delivers (default 30s)
`;
}

let adminToken: string | undefined;

async function start(): Promise<RunningServer> {
  const started = await startServing({ configPath, host: '127.0.0.1', port: 0, dataDir: dir, redactionKey: 'test-key', logLevel: 'silent' });
  adminToken ??= started.firstAdminKey?.token; // made on the first start only
  return started;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test answers are read field by field
async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await request(running!.url + url, {
    method,
    headers: { authorization: `Bearer ${adminToken ?? ''}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, json: response.headers['content-type']?.toString().includes('json') ? JSON.parse(text) : text };
}

const hourOf = (k: number) => `2002-09-0${1 + k}T10:15:00.000Z`;

beforeAll(async () => {
  receiver = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hooks`;
  process.env[SECRET_NAME] = secret;
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-monitoring-'));
  configPath = path.join(dir, 'ballast.yaml');
  const yaml = testConfigYaml({ adapter: `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel }` })
    .replace('            certainty: { type: number }\n', '            certainty: { type: number }\n            at: { type: string }\n')
    .replace('    live: v1\n', `    live: v1\n${monitoringYaml(receiverUrl)}`);
  writeFileSync(configPath, yaml);

  // The reference: amounts of a few hundred, countries DE/FR/NL, short texts; labelled, with predictions.
  running = await start();
  const service = running.runtime.services.get('loans')!;
  const { features } = referenceFeaturesOf(service.contract.inputFields);
  const rows: ReferenceRow[] = Array.from({ length: 400 }, (_, i) => ({
    input: { text: i % 5 === 0 ? 'bad loan' : 'good loan please', amount: 100 + ((i * 37) % 900), country: ['DE', 'FR', 'NL'][i % 3] },
    label: i % 5 === 0 ? 'deny' : 'approve',
    prediction: i % 5 === 0 ? 'deny' : 'approve',
    confidence: 0.9,
  }));
  const { record } = await buildReferenceRecord(
    async function* () {
      yield* rows;
    },
    { service: 'loans', features, id: 'ref_test', name: 'default', createdAt: new Date().toISOString(), source: (n) => ({ kind: 'file', path: 'inline', format: 'jsonl', rows: n }) },
  );
  await running.runtime.store.references.put(record);
  await running.runtime.monitoring.hub.reloadReference('loans');
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await new Promise((resolve) => receiver.close(resolve));
  delete process.env[SECRET_NAME];
  rmSync(dir, { recursive: true, force: true });
});

describe('monitoring end to end', () => {
  const decisions: string[] = [];

  it('finds the drift in the hour where amounts jumped, alerts by signed webhook, and cites the alert in later explanations', async () => {
    // Hour 0: like the reference. Hour 1: amounts ten times larger.
    for (let hour = 0; hour < 2; hour++) {
      for (let i = 0; i < 120; i++) {
        const amount = hour === 0 ? 100 + ((i * 53) % 900) : 10_000 + ((i * 53) % 9000);
        const answer = await call('POST', '/v1/services/loans/decisions', { input: { text: i % 5 === 0 ? 'bad loan' : 'good loan please', amount, country: ['DE', 'FR', 'NL'][i % 3], at: hourOf(hour) } });
        expect(answer.status).toBe(200);
        decisions.push(answer.json.id);
      }
    }
    const evaluated = await call('POST', '/v1/services/loans/monitors/evaluate', {});
    expect(evaluated.status).toBe(200);
    expect(evaluated.json.evaluated.map((e: { window: { start: string }; segment: string | null }) => `${e.window.start} ${e.segment}`).sort()).toEqual(
      ['2002-09-01T10:00:00.000Z', '2002-09-02T10:00:00.000Z'].flatMap((w) => ['null', 'country=DE', 'country=FR', 'country=NL'].map((s) => `${w} ${s}`)).sort(),
    );

    const history = await call('GET', `/v1/services/loans/monitors/${encodeURIComponent('feature_drift/amount')}?segment=`);
    expect(history.status).toBe(200);
    const byWindow = new Map<string, string>(history.json.history.map((h: { window: { start: string }; observed: string }) => [h.window.start, h.observed]));
    expect(byWindow.get('2002-09-01T10:00:00.000Z')).toBe('ok');
    // A feature's drift explains (warning); the input's drift pages (alert).
    expect(byWindow.get('2002-09-02T10:00:00.000Z')).toBe('warning');
    const text = await call('GET', `/v1/services/loans/monitors/${encodeURIComponent('feature_drift/text')}?segment=`);
    expect(text.json.history.every((h: { observed: string }) => h.observed === 'ok')).toBe(true);

    const monitors = await call('GET', '/v1/services/loans/monitors');
    const amount = monitors.json.monitors.find((m: { monitor: string; segment: string | null }) => m.monitor === 'feature_drift/amount' && m.segment === null);
    expect(amount.state).toBe('warning');
    expect(amount.stateMessage).toBe(amount.message); // the latest window is the one in warning
    const input = monitors.json.monitors.find((m: { monitor: string; segment: string | null }) => m.monitor === 'input_drift' && m.segment === null);
    expect(input.state).toBe('alert');
    expect(monitors.json.reference).toEqual({ id: 'ref_test' });

    // One alert per monitor (group.by [version, monitor]) however many segments and features drifted, delivered, signed.
    const alerts = await call('GET', '/v1/alerts?service=loans&state=firing');
    expect(alerts.json.alerts.map((a: { monitor: string; segment: string }) => `${a.monitor} ${a.segment}`).sort()).toEqual(['feature_drift *', 'input_drift *']);
    const featureAlert = alerts.json.alerts.find((a: { monitor: string }) => a.monitor === 'feature_drift');
    expect(featureAlert.values.features).toContain('amount');
    expect(featureAlert.values.features).not.toContain('text');
    expect(featureAlert.values.segments).toContain(null);
    // Its members are exactly the feature monitors (in every segment) at or above the rule's minState.
    const drifted = monitors.json.monitors.filter((m: { monitor: string; state: string }) => m.monitor.startsWith('feature_drift/') && (m.state === 'warning' || m.state === 'alert'));
    expect(drifted.length).toBeGreaterThan(1);
    expect(featureAlert.values.members.length).toBe(drifted.length);
    expect(new Set(featureAlert.values.members.map((m: { monitor: string; segment: string | null }) => `${m.monitor} ${m.segment}`)).size).toBe(featureAlert.values.members.length);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // group.wait, while the alert collects its members
    await running!.runtime.monitoring.dispatcher.deliverDue();
    const deliveries = received.filter((r) => JSON.parse(r.body).monitor === 'feature_drift');
    expect(deliveries.length).toBe(1);
    // The one notification lists every member the alert has.
    expect(JSON.parse(deliveries[0]!.body).members).toEqual(featureAlert.values.members);
    const verdict = verifyWebhook(deliveries[0]!.headers as Record<string, string>, deliveries[0]!.body, secret);
    expect(verdict.valid).toBe(true);
    expect(verifyWebhook(deliveries[0]!.headers as Record<string, string>, deliveries[0]!.body.replace('amount', 'amounT'), secret).valid).toBe(false);

    // A later decision cites the monitors in warning or alert, each in its own state with a message that says the same.
    const later = await call('POST', '/v1/services/loans/decisions', { input: { text: 'good loan please', amount: 500, at: hourOf(2) } });
    const notices = later.json.explanation.notices as Array<{ monitor: string; kind: string; state: string; message: string }>;
    expect(notices.map((n) => n.monitor)).toEqual(expect.arrayContaining(['feature_drift/amount', 'input_drift']));
    expect(notices.map((n) => n.monitor)).not.toContain('feature_drift/text');
    expect(notices.find((n) => n.monitor === 'feature_drift/amount')).toMatchObject({ kind: 'monitor', state: 'warning', message: expect.stringMatching(/^feature `amount` drifted/) });
    expect(notices.find((n) => n.monitor === 'input_drift')).toMatchObject({ kind: 'monitor', state: 'alert', message: expect.stringMatching(/^input drifted/) });

    const openapi = await call('GET', '/v1/openapi.json');
    for (const path of ['/v1/services/{service}/monitors', '/v1/services/{service}/monitors/{monitor}', '/v1/services/{service}/monitors/evaluate', '/v1/alerts', '/v1/alerts/{id}']) {
      expect(Object.keys(openapi.json.paths)).toContain(path);
    }
    const alertId = alerts.json.alerts[0].id as string;
    const one = await call('GET', `/v1/alerts/${alertId}`);
    expect(one.json.deliveries.length).toBeGreaterThan(0);
    expect((await call('GET', '/v1/alerts/alt_nope')).json.code).toBe('ALERT_NOT_FOUND');
    expect((await call('GET', '/v1/services/loans/monitors/nope')).json.code).toBe('MONITOR_NOT_FOUND');
    expect((await call('POST', '/v1/services/loans/monitors/evaluate', { windows: 'some' })).json.code).toBe('REQUEST_INVALID');
    expect((await call('GET', '/v1/alerts?state=open')).status).toBe(400);

    const metrics = await call('GET', '/metrics');
    expect(metrics.json).toMatch(/ballast_monitor_state\{service="loans",monitor="feature_drift\/amount",version="v1",segment="",state="warning"\} 1/);
    expect(metrics.json).toMatch(/ballast_monitor_state\{service="loans",monitor="input_drift",version="v1",segment="",state="alert"\} 1/);
    expect(metrics.json).toMatch(/ballast_monitor_state\{service="loans",monitor="input_drift",version="v1",segment="",state="ok"\} 0/);
    // With monitor states in it, the exposition still passes promtool (.ci/run installs it).
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics.json as string, encoding: 'utf8' });
    expect(check.error, 'promtool is not installed: apt-get install prometheus').toBeUndefined();
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('keeps states, history and the firing alert across a restart, and counts feedback labels once they are due', async () => {
    // Labels for hour 0: the model is right on all of them.
    for (const id of decisions.slice(0, 60)) {
      const decision = await call('GET', `/v1/decisions/${id}`);
      expect((await call('POST', `/v1/decisions/${id}/feedback`, { kind: 'label', value: { label: decision.json.output.label } })).status).toBe(201);
    }
    await running!.stop();
    running = await start();
    const monitors = await call('GET', '/v1/services/loans/monitors');
    expect(monitors.json.monitors.find((m: { monitor: string; segment: string | null }) => m.monitor === 'feature_drift/amount' && m.segment === null).state).toBe('warning');
    expect((await call('GET', '/v1/alerts?service=loans&state=firing')).json.alerts.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // labelDelay 1s
    const evaluated = await call('POST', '/v1/services/loans/monitors/evaluate', { windows: 'all' });
    expect(evaluated.status).toBe(200);
    const all = await call('GET', '/v1/services/loans/monitors/accuracy?segment=');
    const hour0 = all.json.history.find((h: { window: { start: string } }) => h.window.start === '2002-09-01T10:00:00.000Z');
    expect(hour0.value).toBe(1);
    // `ballast monitor` reads the same store while the server runs: the table, and one monitor's history.
    const table = await runCli(['monitor', '--config', configPath, '--data-dir', dir, '--service', 'loans']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^loans +feature_drift\/amount +v1 +- +WARNING /m);
    expect(table.stdout).toMatch(/^loans +input_drift +v1 +- +ALERT /m);
    expect(table.stdout).toMatch(/\d+ monitors: \d+ alert, \d+ warning, \d+ ok, \d+ unknown/);
    const one = await runCli(['monitor', '--config', configPath, '--data-dir', dir, '--service', 'loans', '--monitor', 'feature_drift/amount']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^ {2}state {2}[·wA?]+ /m);
    expect(one.stdout).toMatch(/2002-09-02T10:00…2002-09-02T11:00 +v1 +WARNING +warning /);
    const missing = await runCli(['monitor', '--config', configPath, '--data-dir', dir, '--service', 'loans', '--monitor', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('MONITOR_NOT_FOUND');

    // 60 labels, all right; the unlabelled decisions of the window do not count.
    expect(hour0.detail.samples).toBe(60);
    const hour1 = all.json.history.find((h: { window: { start: string } }) => h.window.start === '2002-09-02T10:00:00.000Z');
    expect(hour1.state === 'unknown' || hour1.observed === 'unknown').toBe(true);
  });
});

describe('textChart', () => {
  it('scales values to eight bar heights, leaves gaps for unknown values and marks states', () => {
    const [bars, states] = textChart([
      { value: 0, state: 'ok' },
      { value: null, state: 'unknown' },
      { value: 0.5, state: 'warning' },
      { value: 1, state: 'alert' },
    ]);
    expect(bars).toBe('▁ ▅█');
    expect(states).toBe('·?wA');
    expect(textChart([{ value: 3, state: 'ok' }, { value: 3, state: 'ok' }])[0]).toBe('▄▄');
  });
});
