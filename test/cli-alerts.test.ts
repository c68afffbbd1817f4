// Ownership end to end: a config with owners, a runbook, on-call and escalation routes, refused when a
// high-risk service names no owners; the API shows who owns what and acknowledges alerts (audited,
// once); `ballast alerts …` and `ballast services show` (the built CLI) against a real server with keys.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../src/cli/config-file.js';
import { exitCodes } from '../src/cli/exit-codes.js';
import { newId, type StoredAlert } from '../src/store/index.js';
import { runCli } from './helpers/run-cli.js';
import { startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const ownership = `    owners: [team-loans, ana]
    risk: high
    review: { sla: 4h }
    ownership:
      runbook: docs/runbooks/loans.md
      onCall: { url: 'http://127.0.0.1:9/oncall', secret: ONCALL_SECRET }
      escalation: { after: 15m, url: 'http://127.0.0.1:9/escalate', secret: ONCALL_SECRET, timeoutMs: 3000 }
    monitoring:
      alerts:
        - { name: drift, monitors: [input_drift] }
        - { name: latency, monitors: [latency/*], webhook: { url: 'http://127.0.0.1:9/latency', secret: ONCALL_SECRET } }
`;

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'ballast.yaml', '/tmp');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.pointer}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('the ownership block in a config file', () => {
  it('accepts owners, a runbook and both routes', () => {
    expect(problems(testConfigYaml() + ownership)).toEqual([]);
  });

  it('refuses a high-risk service without owners, at /services/<s>/owners', () => {
    const found = problems(testConfigYaml() + ownership.replace('    owners: [team-loans, ana]\n', ''));
    expect(found).toEqual([expect.stringMatching(/^\/services\/loans\/owners: a service with risk: high must name its owners/)]);
    expect(problems(testConfigYaml() + ownership.replace('[team-loans, ana]', '[]'))).toHaveLength(1);
    // An owner of spaces names nobody: refused at its item, whatever the risk.
    expect(problems(testConfigYaml() + ownership.replace('[team-loans, ana]', '[team-loans, " "]'))).toEqual([expect.stringMatching(/^\/services\/loans\/owners\/1: an owner is a principal or a team/)]);
    expect(problems(testConfigYaml() + ownership.replace('[team-loans, ana]', '["\\t"]').replace('risk: high', 'risk: medium'))).toEqual([expect.stringMatching(/^\/services\/loans\/owners\/0: /)]);
    // Medium risk may go without.
    expect(problems(testConfigYaml() + ownership.replace('    owners: [team-loans, ana]\n', '').replace('risk: high', 'risk: medium'))).toEqual([]);
  });

  it('refuses an alert rule without a webhook when the service has no on-call route, pointing at the rule', () => {
    const found = problems(testConfigYaml() + ownership.replace("      onCall: { url: 'http://127.0.0.1:9/oncall', secret: ONCALL_SECRET }\n", ''));
    expect(found).toEqual([expect.stringMatching(/^\/services\/loans\/monitoring\/alerts\/0\/webhook: this alert rule names no webhook and the service has no on-call route/)]);
  });

  it('refuses an empty runbook and an escalation without its delay', () => {
    expect(problems(testConfigYaml() + ownership.replace('runbook: docs/runbooks/loans.md', "runbook: ''")).join('\n')).toContain('/services/loans/ownership/runbook');
    expect(problems(testConfigYaml() + ownership.replace('after: 15m, ', '')).join('\n')).toContain('/services/loans/ownership/escalation');
  });
});

