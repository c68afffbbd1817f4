// What the monitors found in the replay, read back through the public HTTP API: per week of the
// messages' dates, the accuracy where labels came back, the accuracy estimated without labels (CBPE),
// which features drifted, and the alerts that fired. Every time it prints is on the replay's clock (the
// dates the messages were sent); a wall-clock time, where one is the only thing known, says so.
import { Pool } from 'undici';
import type { ReceivedDelivery } from './webhook-receiver.js';

interface HistoryEntry {
  readonly window: { readonly start: string; readonly end: string };
  readonly observed: string;
  readonly state: string;
  readonly value: number | null;
  readonly evaluatedAt: string;
  readonly detail: { readonly samples?: number; readonly message?: string };
}

export interface WeekLine {
  readonly week: string;
  /** Decisions in the window (as the input drift monitor counted them). */
  readonly decisions: number | null;
  readonly accuracy: number | null;
  readonly labelled: number | null;
  readonly estimatedAccuracy: number | null;
  /** Why CBPE gave no estimate for a week it judged (e.g. the reference is too thin for it); null when it gave one or did not judge. */
  readonly estimatedUnknown?: string | null;
  readonly inputDrift: string;
  readonly driftedShare: number | null;
  readonly outputDrift: string;
  readonly driftedFeatures: readonly string[];
}

/** A monitor of the unsegmented traffic in `warning` or `alert` now. */
export interface AttentionLine {
  readonly monitor: string;
  readonly state: string;
  /** Wall clock: when the evaluation that put the monitor in its state ran. */
  readonly since: string;
  /** Replay's clock: the start of the window whose evaluation put it there (null when the history does not say). */
  readonly sinceWindow: string | null;
  readonly message: string;
}

/** One alert of this run, as the API keeps it. */
export interface ReportAlert {
  readonly id: string;
  /** The monitors it covers (a grouped alert's members; else its one monitor). */
  readonly monitors: readonly string[];
  /** The segments it covers; null is the unsegmented traffic. */
  readonly segments: ReadonlyArray<string | null>;
  readonly severity: string;
  /** `firing` or `resolved`. */
  readonly state: string;
  /** Wall clock. */
  readonly firedAt: string;
  /** Wall clock. */
  readonly resolvedAt: string | null;
  readonly summary: string;
  /** Replay's clock: the start of the (earliest) window whose evaluation fired it, from the alert's values. */
  readonly windowStart: string | null;
}

interface AlertRecord {
  readonly id: string;
  readonly monitor: string;
  readonly segment?: string | null;
  readonly severity: string;
  readonly state: string;
  readonly firedAt: string;
  readonly resolvedAt?: string | null;
  readonly summary: string;
  readonly values?: unknown;
}

/** An alert record of `GET /v1/alerts` as the report shows it: grouped alerts (values with members and windows) and single ones alike. */
export function reportAlert(a: AlertRecord): ReportAlert {
  const values = (typeof a.values === 'object' && a.values !== null ? a.values : {}) as { monitors?: unknown; segments?: unknown; windows?: unknown; window?: unknown };
  const grouped = Array.isArray(values.monitors) && values.monitors.length > 0;
  const windows = (Array.isArray(values.windows) ? values.windows : [values.window]).map((w) => windowStartOf({ window: w })).filter((w): w is string => w !== null).sort();
  return {
    id: a.id,
    monitors: grouped ? (values.monitors as unknown[]).map(String) : [a.monitor],
    segments: grouped && Array.isArray(values.segments) ? (values.segments as unknown[]).map((s) => (typeof s === 'string' && s !== '' ? s : null)) : [a.segment === '' || a.segment === undefined ? null : a.segment],
    severity: a.severity,
    state: a.state,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt ?? null,
    summary: a.summary,
    windowStart: windows[0] ?? null,
  };
}

export interface MonitoringReport {
  readonly reference: string | null;
  readonly weeks: readonly WeekLine[];
  /** Monitors of the unsegmented traffic not `ok` now, with the message behind each. */
  readonly attention: readonly AttentionLine[];
  /** Every alert of the service in this run's store, oldest first. */
  readonly alerts: readonly ReportAlert[];
}

