// What the monitors found in the replay, read back through the public HTTP API: per week of the
// messages' dates, the accuracy where labels came back, the accuracy estimated without labels (CBPE),
// which features drifted, and the alerts that fired.
import { Pool } from 'undici';

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
  readonly inputDrift: string;
  readonly driftedShare: number | null;
  readonly outputDrift: string;
  readonly driftedFeatures: readonly string[];
}

export interface MonitoringReport {
  readonly reference: string | null;
  readonly weeks: readonly WeekLine[];
  /** Monitors of the unsegmented traffic not `ok` now, with the message behind each. */
  readonly attention: ReadonlyArray<{ readonly monitor: string; readonly state: string; readonly since: string; readonly message: string }>;
  readonly alerts: ReadonlyArray<{ readonly id: string; readonly monitor: string; readonly severity: string; readonly state: string; readonly firedAt: string; readonly summary: string }>;
}

/** Evaluates every window now, then reads monitors, their history and the alerts of `service` through the API at `url`, with an operator's key. */
export async function fetchMonitoringReport(url: string, service: string, apiKey: string): Promise<MonitoringReport> {
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
    const current = await call<{ reference: { id: string } | null; monitors: Array<{ monitor: string; segment: string | null; state: string; since: string; message: string }> }>('GET', `/v1/services/${service}/monitors`);
    const unsegmented = current.monitors.filter((m) => m.segment === null);
    const features = [...new Set(unsegmented.map((m) => m.monitor).filter((m) => m.startsWith('feature_drift/')))].sort();
    const history = async (monitor: string): Promise<Map<string, HistoryEntry>> => {
      const answer = await call<{ history: HistoryEntry[] }>('GET', `/v1/services/${service}/monitors/${encodeURIComponent(monitor)}?segment=&limit=1000`).catch(() => ({ history: [] as HistoryEntry[] }));
      // Newest first: the first entry per window is its latest evaluation.
      const byWindow = new Map<string, HistoryEntry>();
      for (const entry of answer.history) if (!byWindow.has(entry.window.start)) byWindow.set(entry.window.start, entry);
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
        inputDrift: inp?.observed ?? 'unknown',
        driftedShare: inp?.observed === 'unknown' ? null : (inp?.value ?? null),
        outputDrift: output!.get(week)?.observed ?? 'unknown',
        driftedFeatures: [...perFeature].filter(([, h]) => ['warning', 'alert'].includes(h.get(week)?.observed ?? '')).map(([name]) => name),
      };
    });
    const alerts = await call<{ alerts: Array<{ id: string; monitor: string; severity: string; state: string; firedAt: string; summary: string; segment: string }> }>('GET', `/v1/alerts?service=${service}`);
    return {
      reference: current.reference?.id ?? null,
      weeks,
      attention: unsegmented.filter((m) => m.state === 'warning' || m.state === 'alert').map(({ monitor, state, since, message }) => ({ monitor, state, since, message })),
      alerts: alerts.alerts.filter((a) => a.segment === '' || a.segment === null).map(({ id, monitor, severity, state, firedAt, summary }) => ({ id, monitor, severity, state, firedAt, summary })),
    };
  } finally {
    await pool.close();
  }
}

const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);

/** The report as lines for the terminal. */
export function formatMonitoringReport(report: MonitoringReport): string[] {
  const lines: string[] = [];
  lines.push(`Monitoring (reference: the training messages, profile ${report.reference ?? 'missing'}; weekly windows by the date each message was sent)`);
  lines.push('  week of     decisions  accuracy (labels)  estimated (CBPE)  input drift        output drift  drifted features');
  for (const w of report.weeks) {
    const labels = w.labelled === null ? '' : ` of ${w.labelled}`;
    const share = w.driftedShare === null ? '' : ` (${(100 * w.driftedShare).toFixed(0)}%)`;
    lines.push(
      `  ${w.week}  ${String(w.decisions ?? '-').padStart(9)}  ${`${pct(w.accuracy)}${labels}`.padEnd(17)}  ${pct(w.estimatedAccuracy).padEnd(16)}  ${`${w.inputDrift}${share}`.padEnd(17)}  ${w.outputDrift.padEnd(12)}  ${w.driftedFeatures.join(', ') || '-'}`,
    );
  }
  if (report.attention.length > 0) {
    lines.push('  Needing attention now (state after hysteresis, since; then the latest judged window):');
    for (const m of report.attention) lines.push(`    ${m.state.toUpperCase().padEnd(7)} ${m.monitor} since ${m.since.slice(0, 19)}Z: ${m.message}`);
  }
  lines.push(report.alerts.length === 0 ? '  Alerts: none fired' : `  Alerts fired: ${report.alerts.length}`);
  for (const a of report.alerts) lines.push(`    ${a.id} ${a.monitor} (${a.severity}, ${a.state}): ${a.summary}`);
  return lines;
}
