import { describe, expect, it } from 'vitest';
import { formatAlerts, formatMonitoringReport, reportAlert, sinceWindowOf, type MonitoringReport, type ReportAlert, type WeekLine } from './monitoring-report.js';
import type { ReceivedDelivery } from './webhook-receiver.js';

const week = (start: string, decisions: number | null, extra: Partial<WeekLine> = {}): WeekLine => ({
  week: start,
  decisions,
  accuracy: null,
  labelled: null,
  estimatedAccuracy: null,
  inputDrift: decisions !== null && decisions >= 30 ? 'ok' : 'unknown',
  driftedShare: null,
  outputDrift: 'unknown',
  driftedFeatures: [],
  ...extra,
});

const alert = (id: string, monitor: string, state: 'firing' | 'resolved', windowStart: string | null): ReportAlert => ({
  id,
  monitors: [monitor],
  segments: [null],
  severity: 'alert',
  state,
  firedAt: '2026-12-07T01:16:48.123Z',
  resolvedAt: state === 'resolved' ? '2026-12-07T01:16:58.000Z' : null,
  summary: `${monitor} drifted`,
  windowStart,
});

const delivery = (type: string, id: string, windowStart: string | null, reason: string | null = type === 'alert.resolved' ? 'resolved' : 'new'): ReceivedDelivery => ({ valid: true, type, reason, alert: id, monitor: 'm', summary: '', windowStart });

// Four alerts, two of them resolved: six deliveries (a firing and a resolved event each for the resolved ones).
const alerts = [
  alert('alt_1', 'output_drift', 'resolved', '2002-09-02T00:00:00.000Z'),
  alert('alt_2', 'confidence_drift', 'firing', '2002-09-02T00:00:00.000Z'),
  alert('alt_3', 'input_drift', 'resolved', '2002-09-23T00:00:00.000Z'),
  alert('alt_4', 'accuracy', 'firing', '2002-09-23T00:00:00.000Z'),
];
const deliveries = [
  ...alerts.map((a) => delivery('alert.firing', a.id, a.windowStart)),
  delivery('alert.resolved', 'alt_1', '2002-10-07T00:00:00.000Z'),
  delivery('alert.resolved', 'alt_3', '2002-11-25T00:00:00.000Z'),
];

const report: MonitoringReport = {
  reference: 'ref_1',
  weeks: [week('2002-08-26', 53), week('2002-09-02', 416), week('2002-10-14', 2), week('2002-11-04', 6), week('2002-11-25', 42), week('2002-12-09', null), week('2003-07-14', 1)],
  attention: [
    { monitor: 'accuracy', state: 'alert', since: '2026-12-07T01:16:54.727Z', sinceWindow: '2002-09-23T00:00:00.000Z', message: 'accuracy 0.831 < alert bound 0.886' },
    { monitor: 'error_rate', state: 'alert', since: '2026-12-07T01:16:56.001Z', sinceWindow: null, message: 'error rate 100.0%' },
  ],
  alerts,
};