describe('ownership through the API and the CLI', () => {
  let t: TestBallast;
  let server: string;
  const tokens: Record<string, string> = {};
  const firedAt = '2026-12-07T10:00:00.000Z';

  async function fire(monitor: string): Promise<StoredAlert> {
    const alert: StoredAlert = { id: newId('alt'), rule: 'drift', service: 'loans', monitor, version: 'v1', segment: '*', severity: 'alert', state: 'firing', firedAt, resolvedAt: null, summary: `${monitor} drifted`, values: {} };
    await t.runtime.store.alerts.fire(alert, []);
    return alert;
  }

  beforeAll(async () => {
    t = await startTestBallast(testConfigYaml() + ownership, { auth: 'keys' });
    for (const [principal, role] of [
      ['olga', 'operator'],
      ['vic', 'viewer'],
      ['dee', 'decider'],
    ] as const) {
      tokens[principal] = (await t.server.keys.create({ principal, role, kind: 'person' }, { actor: { principal: 'local:test', keyId: null, role: 'admin' } })).token;
    }
    await t.server.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(t.server.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.server.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });
  const cli = (who: string, ...args: string[]) => runCli([...args, '--server', server], { env: { BALLAST_API_KEY: tokens[who]! } });

  it('describes who owns what, with the review SLA of the review block and where each rule goes', async () => {
    const answer = await api('vic', 'GET', '/v1/services/loans');
    expect(answer.statusCode).toBe(200);
    expect(answer.json().ownership).toEqual({
      owners: ['team-loans', 'ana'],
      risk: 'high',
      runbook: 'docs/runbooks/loans.md',
      onCall: { url: 'http://127.0.0.1:9/oncall', secret: 'ONCALL_SECRET', timeoutMs: 5000 },
      escalation: { after: '15m', url: 'http://127.0.0.1:9/escalate', secret: 'ONCALL_SECRET', timeoutMs: 3000 },
      review: { sla: '4h', highStakesSla: '4h', escalateTo: 'senior-reviewer' },
      live: 'v1',
      alerts: [
        { rule: 'drift', monitors: ['input_drift'], minState: 'alert', to: 'on-call', url: 'http://127.0.0.1:9/oncall' },
        { rule: 'latency', monitors: ['latency/*'], minState: 'alert', to: 'webhook', url: 'http://127.0.0.1:9/latency' },
      ],
    });
    // A caller that may not read alerts (the calling application) sees who owns it, and only the origin of each route.
    const app = (await api('dee', 'GET', '/v1/services/loans')).json().ownership;
    expect(app).toMatchObject({ owners: ['team-loans', 'ana'], runbook: 'docs/runbooks/loans.md', onCall: { url: 'http://127.0.0.1:9/…' }, escalation: { url: 'http://127.0.0.1:9/…', after: '15m' } });
    expect(app.alerts.map((a: { url: string }) => a.url)).toEqual(['http://127.0.0.1:9/…', 'http://127.0.0.1:9/…']);
  });

  it('shows an alert with its owners, runbook and escalation; an operator acknowledges it once, audited; a viewer may not', async () => {
    const alert = await fire('input_drift');
    const shown = (await api('vic', 'GET', `/v1/alerts/${alert.id}`)).json();
    // Not notified yet: the escalation's delay has not started.
    expect(shown).toMatchObject({ id: alert.id, owners: ['team-loans', 'ana'], runbook: 'docs/runbooks/loans.md', escalation: { after: '15m', escalatesAt: null, escalatedAt: null }, acknowledged: null, deliveries: [] });
    // Notified 30 s after it fired (group.wait): it escalates 15 minutes after that.
    await t.runtime.store.alerts.update(alert.id, {}, [{ id: newId('whd'), type: 'alert.firing', url: 'http://127.0.0.1:9/oncall', secretName: 'ONCALL_SECRET', timeoutMs: 3000, body: '{}', createdAt: '2026-12-07T10:00:30.000Z' }]);
    expect((await api('vic', 'GET', `/v1/alerts/${alert.id}`)).json()).toMatchObject({ escalation: { after: '15m', escalatesAt: '2026-12-07T10:15:30.000Z', escalatedAt: null } });

    const refused = await api('vic', 'POST', `/v1/alerts/${alert.id}/ack`, {});
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('AUTH_FORBIDDEN');
    expect((await api('olga', 'POST', `/v1/alerts/${alert.id}/ack`, { note: 42 })).statusCode).toBe(400);

    const acked = await api('olga', 'POST', `/v1/alerts/${alert.id}/ack`, { note: 'rolling back to v1' });
    expect(acked.statusCode).toBe(200);
    expect(acked.json()).toMatchObject({ changed: true, acknowledged: { by: 'olga', note: 'rolling back to v1' }, escalation: { escalatesAt: '2026-12-07T10:15:30.000Z', escalatedAt: null } });
    const again = await api('olga', 'POST', `/v1/alerts/${alert.id}/ack`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ changed: false, acknowledged: { by: 'olga', note: 'rolling back to v1', at: acked.json().acknowledged.at } });
    const events = (await t.runtime.store.audit.list({ limit: 100 })).filter((e) => e.action === 'alert.acknowledged');
    expect(events.map((e) => [e.actor.principal, e.actor.role, e.resource.id, e.service, e.detail])).toEqual([['olga', 'operator', alert.id, 'loans', 'rolling back to v1']]);
    expect(events[0]?.after).toMatchObject({ acknowledged: { by: 'olga', note: 'rolling back to v1' } });

    expect((await api('olga', 'POST', '/v1/alerts/alt_nope/ack', {})).statusCode).toBe(404);
    const ended = await fire('latency/total');
    await t.runtime.store.alerts.resolve(ended.id, '2026-12-07T10:05:00.000Z', []);
    const late = await api('olga', 'POST', `/v1/alerts/${ended.id}/ack`, {});
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('ALERT_RESOLVED');
  });

  // Each step spawns the built CLI (about a second each): run `npm run build` first.
  it('ballast services show, alerts list|show|ack', { timeout: 120_000 }, async () => {
    const shown = await cli('vic', 'services', 'show', 'loans');
    expect(shown.code).toBe(exitCodes.ok);
    expect(shown.stdout).toBe(
      [
        'loans: owned by team-loans, ana; risk high; live v1',
        '  runbook: docs/runbooks/loans.md',
        '  on call: http://127.0.0.1:9/oncall (signed with ONCALL_SECRET)',
        '  escalation: after 15m unacknowledged → http://127.0.0.1:9/escalate (signed with ONCALL_SECRET)',
        '  review SLA: 4h (high stakes 4h); breaches escalate to senior-reviewer',
        '  alert rule drift: input_drift at alert → on call (http://127.0.0.1:9/oncall)',
        '  alert rule latency: latency/* at alert → http://127.0.0.1:9/latency',
        '',
      ].join('\n'),
    );

    const alert = await fire('output_drift');
    const show = await cli('vic', 'alerts', 'show', alert.id);
    expect(show.stdout).toContain('  owners: team-loans, ana\n  runbook: docs/runbooks/loans.md\n  not acknowledged; escalates 15m after its first notification unless acknowledged (not notified yet)\n');
    expect((await cli('vic', 'alerts', 'list', '--state', 'firing')).stdout).toMatch(new RegExp(`^${alert.id}  loans +drift +alert +firing +fired ${firedAt}  unacknowledged$`, 'm'));

    const refused = await cli('vic', 'alerts', 'ack', alert.id);
    expect(refused.code).toBe(exitCodes.failure);
    expect(refused.stderr).toContain('[AUTH_FORBIDDEN]');
    const acked = await cli('olga', 'alerts', 'ack', alert.id, '--note', 'on it');
    expect(acked.stdout).toMatch(new RegExp(`^${alert.id}: acknowledged by olga at \\S+: on it; it will not escalate\\n$`));
    expect((await cli('olga', 'alerts', 'ack', alert.id)).stdout).toMatch(new RegExp(`^${alert.id}: already acknowledged by olga at \\S+: on it\\n$`));
    expect((await cli('vic', 'alerts', 'list', '--state', 'firing')).stdout).toMatch(new RegExp(`^${alert.id} .* ack olga$`, 'm'));

    // Acknowledged only after it escalated: the CLI says when it escalated, not that it will not.
    const late = await fire('label_drift');
    const escalatedAt = '2026-12-07T10:15:00.000Z';
    const onCall = { id: newId('whd'), type: 'alert.firing' as const, url: 'http://127.0.0.1:9/oncall', secretName: 'ONCALL_SECRET', timeoutMs: 3000, body: '{}', createdAt: firedAt };
    await t.runtime.store.alerts.update(late.id, {}, [onCall]);
    expect(await t.runtime.store.alerts.escalate(late.id, escalatedAt, () => ({ ...onCall, id: newId('whd'), type: 'alert.escalated', url: 'http://127.0.0.1:9/escalate', createdAt: escalatedAt }))).toMatchObject({ escalatedAt });
    const after = await cli('olga', 'alerts', 'ack', late.id);
    expect(after.code).toBe(exitCodes.ok);
    expect(after.stdout).toMatch(new RegExp(`^${late.id}: acknowledged by olga at \\S+; it escalated at ${escalatedAt}\\n$`));
  });
});
