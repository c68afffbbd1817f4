// `ballast alerts …` and `ballast services show`: a running server's alerts (who owns them, whether
// someone is on it, whether they escalated), acknowledging one (audited on the server), and who owns
// what in a service. Everything goes through the API, so the permission and the audit are the server's.
import type { Command } from 'commander';
import { callApi } from './keys-command.js';
import { targetOf, withServer, type ServerOptions } from './review-command.js';
import type { EnvironmentSettings } from '../environment.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

/** What the server shows of an alert (GET /v1/alerts/:id; a listing has the stored fields only). */
interface AlertView {
  readonly id: string;
  readonly rule: string;
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly severity: string;
  readonly state: string;
  readonly firedAt: string;
  readonly resolvedAt: string | null;
  readonly summary: string;
  readonly owners?: readonly string[];
  readonly runbook?: string | null;
  readonly escalation?: { readonly after: string | null; readonly escalatesAt: string | null; readonly escalatedAt: string | null } | null;
  readonly acknowledged?: { readonly by: string; readonly at: string; readonly note: string | null } | null;
  readonly escalatedAt?: string;
  readonly deliveries?: ReadonlyArray<{ readonly type: string; readonly url: string; readonly status: string; readonly attempts: number; readonly createdAt: string }>;
  readonly changed?: boolean;
}

/** What GET /v1/services/:s shows of who owns what. */
interface ServiceOwnershipView {
  readonly owners: readonly string[];
  readonly risk: string | null;
  readonly runbook: string | null;
  readonly onCall: { readonly url: string; readonly secret: string } | null;
  readonly escalation: { readonly after: string; readonly url: string; readonly secret: string } | null;
  readonly review: { readonly sla: string; readonly highStakesSla: string; readonly escalateTo: string };
  readonly live: string;
  readonly alerts: ReadonlyArray<{ readonly rule: string; readonly monitors: readonly string[]; readonly minState: string; readonly to: string; readonly url: string | null }>;
}

const alertPath = (id: string) => `/v1/alerts/${encodeURIComponent(id)}`;

function ackText(ack: AlertView['acknowledged']): string {
  if (ack === undefined || ack === null) return 'not acknowledged';
  return `acknowledged by ${ack.by} at ${ack.at}${ack.note === null ? '' : `: ${ack.note}`}`;
}

function escalationText(e: AlertView['escalation']): string {
  if (e === undefined || e === null) return 'no escalation route';
  if (e.escalatedAt !== null) return `escalated at ${e.escalatedAt}${e.after === null ? '' : ` (after ${e.after})`}`;
  if (e.escalatesAt !== null) return `escalates at ${e.escalatesAt} (after ${e.after ?? '?'}) unless acknowledged`;
  // The delay runs from the first notification: none yet (group.wait, the rate limit).
  return e.after === null ? 'not escalated' : `escalates ${e.after} after its first notification unless acknowledged (not notified yet)`;
}

/** An alert as the person on call reads it: what, since when, who owns it, what to read, where it stands. */
export function formatAlert(a: AlertView): string[] {
  const lines = [`${a.id}  ${a.service}  ${a.rule}  ${a.monitor} ${a.version}  ${a.severity} ${a.state}  fired ${a.firedAt}${a.resolvedAt === null ? '' : `  resolved ${a.resolvedAt}`}`];
  lines.push(`  ${a.summary}`);
  lines.push(`  owners: ${a.owners === undefined || a.owners.length === 0 ? '(none named)' : a.owners.join(', ')}`);
  lines.push(`  runbook: ${a.runbook ?? '(none)'}`);
  lines.push(`  ${ackText(a.acknowledged)}; ${escalationText(a.escalation)}`);
  for (const d of a.deliveries ?? []) lines.push(`  ${d.createdAt}  ${d.type.padEnd(15)} → ${d.url}  ${d.status} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})`);
  return lines;
}

