// The demo's person on call: it watches the firing alerts of the services' alert rules through the
// API (as `ballast alerts list --state firing` would) and acknowledges each as it appears, except one
// that it misses, so that the run shows an alert nobody acknowledged escalating once. Then the report:
// who owns each service, what the on-call acknowledged, and the one escalation, read back from the API.
import type { DemoReceiver } from './webhook-receiver.js';

interface AlertRow {
  readonly id: string;
  readonly rule: string;
  readonly service: string;
  readonly monitor: string;
  readonly firedAt: string;
  readonly acknowledged?: { readonly by: string } | null;
  readonly escalatedAt?: string;
}

interface OwnershipView {
  readonly owners: readonly string[];
  readonly risk: string | null;
  readonly runbook: string | null;
  readonly onCall: { readonly url: string } | null;
  readonly escalation: { readonly after: string; readonly url: string } | null;
  readonly review: { readonly sla: string };
  readonly alerts: ReadonlyArray<{ readonly rule: string }>;
}

interface AlertDetail extends AlertRow {
  readonly escalation: { readonly after: string | null; readonly escalatedAt: string | null } | null;
  readonly deliveries: ReadonlyArray<{ readonly type: string; readonly url: string; readonly status: string }>;
}

export interface DemoOnCallOptions {
  readonly url: string;
  /** An operator's key (alerts:ack). */
  readonly token: string;
  readonly principal: string;
  readonly services: readonly string[];
  /** How often it looks (default 250 ms: well inside the demo's escalation delay). */
  readonly everyMs?: number;
}

export interface DemoOnCall {
  /** Alerts it acknowledged, in order. */
  readonly acknowledged: string[];
  /** Alerts it let go unacknowledged (it misses one at a time, until one has escalated). */
  readonly missed: string[];
  readonly failures: string[];
  /** Whether a missed alert still fires unescalated (its escalation may still come). */
  waiting(): boolean;
  /** Looks once more now (after the pass in flight). */
  look(): Promise<void>;
  /** Stops looking and waits for the acknowledgement in flight; idempotent. */
  stop(): Promise<void>;
}

async function api<T>(url: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const answer = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!answer.ok) throw new Error(`${method} ${path} answered ${answer.status}: ${await answer.text()}`);
  return (await answer.json()) as T;
}

