// Monitor states and the pure hysteresis step that debounces them.
import type { HysteresisConfig } from './monitoring-config.js';

export const monitorStates = ['unknown', 'ok', 'warning', 'alert'] as const;
/** `unknown`: not enough data to judge; `ok` < `warning` < `alert` otherwise. */
export type MonitorState = (typeof monitorStates)[number];

/** The levels above `ok` that hysteresis holds and raises. */
const levels = ['warning', 'alert'] as const;
type Level = (typeof levels)[number];

/**
 * A monitor's debounced status, a plain JSON value (the hub stores it and gives it back as `previous`).
 * `streaks[level]` > 0 counts consecutive known evaluations at or above the level, < 0 consecutive ones below it.
 */
export interface MonitorStatus {
  /** The state reported after hysteresis. */
  readonly state: MonitorState;
  /** The latest observed state, `unknown` included. */
  readonly observed: MonitorState;
  /** The level being approached but not yet reached (raise pending), or null. */
  readonly pending: 'warning' | 'alert' | null;
  readonly streaks: { readonly warning: number; readonly alert: number };
  /** True when `state` differs from the previous status's state. */
  readonly changed: boolean;
}

function rank(state: MonitorState): number {
  return state === 'alert' ? 2 : state === 'warning' ? 1 : 0;
}

function checkHysteresis(h: HysteresisConfig): void {
  for (const key of ['raiseAfter', 'clearAfter'] as const) {
    if (!Number.isInteger(h[key]) || h[key] < 1) throw new RangeError(`hysteresis.${key} must be an integer >= 1 (got ${String(h[key])})`);
  }
}

/**
 * One hysteresis step. A level (warning, alert) is reached after `raiseAfter` consecutive known evaluations at or above
 * it and held until `clearAfter` consecutive known evaluations below it; the state is the highest level reached or
 * held, else `ok`. An `unknown` observation neither raises nor clears, and does not break a streak either: the status
 * stays as it was (a monitor never observed known stays `unknown`).
 */
export function nextState(previous: MonitorStatus | undefined, observed: MonitorState, hysteresis: HysteresisConfig): MonitorStatus {
  checkHysteresis(hysteresis);
  const before = previous ?? { state: 'unknown' as const, observed: 'unknown' as const, pending: null, streaks: { warning: 0, alert: 0 }, changed: false };
  if (observed === 'unknown') return { ...before, observed, changed: false };

  const seen = rank(observed);
  const current = before.state === 'unknown' ? 0 : rank(before.state);
  const streaks = { warning: 0, alert: 0 };
  let state: MonitorState = 'ok';
  let pending: Level | null = null;
  for (const [i, level] of levels.entries()) {
    const last = before.streaks[level];
    const run = seen >= i + 1 ? Math.max(last, 0) + 1 : Math.min(last, 0) - 1;
    streaks[level] = run;
    const held = i + 1 <= current && -run < hysteresis.clearAfter;
    const raised = run >= hysteresis.raiseAfter;
    if (held || raised) state = level;
    else if (run > 0) pending = level;
  }
  if (pending !== null && rank(pending) <= rank(state)) pending = null;
  return { state, observed, pending, streaks, changed: state !== before.state };
}

/** Reads a status back from stored JSON; undefined for anything that is not one (the monitor then starts afresh). */
export function parseMonitorStatus(value: unknown): MonitorStatus | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const streaks = v.streaks as Record<string, unknown> | null | undefined;
  const isState = (s: unknown): s is MonitorState => monitorStates.includes(s as MonitorState);
  if (!isState(v.state) || !isState(v.observed)) return undefined;
  if (!(v.pending === null || v.pending === 'warning' || v.pending === 'alert')) return undefined;
  if (streaks === null || typeof streaks !== 'object' || !Number.isInteger(streaks.warning) || !Number.isInteger(streaks.alert)) return undefined;
  return { state: v.state, observed: v.observed, pending: v.pending, streaks: { warning: streaks.warning as number, alert: streaks.alert as number }, changed: v.changed === true };
}
