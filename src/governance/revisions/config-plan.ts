// The plan of a configuration change: what differs between the running revision and a candidate
// configuration, path by path, as `terraform plan` or `kubectl diff` shows it, and which of the
// changes a running server cannot swap (those refuse the apply whole: CONFIG_RESTART_REQUIRED).
import { canonicalJson } from '../../contracts/index.js';
import type { Issue } from '../../errors/index.js';

export interface PlannedChange {
  /** RFC 6901 pointer into the configuration. */
  readonly path: string;
  readonly kind: 'add' | 'remove' | 'change';
  readonly before?: unknown;
  readonly after?: unknown;
  /** Set when only a restart applies this change: why. */
  readonly restart?: string;
}

export interface ConfigPlan {
  readonly changes: readonly PlannedChange[];
  /** The changes a running server cannot apply, as issues (pointer, code `restart_required`). */
  readonly restartRequired: readonly Issue[];
}

/**
 * Settings read once at start. A service's `monitoring:` block feeds the monitoring hub's windows and
 * checkpoints, its admission and rate limits size limiters that hold requests in flight, its retention term
 * feeds the purge schedule; `store:` and `limits:` are the process's own.
 */
function restartReason(path: readonly string[]): string | undefined {
  if (path[0] === 'store') return 'the store is opened once, at start';
  if (path[0] === 'limits') return 'input limits are fixed when the HTTP server is built';
  if (path[0] !== 'services') return undefined;
  if (path.length === 2) return 'adding or removing a service changes the monitoring hub and admission, which are built at start';
  if (path[2] === 'monitoring') return "a service's monitoring block is resolved once, when the monitoring hub starts";
  if (path[2] === 'retention') return 'retention terms are read when the purge schedule starts';
  if (path[2] === 'resilience' && (path[3] === 'admission' || path[3] === 'rateLimit')) return 'admission limiters and rate limits are built at start';
  return undefined;
}

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const pointerOf = (path: readonly string[]) => (path.length === 0 ? '' : `/${path.map(escape).join('/')}`);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The plan from `before` (the running configuration, or undefined) to `after`; both plain JSON values. */
export function planConfigChange(before: unknown, after: unknown): ConfigPlan {
  const changes: PlannedChange[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) {
        const inA = Object.hasOwn(a, key) && a[key] !== undefined;
        const inB = Object.hasOwn(b, key) && b[key] !== undefined;
        const next = [...path, key];
        if (inA && !inB) changes.push(withRestart({ path: pointerOf(next), kind: 'remove', before: a[key] }, next));
        else if (!inA && inB) changes.push(withRestart({ path: pointerOf(next), kind: 'add', after: b[key] }, next));
        else if (inA && inB) walk(a[key], b[key], next);
      }
      return;
    }
    // Arrays (rules, fallback steps) are compared whole: an item's position is part of its meaning.
    if (canonicalJson(a) !== canonicalJson(b)) changes.push(withRestart({ path: pointerOf(path), kind: 'change', before: a, after: b }, path));
  };
  walk(before ?? {}, after, []);
  const restartRequired = changes.filter((c) => c.restart !== undefined).map((c) => ({ pointer: c.path, code: 'restart_required', message: `cannot change while serving: ${c.restart}` }));
  return { changes, restartRequired };
}

function withRestart(change: PlannedChange, path: readonly string[]): PlannedChange {
  const reason = restartReason(path) ?? (change.kind === 'change' ? undefined : nestedReason(change.kind === 'add' ? change.after : change.before, path));
  return reason === undefined ? change : { ...change, restart: reason };
}

/** A whole block added or removed (a `resilience:` block with `admission:` in it) needs a restart when a part of it does. */
function nestedReason(value: unknown, path: readonly string[]): string | undefined {
  if (!isObject(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const reason = restartReason([...path, key]) ?? nestedReason(child, [...path, key]);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** The plan as lines a person reads: `+ /path: value`, `- /path`, `~ /path: before → after`. */
export function formatPlan(plan: ConfigPlan): string[] {
  if (plan.changes.length === 0) return ['no changes'];
  const show = (v: unknown) => {
    const text = JSON.stringify(v);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  };
  return plan.changes.map((c) => {
    const note = c.restart === undefined ? '' : `   (needs a restart: ${c.restart})`;
    if (c.kind === 'add') return `+ ${c.path}: ${show(c.after)}${note}`;
    if (c.kind === 'remove') return `- ${c.path}${note}`;
    return `~ ${c.path}: ${show(c.before)} → ${show(c.after)}${note}`;
  });
}