/** Who owns what in a service, one fact a line. */
export function formatOwnership(service: string, o: ServiceOwnershipView): string[] {
  return [
    `${service}: owned by ${o.owners.length === 0 ? '(no owners named)' : o.owners.join(', ')}; risk ${o.risk ?? '(not set)'}; live ${o.live}`,
    `  runbook: ${o.runbook ?? '(none)'}`,
    `  on call: ${o.onCall === null ? '(no on-call route: every alert rule names its own webhook)' : `${o.onCall.url} (signed with ${o.onCall.secret})`}`,
    `  escalation: ${o.escalation === null ? '(none: an unacknowledged alert does not escalate)' : `after ${o.escalation.after} unacknowledged → ${o.escalation.url} (signed with ${o.escalation.secret})`}`,
    `  review SLA: ${o.review.sla} (high stakes ${o.review.highStakesSla}); breaches escalate to ${o.review.escalateTo}`,
    ...(o.alerts.length === 0 ? ['  alert rules: (none)'] : o.alerts.map((r) => `  alert rule ${r.rule}: ${r.monitors.join(', ')} at ${r.minState} → ${r.to === 'on-call' ? `on call (${r.url ?? '?'})` : r.url ?? '?'}`)),
  ];
}

/** Adds `alerts list|show|ack` and `services show` to the program. */
export function registerAlertsCommands(program: Command, { env, out }: Context): void {
  const print = (opts: ServerOptions, answer: unknown, text: () => string[]) => {
    if (opts.json === true) out(JSON.stringify(answer, null, 2));
    else for (const line of text()) out(line);
  };
  const alerts = program.command('alerts').description("a running server's alerts: list them, show one with who owns it, acknowledge one so that it does not escalate");

  withServer(alerts.command('list').description('alerts, oldest first (firing ones only with --state firing)'), 'a key with alerts:read')
    .option('--service <name>', "only this service's")
    .option('--state <state>', 'firing or resolved')
    .option('--limit <n>', 'at most this many (1 to 1000, default 100)')
    .action(async (opts: ServerOptions & { service?: string; state?: string; limit?: string }) => {
      const query = new URLSearchParams({ ...(opts.service === undefined ? {} : { service: opts.service }), ...(opts.state === undefined ? {} : { state: opts.state }), ...(opts.limit === undefined ? {} : { limit: opts.limit }) });
      const answer = (await callApi(targetOf(env, opts), 'GET', `/v1/alerts${query.size === 0 ? '' : `?${query.toString()}`}`)) as { alerts: AlertView[] };
      print(opts, answer, () =>
        answer.alerts.length === 0
          ? ['no alerts']
          : answer.alerts.map((a) => `${a.id}  ${a.service.padEnd(16)} ${a.rule.padEnd(14)} ${a.severity.padEnd(7)} ${a.state.padEnd(8)} fired ${a.firedAt}  ${a.acknowledged == null ? (a.escalatedAt === undefined ? 'unacknowledged' : 'escalated') : `ack ${a.acknowledged.by}`}`),
      );
    });

  withServer(alerts.command('show').description('one alert: owners, runbook, acknowledgement, escalation, and every delivery'), 'a key with alerts:read')
    .argument('<id>', 'the alert (alt_…)')
    .action(async (id: string, opts: ServerOptions) => {
      const alert = (await callApi(targetOf(env, opts), 'GET', alertPath(id))) as AlertView;
      print(opts, alert, () => formatAlert(alert));
    });

  withServer(alerts.command('ack').description("acknowledge a firing alert (\"I am on it\"): it will not escalate; audited. The first acknowledgement stands"), 'an operator key (alerts:ack)')
    .argument('<id>', 'the alert (alt_…)')
    .option('--note <text>', 'what you are doing about it')
    .action(async (id: string, opts: ServerOptions & { note?: string }) => {
      const alert = (await callApi(targetOf(env, opts), 'POST', `${alertPath(id)}/ack`, opts.note === undefined ? {} : { note: opts.note })) as AlertView;
      // Escalated before this acknowledgement (the ack's transaction read it): too late to stop it, so say when it happened.
      const escalatedAt = alert.escalation?.escalatedAt ?? alert.escalatedAt ?? null;
      const outlook = escalatedAt === null ? 'it will not escalate' : `it escalated at ${escalatedAt}`;
      print(opts, alert, () => [alert.changed === false ? `${alert.id}: already ${ackText(alert.acknowledged)}` : `${alert.id}: ${ackText(alert.acknowledged)}; ${outlook}`]);
    });

  const services = program.command('services').description("a running server's services");
  withServer(services.command('show').description('who owns what: owners, risk, runbook, on-call and escalation routes, the review SLA, the live version, and where each alert rule goes'), 'a key with services:read')
    .argument('<service>', 'the service')
    .action(async (name: string, opts: ServerOptions) => {
      const service = (await callApi(targetOf(env, opts), 'GET', `/v1/services/${encodeURIComponent(name)}`)) as { name: string; ownership: ServiceOwnershipView };
      print(opts, service.ownership, () => formatOwnership(service.name, service.ownership));
    });
}
