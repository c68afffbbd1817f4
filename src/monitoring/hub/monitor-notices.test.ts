import { describe, expect, it } from 'vitest';
import { nextState, type MonitorState, type MonitorStatus } from '../monitors/state.js';
import type { HubStatus } from './monitoring-hub.js';
import { monitorNotice, monitorNotices } from './monitor-notices.js';

const window = { start: '2002-09-09T00:00:00.000Z', end: '2002-09-16T00:00:00.000Z' };

/** The status after a run of observed states through the real hysteresis, with the latest window's message. */
function statusAfter(monitor: string, observed: readonly MonitorState[], message: string, hysteresis = { raiseAfter: 1, clearAfter: 2 }): HubStatus {
  let status: MonitorStatus | undefined;
  for (const o of observed) status = nextState(status, o, hysteresis);
  return { service: 'spam-filter', monitor, version: 'v1', segment: '', state: status!.state, since: '2002-09-02T00:00:00.000Z', message, value: 0.5, window, status };
}

describe('monitor notices', () => {
  it('cites a monitor in warning as a warning, with the message of the window that put it there', () => {
    const status = statusAfter('feature_drift/body', ['ok', 'warning'], 'feature `body` drifted: JS distance 0.14 ≥ 0.1');
    expect(monitorNotice(status)).toEqual({ kind: 'monitor', monitor: 'feature_drift/body', state: 'warning', since: status.since, message: 'feature `body` drifted: JS distance 0.14 ≥ 0.1' });
  });

  it('cites an alert held by hysteresis as an alert, saying it is held, not only that the latest window is stable', () => {
    const status = statusAfter('output_drift', ['alert', 'ok'], 'output stable: chi-square p 0.41 ≥ 0.05');
    expect(status.state).toBe('alert');
    const notice = monitorNotice(status)!;
    expect(notice.state).toBe('alert');
    expect(notice.message).toBe(
      'still in alert, held by hysteresis until enough windows in a row are below it; the latest window (2002-09-09T00:00:00.000Z to 2002-09-16T00:00:00.000Z) was below: output stable: chi-square p 0.41 ≥ 0.05',
    );
    expect(notice.message.startsWith('output stable')).toBe(false);
  });

  it('says so when a higher level is pending and when several windows were below', () => {
    const pending = statusAfter('error_rate', ['warning', 'alert'], 'error rate 8.0% > alert bound 5.0%', { raiseAfter: 2, clearAfter: 3 });
    expect([pending.state, monitorNotice(pending)?.message]).toEqual(['warning', 'error rate 8.0% > alert bound 5.0% (held at warning until alert is reached on enough windows in a row)']);
    const held = statusAfter('input_drift', ['alert', 'ok', 'ok'], 'input stable: 0 of 3 features drifted', { raiseAfter: 1, clearAfter: 3 });
    expect(monitorNotice(held)?.message).toMatch(/^still in alert, held by hysteresis .*; the latest 2 windows were below, the latest \(2002-09-09T00:00:00.000Z to 2002-09-16T00:00:00.000Z\): input stable/);
  });

  it('has no notice for ok and unknown, and keeps the order of the statuses', () => {
    const statuses = [
      statusAfter('input_drift', ['alert'], 'input drifted: 2 of 3 features drifted'),
      statusAfter('accuracy', ['ok'], 'accuracy 0.97'),
      statusAfter('calibration', ['unknown'], 'labels not due'),
      statusAfter('feature_drift/body', ['warning'], 'feature `body` drifted'),
    ];
    expect(monitorNotices(statuses).map((n) => [n.monitor, n.state])).toEqual([
      ['input_drift', 'alert'],
      ['feature_drift/body', 'warning'],
    ]);
  });
});