describe('the demo monitoring report', () => {
  it('counts alerts fired, still firing and resolved so that they agree with the webhook deliveries', () => {
    const lines = formatAlerts(alerts, { url: 'http://127.0.0.1:1/alerts', deliveries });
    expect(lines[0]).toBe("  Alerts: 4 fired in this run: 2 still firing, 2 resolved (an alert resolves when its monitor's state drops below the alert rule's minState)");
    expect(lines.at(-1)).toBe('  Webhook receiver (http://127.0.0.1:1/alerts): 6 deliveries, 6 with a valid signature: 4 alert.firing (the first notification of each alert fired) + 2 alert.resolved (one per alert resolved)');
    // Every alert has a line saying whether it still fires, on the replay's clock.
    expect(lines.slice(1, -1)).toEqual([
      '    alt_1 output_drift (alert): fired on the week of 2002-09-02, resolved on the week of 2002-10-07: output_drift drifted',
      '    alt_2 confidence_drift (alert): fired on the week of 2002-09-02, still firing: confidence_drift drifted',
      '    alt_3 input_drift (alert): fired on the week of 2002-09-23, resolved on the week of 2002-11-25: input_drift drifted',
      '    alt_4 accuracy (alert): fired on the week of 2002-09-23, still firing: accuracy drifted',
    ]);
    // The numbers in the two lines add up: fired + resolved = deliveries.
    const [fired, firing, resolved] = /(\d+) fired in this run: (\d+) still firing, (\d+) resolved/.exec(lines[0]!)!.slice(1).map(Number);
    expect(firing! + resolved!).toBe(fired);
    expect(Number(/(\d+) deliveries/.exec(lines.at(-1)!)![1])).toBe(fired! + resolved!);
  });

  it('says which notifications are not delivered yet, counts a grouped alert\'s later notifications apart, and says when no alert fired', () => {
    const short = formatAlerts(alerts, { url: 'u', deliveries: [...deliveries.slice(1, 4), deliveries[4]!] });
    expect(short.at(-1)).toBe(
      '  Webhook receiver (u): 4 deliveries, 4 with a valid signature: 3 alert.firing (the first notification of each alert fired) + 1 alert.resolved (one per alert resolved); not delivered yet (group wait, or still in the outbox): the first notification of 1 alert and the resolution of 1 alert',
    );
    const again = formatAlerts(alerts, { url: 'u', deliveries: [...deliveries, delivery('alert.firing', 'alt_2', null, 'changed'), delivery('alert.firing', 'alt_4', null, 'repeat')] });
    expect(again.at(-1)).toBe('  Webhook receiver (u): 8 deliveries, 8 with a valid signature: 4 alert.firing (the first notification of each alert fired) + 2 alert.firing again (members changed, or a reminder) + 2 alert.resolved (one per alert resolved)');
    expect(formatAlerts([], { url: 'u', deliveries: [] })).toEqual(['  Alerts: none fired in this run', '  Webhook receiver (u): 0 deliveries, 0 with a valid signature: 0 alert.firing (the first notification of each alert fired) + 0 alert.resolved (one per alert resolved)']);
  });

  it('reads grouped alert records (members, segments, windows) and single ones', () => {
    const grouped = reportAlert({
      id: 'alt_g',
      monitor: 'feature_drift',
      segment: '*',
      severity: 'warning',
      state: 'firing',
      firedAt: '2026-12-07T01:16:54.000Z',
      summary: 'feature_drift warning on 2 monitors × segments',
      values: { by: ['version', 'monitor'], monitors: ['feature_drift/body', 'feature_drift/subject'], features: ['body', 'subject'], segments: [null, 'de'], windows: [{ start: '2002-09-23T00:00:00.000Z', end: '2002-09-30T00:00:00.000Z' }, { start: '2002-09-09T00:00:00.000Z', end: '2002-09-16T00:00:00.000Z' }], members: [], change: {} },
    });
    expect(grouped).toMatchObject({ monitors: ['feature_drift/body', 'feature_drift/subject'], segments: [null, 'de'], windowStart: '2002-09-09T00:00:00.000Z' });
    expect(formatAlerts([grouped])[1]).toBe('    alt_g feature_drift/body, feature_drift/subject in all traffic, de (warning): fired on the week of 2002-09-09, still firing: feature_drift warning on 2 monitors × segments');
    const single = reportAlert({ id: 'alt_s', monitor: 'output_drift', segment: '', severity: 'alert', state: 'resolved', firedAt: 'x', resolvedAt: 'y', summary: 's', values: { value: 1, window: { start: '2002-09-02T00:00:00.000Z', end: '2002-09-09T00:00:00.000Z' } } });
    expect(single).toMatchObject({ monitors: ['output_drift'], segments: [null], windowStart: '2002-09-02T00:00:00.000Z', resolvedAt: 'y' });
  });

  it('labels a wall-clock time as such when the replay-clock one is unknown', () => {
    const [, line] = formatAlerts([{ ...alerts[0]!, windowStart: null }]);
    expect(line).toBe('    alt_1 output_drift (alert): fired 2026-12-07T01:16:48Z wall clock, resolved 2026-12-07T01:16:58Z wall clock: output_drift drifted');
  });

  it("shows no window smaller than the monitors' minSamples as a row, and folds them into one line", () => {
    const lines = formatMonitoringReport(report, { minSamples: 30 });
    const rows = lines.filter((l) => /^ {2}\d{4}-\d{2}-\d{2} /.test(l));
    expect(rows.map((l) => l.slice(2, 12))).toEqual(['2002-08-26', '2002-09-02', '2002-11-25', '2002-12-09']);
    expect(lines).toContain("  not shown: 3 weeks with fewer than 30 messages (the monitors' minSamples), which no monitor judges: 2002-10-14 (2), 2002-11-04 (6), 2003-07-14 (1); 9 messages in all");
    // The fold follows the configured minimum.
    const strict = formatMonitoringReport(report, { minSamples: 50 });
    expect(strict.filter((l) => /^ {2}\d{4}-/.test(l)).map((l) => l.slice(2, 12))).toEqual(['2002-08-26', '2002-09-02', '2002-12-09']);
    expect(strict.some((l) => l.includes('4 weeks with fewer than 50 messages') && l.includes('2002-11-25 (42)'))).toBe(true);
  });

  it('prints an estimate CBPE could not make as unknown, with its reason under the table, not as a blank', () => {
    const reason = 'estimated accuracy unknown: the reference is too thin for this window: 29 of 347 predictions (8.4%) fall in class × confidence bins with fewer than 20 labelled reference predictions (at most 5.0% may)';
    const none = 'estimated accuracy unknown: only 0 predictions with a confidence in the window, fewer than minSamples (30)';
    const weeks = [week('2002-09-02', 347, { estimatedUnknown: reason }), week('2002-09-09', 300, { estimatedAccuracy: 0.912 }), week('2002-09-30', 481, { estimatedUnknown: none }), week('2002-10-07', 315, { estimatedUnknown: none })];
    const lines = formatMonitoringReport({ ...report, weeks }, { minSamples: 30 });
    expect(lines.find((l) => l.startsWith('  2002-09-02'))).toMatch(/^ {2}2002-09-02 +347 +- +unknown \(a\) +ok/);
    expect(lines.find((l) => l.startsWith('  2002-09-09'))).toMatch(/^ {2}2002-09-09 +300 +- +91\.2% +ok/);
    // Weeks with the same reason share an entry.
    expect(lines).toContain(`  (a) CBPE gave no estimate: 2002-09-02: ${reason}; 2002-09-30, 2002-10-07: ${none}`);
  });

  it("prints times on the replay's clock, and marks any wall-clock time", () => {
    const lines = formatMonitoringReport(report, { minSamples: 30, webhook: { url: 'u', deliveries }, monitorCommand: 'npx ballast monitor --service spam-filter' });
    expect(lines).toContain('    ALERT   accuracy since the week of 2002-09-23: accuracy 0.831 < alert bound 0.886');
    expect(lines).toContain('    ALERT   error_rate since 2026-12-07T01:16:56Z wall clock: error rate 100.0%');
    // No time of 2026 (the wall clock) without its label.
    for (const line of lines) for (const m of line.matchAll(/2026-\S+/g)) expect(line.slice(m.index + m[0].length)).toMatch(/^ wall clock/);
    expect(lines.at(-1)).toBe("  One monitor's history from the shell: npx ballast monitor --service spam-filter");
  });

  it('finds the window whose evaluation put a monitor in its state', () => {
    const entry = (start: string, evaluatedAt: string, state: string) => ({ window: { start, end: start }, observed: state, state, value: null, evaluatedAt, detail: {} });
    const history = [
      entry('2002-09-30', 't3', 'alert'),
      entry('2002-09-23', 't2', 'alert'),
      entry('2002-09-16', 't2', 'ok'),
      entry('2002-09-16', 't1', 'ok'),
    ];
    expect(sinceWindowOf(history, 't2', 'alert')).toBe('2002-09-23');
    // A late window that left the state as it was, evaluated in the same pass, does not move it.
    expect(sinceWindowOf([...history, entry('2002-09-30', 't2', 'alert')], 't2', 'alert')).toBe('2002-09-23');
    expect(sinceWindowOf(history, 't9', 'alert')).toBeNull();
    expect(sinceWindowOf(history, 't2', 'warning')).toBeNull();
  });
});