/** What the report is printed with: the monitors' minimum window size, what the webhook receiver got, a command to try. */
export interface MonitoringReportContext {
  /** The monitors' `minSamples`: windows with fewer decisions are judged by none of them, and are folded into one line. */
  readonly minSamples: number;
  readonly webhook?: { readonly url: string; readonly deliveries: readonly ReceivedDelivery[] };
  /** A shell command showing one monitor's history (a `ballast monitor` line that works from here). */
  readonly monitorCommand?: string;
  /** The model version the report is of (named in its title), when the service served more than one. */
  readonly version?: string;
  /** Only the weeks and what needs attention: the alerts are printed with another version's report. */
  readonly weeksOnly?: boolean;
}

/**
 * The window (replay's clock) whose evaluation put a monitor in `state` at `since`: among the
 * evaluations that ran at that instant, oldest window first, the first of the trailing run in `state`.
 */
export function sinceWindowOf(history: readonly HistoryEntry[], since: string, state: string): string | null {
  const atOnce = history.filter((e) => e.evaluatedAt === since).sort((a, b) => a.window.start.localeCompare(b.window.start));
  let found: string | null = null;
  for (let i = atOnce.length - 1; i >= 0 && atOnce[i]!.state === state; i--) found = atOnce[i]!.window.start;
  return found;
}

const windowStartOf = (values: unknown): string | null => {
  if (typeof values !== 'object' || values === null) return null;
  const start = (values as { window?: { start?: unknown } }).window?.start;
  return typeof start === 'string' ? start : null;
};

/**
 * Evaluates every window now, then reads monitors, their history and the alerts of `service` through the API at `url`,
 * with an operator's key; with `version`, the monitors and history of that model version only.
 */
export async function fetchMonitoringReport(url: string, service: string, apiKey: string, version?: string): Promise<MonitoringReport> {
  const pool = new Pool(url, { connections: 2 });
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const response = await pool.request({ path, method, headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await response.body.json()) as T;
    if (response.statusCode !== 200) throw new Error(`${method} ${path} answered ${response.statusCode}: ${JSON.stringify(json)}`);
    return json;
  };
  try {
    await call('POST', `/v1/services/${service}/monitors/evaluate`, { windows: 'all' });
    const current = await call<{ reference: { id: string } | null; monitors: Array<{ monitor: string; version: string; segment: string | null; state: string; since: string; message: string }> }>('GET', `/v1/services/${service}/monitors`);
    const unsegmented = current.monitors.filter((m) => m.segment === null && (version === undefined || m.version === version));
    const ofVersion = version === undefined ? '' : `&version=${encodeURIComponent(version)}`;
    const features = [...new Set(unsegmented.map((m) => m.monitor).filter((m) => m.startsWith('feature_drift/')))].sort();
    const histories = new Map<string, Promise<HistoryEntry[]>>();
    const historyOf = (monitor: string): Promise<HistoryEntry[]> => {
      if (!histories.has(monitor)) {
        histories.set(
          monitor,
          call<{ history: HistoryEntry[] }>('GET', `/v1/services/${service}/monitors/${encodeURIComponent(monitor)}?segment=&limit=1000${ofVersion}`)
            .then((answer) => answer.history)
            .catch(() => [] as HistoryEntry[]),
        );
      }
      return histories.get(monitor)!;
    };
    const history = async (monitor: string): Promise<Map<string, HistoryEntry>> => {
      // Newest first: the first entry per window is its latest evaluation.
      const byWindow = new Map<string, HistoryEntry>();
      for (const entry of await historyOf(monitor)) if (!byWindow.has(entry.window.start)) byWindow.set(entry.window.start, entry);
      return byWindow;
    };
    const [input, output, accuracy, estimated] = await Promise.all(['input_drift', 'output_drift', 'accuracy', 'estimated_accuracy'].map(history));
    const perFeature = new Map(await Promise.all(features.map(async (f) => [f.slice('feature_drift/'.length), await history(f)] as const)));
    const weeks = [...input!.keys()].sort().map((week): WeekLine => {
      const acc = accuracy!.get(week);
      const est = estimated!.get(week);
      const inp = input!.get(week);
      return {
        week: week.slice(0, 10),
        decisions: inp?.detail.samples ?? null,
        accuracy: acc?.observed === 'unknown' ? null : (acc?.value ?? null),
        labelled: acc?.observed === 'unknown' ? null : (acc?.detail.samples ?? null),
        estimatedAccuracy: est?.observed === 'unknown' ? null : (est?.value ?? null),
        estimatedUnknown: est?.observed === 'unknown' ? (est.detail.message ?? 'unknown') : null,
        inputDrift: inp?.observed ?? 'unknown',
        driftedShare: inp?.observed === 'unknown' ? null : (inp?.value ?? null),
        outputDrift: output!.get(week)?.observed ?? 'unknown',
        driftedFeatures: [...perFeature].filter(([, h]) => ['warning', 'alert'].includes(h.get(week)?.observed ?? '')).map(([name]) => name),
      };
    });
    const attention = await Promise.all(
      unsegmented
        .filter((m) => m.state === 'warning' || m.state === 'alert')
        .map(async ({ monitor, state, since, message }): Promise<AttentionLine> => ({ monitor, state, since, sinceWindow: sinceWindowOf(await historyOf(monitor), since, state), message })),
    );
    const alerts = await call<{ alerts: AlertRecord[] }>('GET', `/v1/alerts?service=${service}&limit=1000`);
    return {
      reference: current.reference?.id ?? null,
      weeks,
      attention,
      alerts: alerts.alerts
        .map(reportAlert)
        .sort((a, b) => a.firedAt.localeCompare(b.firedAt) || a.id.localeCompare(b.id)),
    };
  } finally {
    await pool.close();
  }
}

