// How a value is judged against a monitor's bounds: one place for the direction and the inclusiveness.
import type { Thresholds } from './monitoring-config.js';

export type JudgedState = 'ok' | 'warning' | 'alert';

/** For bounds where high is bad (rates, ECE, latency): alert when value > alert, warning when value > warning. */
export function judgeAbove(value: number, thresholds: Thresholds): JudgedState {
  if (thresholds.alert !== undefined && value > thresholds.alert) return 'alert';
  if (thresholds.warning !== undefined && value > thresholds.warning) return 'warning';
  return 'ok';
}

/** For bounds where low is bad (accuracy): alert when value < alert, warning when value < warning. */
export function judgeBelow(value: number, thresholds: Thresholds): JudgedState {
  if (thresholds.alert !== undefined && value < thresholds.alert) return 'alert';
  if (thresholds.warning !== undefined && value < thresholds.warning) return 'warning';
  return 'ok';
}

/** A number for a message: 3 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e-4 && abs < 1e6) return String(Number(value.toPrecision(3)));
  return value.toPrecision(3);
}

/** A share as a percentage with one decimal, e.g. 0.0612 → "6.1%". */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
