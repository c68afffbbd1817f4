import { readFileSync } from 'node:fs';
import { BallastError } from '../../errors/index.js';
import type { StoredEvaluation, StoredMonitorStatus } from '../../store/index.js';
import { loadConfigFile } from '../config-file.js';
import { startRuntime } from '../runtime.js';

export interface MonitorCommandOptions {
  readonly configPath: string;
  readonly dataDir: string;
  readonly redactionKey?: string;
  readonly service?: string;
  /** Show this monitor's history instead of the status table. */
  readonly monitor?: string;
  readonly version?: string;
  readonly segment?: string;
  /** History rows (default 30). */
  readonly limit: number;
  /** Evaluate every stored window first (as the server's schedule would), then show the result. */
  readonly evaluate: boolean;
  readonly json: boolean;
}

interface StatusBody {
  readonly state: string;
  readonly since: string;
  readonly message: string;
  readonly value: number | null;
  readonly window: { readonly start: string; readonly end: string };
}

const marks: Readonly<Record<string, string>> = { ok: '·', warning: 'w', alert: 'A', unknown: '?' };
const bars = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, oldest first: bar height by value, and a row of state marks under it. */
export function textChart(points: ReadonlyArray<{ readonly value: number | null; readonly state: string }>): [string, string] {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const min = Math.min(...values);
  const max = Math.max(...values);
  const bar = (v: number | null) => {
    if (v === null || !Number.isFinite(v)) return ' ';
    if (max === min) return bars[3] as string;
    return bars[Math.min(bars.length - 1, Math.floor(((v - min) / (max - min)) * bars.length))] as string;
  };
  return [points.map((p) => bar(p.value)).join(''), points.map((p) => marks[p.state] ?? '?').join('')];
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

const fmt = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 100 || Number.isInteger(v) ? String(v) : v.toPrecision(3));

/** `ballast monitor`: the state of every monitor, or one monitor's history with a small chart. */
export async function monitorCommand(options: MonitorCommandOptions, out: (line: string) => void): Promise<void> {
  const config = loadConfigFile(options.configPath);
  if (options.service !== undefined && !Object.hasOwn(config.services, options.service)) {
    throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${options.service}' in ${options.configPath} (services: ${Object.keys(config.services).join(', ')})` });
  }
  // It may run beside a server on the same store: it evaluates what the writers stored and counts nothing itself.
  const runtime = await startRuntime(config, { dataDir: options.dataDir, redactionKey: options.redactionKey, configText: readFileSync(options.configPath, 'utf8'), monitoringEvaluateOnly: true });
  try {
    const services = options.service === undefined ? Object.keys(config.services) : [options.service];
    if (options.evaluate) {
      await runtime.monitoring.start({ schedule: false });
      for (const service of services) await runtime.monitoring.hub.evaluate(service, 'all');
    }
    const store = runtime.store;
    if (options.monitor === undefined) {
      const statuses: StoredMonitorStatus[] = [];
      for (const service of services) statuses.push(...(await store.monitoring.listStatuses(service)));
      const shown = statuses.filter((s) => (options.version === undefined || s.version === options.version) && (options.segment === undefined || s.segment === options.segment));
      if (options.json) {
        out(JSON.stringify(shown.map((s) => ({ service: s.service, monitor: s.monitor, version: s.version, segment: s.segment || null, ...(s.body as StatusBody) })), null, 2));
        return;
      }
      if (shown.length === 0) {
        out('no monitor has been evaluated yet (serve traffic, or run `ballast monitor --evaluate`)');
        return;
      }
      const rows = [['SERVICE', 'MONITOR', 'VERSION', 'SEGMENT', 'STATE', 'VALUE', 'SINCE', 'WINDOW', 'MESSAGE']];
      for (const s of shown) {
        const b = s.body as StatusBody;
        rows.push([s.service, s.monitor, s.version, s.segment || '-', b.state.toUpperCase(), fmt(b.value), b.since.slice(0, 19) + 'Z', b.window.start.slice(0, 16), b.message]);
      }
      for (const line of table(rows)) out(line);
      const counts = new Map<string, number>();
      for (const s of shown) counts.set((s.body as StatusBody).state, (counts.get((s.body as StatusBody).state) ?? 0) + 1);
      out(`\n${shown.length} monitors: ${['alert', 'warning', 'ok', 'unknown'].map((st) => `${counts.get(st) ?? 0} ${st}`).join(', ')}`);
      return;
    }
    if (services.length !== 1) throw new BallastError('REQUEST_INVALID', { detail: '--monitor needs --service (or a config with one service)' });
    const history: StoredEvaluation[] = await store.monitoring.listEvaluations({
      service: services[0]!,
      monitor: options.monitor,
      version: options.version,
      segment: options.segment ?? '',
      limit: options.limit,
    });
    if (history.length === 0) throw new BallastError('MONITOR_NOT_FOUND', { detail: `service ${services[0]} has no evaluations of '${options.monitor}'${options.segment ? ` in segment ${options.segment}` : ''}` });
    const oldestFirst = [...history].reverse();
    if (options.json) {
      out(JSON.stringify(oldestFirst, null, 2));
      return;
    }
    const [chart, states] = textChart(oldestFirst);
    out(`${services[0]} ${options.monitor}: ${oldestFirst.length} evaluations, oldest first`);
    out(`  value  ${chart}`);
    out(`  state  ${states}   (· ok, w warning, A alert, ? unknown)`);
    out('');
    const rows = [['EVALUATED', 'WINDOW', 'VERSION', 'STATE', 'OBSERVED', 'VALUE', 'MESSAGE']];
    for (const e of oldestFirst) {
      rows.push([e.evaluatedAt.slice(0, 19) + 'Z', `${e.windowStart.slice(0, 16)}…${e.windowEnd.slice(0, 16)}`, e.version, e.state.toUpperCase(), e.observed, fmt(e.value), (e.body as { message?: string }).message ?? '']);
    }
    for (const line of table(rows)) out(line);
  } finally {
    await runtime.close();
  }
}