/** Starts watching; the first alert it sees goes unacknowledged, the others are acknowledged at once. */
export function startDemoOnCall(options: DemoOnCallOptions): DemoOnCall {
  const acknowledged: string[] = [];
  const missed: string[] = [];
  const failures: string[] = [];
  const rulesOf = new Map<string, Set<string>>();
  let stopped = false;
  let pass: Promise<void> | undefined;

  /** Whether a missed alert has escalated: then it misses no more. */
  let escalatedOne = false;
  /** Missed alerts last seen firing, not escalated. */
  const watching = new Set<string>();

  async function look(): Promise<void> {
    const firing: AlertRow[] = [];
    for (const service of options.services) {
      if (!rulesOf.has(service)) rulesOf.set(service, new Set((await api<{ ownership: OwnershipView }>(options.url, options.token, 'GET', `/v1/services/${service}`)).ownership.alerts.map((r) => r.rule)));
      const { alerts } = await api<{ alerts: AlertRow[] }>(options.url, options.token, 'GET', `/v1/alerts?service=${service}&state=firing`);
      // The alerts of its rules only: a review SLA breach is the reviewers' (the review block escalates it).
      firing.push(...alerts.filter((a) => rulesOf.get(service)!.has(a.rule)));
    }
    const now = new Map(firing.map((a) => [a.id, a]));
    for (const id of [...watching]) {
      const seen = now.get(id) ?? (await api<AlertRow>(options.url, options.token, 'GET', `/v1/alerts/${id}`));
      if (seen.escalatedAt !== undefined) escalatedOne = true;
      if (seen.escalatedAt !== undefined || !now.has(id)) watching.delete(id);
    }
    for (const alert of firing) {
      if (alert.acknowledged != null || missed.includes(alert.id)) continue;
      // One missed at a time, until one has escalated: a missed alert that resolved first could not escalate.
      if (!escalatedOne && watching.size === 0 && alert.escalatedAt === undefined) {
        missed.push(alert.id);
        watching.add(alert.id);
        continue;
      }
      await api(options.url, options.token, 'POST', `/v1/alerts/${alert.id}/ack`, { note: `${options.principal} on call: looking at it (runbook first steps)` });
      acknowledged.push(alert.id);
    }
  }

  /** Whether a missed alert is still firing and not escalated (its escalation may still come). */
  const waiting = () => watching.size > 0 && !escalatedOne;

  const timer = setInterval(() => {
    if (stopped || pass !== undefined) return;
    pass = look()
      .catch((error: unknown) => void failures.push(error instanceof Error ? error.message : String(error)))
      .finally(() => (pass = undefined));
  }, options.everyMs ?? 250);
  timer.unref();

  return {
    acknowledged,
    missed,
    failures,
    waiting,
    async look() {
      await pass;
      await look().catch((error: unknown) => void failures.push(error instanceof Error ? error.message : String(error)));
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pass;
    },
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The ownership lines: who owns each service and what its alerts reach; what the on-call acknowledged;
 * the alert that went unacknowledged and escalated once (to whom, after how long), as the API and the
 * escalation receiver saw it. `deliverDue` runs the dispatcher's pass (an escalation due now is sent).
 */
export async function formatOwnershipReport(input: {
  readonly url: string;
  readonly token: string;
  readonly services: readonly string[];
  readonly onCall: DemoOnCall;
  readonly onCallPrincipal: string;
  readonly escalation: DemoReceiver;
  readonly deliverDue: () => Promise<unknown>;
  readonly cli: string;
}): Promise<string[]> {
  const { url, token, onCall } = input;
  // A missed alert still firing escalates after its delay: give it that long (the demo's delay is seconds).
  for (let waited = 0; waited < 8000; waited += 250) {
    await input.deliverDue();
    await onCall.look();
    if (!onCall.waiting()) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await onCall.stop();
  await input.deliverDue();
  const lines = ['Ownership (who is paged, and what happens when nobody answers):'];
  for (const service of input.services) {
    const o = (await api<{ ownership: OwnershipView }>(url, token, 'GET', `/v1/services/${service}`)).ownership;
    const routes = o.onCall === null ? 'no on-call route' : `alerts on call to ${o.onCall.url}${o.escalation === null ? '' : `, escalation after ${o.escalation.after} to ${o.escalation.url}`}`;
    lines.push(`  ${service}: owned by ${o.owners.join(', ') || '(nobody named)'} (risk ${o.risk ?? 'low'}); runbook ${o.runbook ?? '(none)'}; ${routes}; review SLA ${o.review.sla}`);
  }
  const heard = input.escalation.received.filter((d) => d.type === 'alert.escalated');
  const escalatedIds = [...new Set(heard.map((d) => d.alert))];
  lines.push(`  on call (${input.onCallPrincipal}) acknowledged ${onCall.acknowledged.length} of ${onCall.acknowledged.length + onCall.missed.length} alerts as they fired (audited as alert.acknowledged); ${onCall.missed.length === 0 ? 'it missed none' : `it missed ${onCall.missed.join(', ')}`}`);
  if (escalatedIds.length === 0) lines.push('  escalated: none (no alert went unacknowledged for long enough while firing)');
  for (const id of escalatedIds) {
    const a = await api<AlertDetail>(url, token, 'GET', `/v1/alerts/${id}`);
    const rows = a.deliveries.filter((d) => d.type === 'alert.escalated');
    const times = heard.filter((d) => d.alert === id);
    const afterMs = Date.parse(a.escalation?.escalatedAt ?? a.firedAt) - Date.parse(a.firedAt);
    lines.push(
      `  escalated: ${id} (${a.service} ${a.monitor}) went unacknowledged and escalated ${rows.length === 1 && times.length === 1 ? 'once' : `${rows.length} times (${times.length} heard)`}, ${seconds(afterMs)} after it fired (delay ${a.escalation?.after ?? '?'}), to ${rows[0]?.url ?? '?'} (${times.filter((d) => d.valid).length} of ${times.length} signatures valid)`,
    );
  }
  if (onCall.failures.length > 0) lines.push(`  on call could not act: ${onCall.failures[0]}`);
  lines.push(`  who owns what: ${input.cli} services show spam-filter --server ${url}; acknowledge: ${input.cli} alerts ack <alt_…> --note TEXT --server ${url}`);
  return lines;
}
