// What an explanation says about the monitors of its service: one notice per monitor in `warning` or
// `alert`, naming that state, with a message that says the same. A state is held by hysteresis after
// the windows that raised it (until `clearAfter` windows in a row are below it), so the latest window's
// own message ("output stable: …") can disagree with the state; the notice then says that the state is
// held and why, instead of citing a message that contradicts it.
import type { HubStatus } from './monitoring-hub.js';

/** A monitor in `warning` or `alert` at decision time, as an explanation cites it (the pipeline's `Notice`). */
export interface MonitorNotice {
  /** A monitor's state (whether any alert rule notified anybody of it is the alerts' business, not the explanation's). */
  readonly kind: 'monitor';
  /** The monitor, e.g. `feature_drift/body`. */
  readonly monitor: string;
  /** The monitor's state after hysteresis. */
  readonly state: 'warning' | 'alert';
  /** When the monitor entered this state (ISO 8601). */
  readonly since: string;
  /** One sentence that agrees with `state`. */
  readonly message: string;
}

const rank = (state: string): number => (state === 'alert' ? 2 : state === 'warning' ? 1 : 0);

/** The streak of the monitors' hysteresis status at `level` (> 0: the latest known windows were at or above it, < 0: below), if readable. */
function streakAt(status: unknown, level: 'warning' | 'alert'): { streak: number; observed: string } | undefined {
  if (status === null || typeof status !== 'object') return undefined;
  const s = status as { streaks?: { warning?: unknown; alert?: unknown }; observed?: unknown };
  const streak = s.streaks?.[level];
  return typeof streak === 'number' && Number.isInteger(streak) ? { streak, observed: typeof s.observed === 'string' ? s.observed : 'unknown' } : undefined;
}

/** The message of a monitor's current state: its latest window's message when that window is at the state, else why the state holds. */
export function monitorStateMessage(status: Pick<HubStatus, 'state' | 'message' | 'status' | 'window'>): string {
  const { state } = status;
  if (state !== 'warning' && state !== 'alert') return status.message;
  const hysteresis = streakAt(status.status, state);
  if (hysteresis === undefined || hysteresis.streak > 0) {
    // The latest judged window was at (or above) this state; above it means a higher level is pending.
    if (hysteresis !== undefined && rank(hysteresis.observed) > rank(state)) return `${status.message} (held at ${state} until alert is reached on enough windows in a row)`;
    return status.message;
  }
  const below = -hysteresis.streak;
  const held = `still in ${state}, held by hysteresis until enough windows in a row are below it`;
  const latest = `${status.window.start} to ${status.window.end}`;
  return below === 1 ? `${held}; the latest window (${latest}) was below: ${status.message}` : `${held}; the latest ${below} windows were below, the latest (${latest}): ${status.message}`;
}

/** The notice of a monitor in `warning` or `alert`; undefined in any other state. */
export function monitorNotice(status: HubStatus): MonitorNotice | undefined {
  if (status.state !== 'warning' && status.state !== 'alert') return undefined;
  return { kind: 'monitor', monitor: status.monitor, state: status.state, since: status.since, message: monitorStateMessage(status) };
}

/** The notices of the statuses (those in `warning` or `alert`), in their order. */
export function monitorNotices(statuses: readonly HubStatus[]): MonitorNotice[] {
  return statuses.flatMap((status) => {
    const notice = monitorNotice(status);
    return notice === undefined ? [] : [notice];
  });
}