const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
const day = (iso: string) => iso.slice(0, 10);
const wallClock = (iso: string) => `${iso.slice(0, 19)}Z wall clock`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The report as lines for the terminal. */
export function formatMonitoringReport(report: MonitoringReport, context: MonitoringReportContext): string[] {
  const lines: string[] = [];
  const { minSamples } = context;
  const of = context.version === undefined ? '' : ` of ${context.version}`;
  lines.push(`Monitoring${of} (reference: the training messages, profile ${report.reference ?? 'missing'}; weekly windows by the date each message was sent, the replay's clock)`);
  lines.push('  week of     decisions  accuracy (labels)  estimated (CBPE)  input drift        output drift  drifted features');
  const tooSmall = report.weeks.filter((w) => w.decisions !== null && w.decisions < minSamples);
  for (const w of report.weeks) {
    if (tooSmall.includes(w)) continue;
    const labels = w.labelled === null ? '' : ` of ${w.labelled}`;
    const share = w.driftedShare === null ? '' : ` (${(100 * w.driftedShare).toFixed(0)}%)`;
    const estimated = w.estimatedUnknown != null ? 'unknown (a)' : pct(w.estimatedAccuracy);
    lines.push(
      `  ${w.week}  ${String(w.decisions ?? '-').padStart(9)}  ${`${pct(w.accuracy)}${labels}`.padEnd(17)}  ${estimated.padEnd(16)}  ${`${w.inputDrift}${share}`.padEnd(17)}  ${w.outputDrift.padEnd(12)}  ${w.driftedFeatures.join(', ') || '-'}`,
    );
  }
  const unknownEstimates = report.weeks.filter((w) => !tooSmall.includes(w) && w.estimatedUnknown != null);
  if (unknownEstimates.length > 0) {
    // Weeks with the same reason share one entry.
    const byReason = new Map<string, string[]>();
    for (const w of unknownEstimates) byReason.set(w.estimatedUnknown!, [...(byReason.get(w.estimatedUnknown!) ?? []), w.week]);
    lines.push(`  (a) CBPE gave no estimate: ${[...byReason].map(([reason, weeks]) => `${weeks.join(', ')}: ${reason}`).join('; ')}`);
  }
  if (tooSmall.length > 0) {
    const messages = tooSmall.reduce((sum, w) => sum + (w.decisions ?? 0), 0);
    lines.push(
      `  not shown: ${plural(tooSmall.length, 'week')} with fewer than ${minSamples} messages (the monitors' minSamples), which no monitor judges: ${tooSmall.map((w) => `${w.week} (${w.decisions})`).join(', ')}; ${plural(messages, 'message')} in all`,
    );
  }
  if (report.attention.length > 0) {
    lines.push("  Needing attention now (state after hysteresis, since the week whose evaluation put it there; then the latest judged window's message):");
    for (const m of report.attention) {
      const since = m.sinceWindow === null ? `since ${wallClock(m.since)}` : `since the week of ${day(m.sinceWindow)}`;
      lines.push(`    ${m.state.toUpperCase().padEnd(7)} ${m.monitor} ${since}: ${m.message}`);
    }
  }
  if (context.weeksOnly === true) return lines;
  lines.push(...formatAlerts(report.alerts, context.webhook));
  if (context.monitorCommand !== undefined) lines.push(`  One monitor's history from the shell: ${context.monitorCommand}`);
  return lines;
}

/**
 * The alerts of this run and what the webhook receiver got, counted so that they agree: every alert
 * fired sends one first `alert.firing` notification (once its group's wait is over), a grouped alert
 * may send more as its members change or as a reminder, and every alert resolved sends one
 * `alert.resolved`.
 */
export function formatAlerts(alerts: readonly ReportAlert[], webhook?: MonitoringReportContext['webhook']): string[] {
  const lines: string[] = [];
  const resolved = alerts.filter((a) => a.state === 'resolved');
  const firing = alerts.filter((a) => a.state !== 'resolved');
  if (alerts.length === 0) lines.push('  Alerts: none fired in this run');
  else lines.push(`  Alerts: ${alerts.length} fired in this run: ${firing.length} still firing, ${resolved.length} resolved (an alert resolves when its monitor's state drops below the alert rule's minState)`);
  const deliveries = webhook?.deliveries ?? [];
  const resolvedWindow = new Map(deliveries.filter((d) => d.type === 'alert.resolved' && d.windowStart !== null).map((d) => [d.alert, d.windowStart!]));
  for (const a of alerts) {
    const segments = a.segments.filter((s) => s !== null);
    const where = segments.length === 0 ? '' : ` in ${a.segments.map((s) => s ?? 'all traffic').join(', ')}`;
    const fired = a.windowStart === null ? `fired ${wallClock(a.firedAt)}` : `fired on the week of ${day(a.windowStart)}`;
    let now = 'still firing';
    if (a.state === 'resolved') {
      const at = resolvedWindow.get(a.id);
      now = at !== undefined ? `resolved on the week of ${day(at)}` : a.resolvedAt === null ? 'resolved' : `resolved ${wallClock(a.resolvedAt)}`;
    }
    lines.push(`    ${a.id} ${a.monitors.join(', ')}${where} (${a.severity}): ${fired}, ${now}: ${a.summary}`);
  }
  if (webhook !== undefined) {
    const first = deliveries.filter((d) => d.type === 'alert.firing' && (d.reason === null || d.reason === 'new'));
    const updates = deliveries.filter((d) => d.type === 'alert.firing' && d.reason !== null && d.reason !== 'new');
    const resolutions = deliveries.filter((d) => d.type === 'alert.resolved');
    const other = deliveries.length - first.length - updates.length - resolutions.length;
    const valid = deliveries.filter((d) => d.valid).length;
    const parts = [`${first.length} alert.firing (the first notification of each alert fired)`];
    if (updates.length > 0) parts.push(`${updates.length} alert.firing again (members changed, or a reminder)`);
    parts.push(`${resolutions.length} alert.resolved (one per alert resolved)`);
    if (other > 0) parts.push(`${other} other`);
    const notified = new Set(first.map((d) => d.alert));
    const announced = new Set(resolutions.map((d) => d.alert));
    const pending = [
      ...(alerts.some((a) => !notified.has(a.id)) ? [`the first notification of ${plural(alerts.filter((a) => !notified.has(a.id)).length, 'alert')}`] : []),
      ...(resolved.some((a) => !announced.has(a.id)) ? [`the resolution of ${plural(resolved.filter((a) => !announced.has(a.id)).length, 'alert')}`] : []),
    ];
    lines.push(
      `  Webhook receiver (${webhook.url}): ${plural(deliveries.length, 'delivery', 'deliveries')}, ${valid} with a valid signature: ${parts.join(' + ')}` +
        (pending.length > 0 ? `; not delivered yet (group wait, or still in the outbox): ${pending.join(' and ')}` : ''),
    );
  }
  return lines;
}
