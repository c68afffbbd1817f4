// Cross-check verdicts of decisions (`explanation.crossChecks`: one entry per checker that ran beside the served
// model), counted per checker name for the `agreement/<checker>` monitors. The explanation is stored JSON, possibly
// written by an older or a newer pipeline, so it is read defensively: an entry that is not a well-formed verdict is
// skipped, and nothing here throws on it.
import { SketchError } from '../sketches/index.js';
import type { CrossCheckCounts } from '../monitors/types.js';

export const crossCheckVerdicts = ['agree', 'disagree', 'unavailable'] as const;
export type CrossCheckVerdict = (typeof crossCheckVerdicts)[number];

/** A checker's name as the policy allows it. */
const CHECKER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
/** Bounds on what one decision can add (bad data must not grow a window without limit); far above any real policy. */
export const MAX_CHECKER_NAME_LENGTH = 128;
export const MAX_CROSS_CHECKS_PER_DECISION = 64;

/** Mutable counts of one checker in one accumulator. */
export type MutableCrossCheckCounts = { -readonly [K in keyof CrossCheckCounts]: number };

/** `[name, agree, disagree, unavailable]`, sorted by name: the stored form. */
export type CrossCheckCountsJSON = ReadonlyArray<readonly [string, number, number, number]>;

/**
 * The verdicts of one decision's explanation, one per checker name: the first well-formed entry of a name counts, a
 * repeated name does not (a decision counts once per checker). Only the first MAX_CROSS_CHECKS_PER_DECISION entries
 * are read, so the result depends on the record alone (a replay after a crash counts it the same).
 */
export function verdictsOf(explanation: unknown): Array<readonly [string, CrossCheckVerdict]> {
  if (explanation === null || typeof explanation !== 'object' || Array.isArray(explanation)) return [];
  let entries: unknown;
  try {
    entries = (explanation as { crossChecks?: unknown }).crossChecks;
  } catch {
    return []; // a getter that throws (not JSON, but never let the hot path fail on it)
  }
  if (!Array.isArray(entries)) return [];
  const out: Array<readonly [string, CrossCheckVerdict]> = [];
  const seen = new Set<string>();
  for (const entry of entries.slice(0, MAX_CROSS_CHECKS_PER_DECISION) as unknown[]) {
    if (entry === null || typeof entry !== 'object') continue;
    const { name, verdict } = entry as { name?: unknown; verdict?: unknown };
    if (typeof name !== 'string' || name.length > MAX_CHECKER_NAME_LENGTH || !CHECKER_NAME.test(name) || seen.has(name)) continue;
    if (typeof verdict !== 'string' || !(crossCheckVerdicts as readonly string[]).includes(verdict)) continue;
    seen.add(name);
    out.push([name, verdict as CrossCheckVerdict]);
  }
  return out;
}

/**
 * The version the checkers compared with (`against`), when it is not the version the decision is recorded under:
 * a checker preferred under `onDisagree: prefer` answered, and the agreement belongs to the version it overruled.
 */
export function comparedVersionOf(explanation: unknown, recorded: string | null): string | undefined {
  if (explanation === null || typeof explanation !== 'object') return undefined;
  const entries = (explanation as { crossChecks?: unknown }).crossChecks;
  if (!Array.isArray(entries)) return undefined;
  const first = entries[0] as { against?: unknown } | null | undefined;
  const against = first !== null && typeof first === 'object' ? first.against : undefined;
  return typeof against === 'string' && against !== recorded && against.length <= MAX_CHECKER_NAME_LENGTH ? against : undefined;
}

/** Adds one decision's verdicts. */
export function addVerdicts(counts: Map<string, MutableCrossCheckCounts>, verdicts: ReadonlyArray<readonly [string, CrossCheckVerdict]>): void {
  for (const [name, verdict] of verdicts) countsOf(counts, name)[verdict]++;
}

/** Adds the counts of another accumulator of the same key. */
export function mergeCrossChecks(into: Map<string, MutableCrossCheckCounts>, from: ReadonlyMap<string, CrossCheckCounts>): void {
  for (const [name, c] of from) {
    const mine = countsOf(into, name);
    for (const verdict of crossCheckVerdicts) mine[verdict] += c[verdict];
  }
}

export function crossChecksToJSON(counts: ReadonlyMap<string, CrossCheckCounts>): CrossCheckCountsJSON {
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, c]) => [name, c.agree, c.disagree, c.unavailable] as const);
}

/** Reads the stored form; `undefined` (a delta stored before cross-checks were counted) is no checks. Throws SketchError on anything else malformed. */
export function crossChecksFromJSON(value: unknown): Map<string, MutableCrossCheckCounts> {
  const counts = new Map<string, MutableCrossCheckCounts>();
  if (value === undefined) return counts;
  if (!Array.isArray(value)) throw new SketchError('window-accumulator: crossChecks must be an array');
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 4) throw new SketchError('window-accumulator: a crossChecks entry must be [name, agree, disagree, unavailable]');
    const [name, ...numbers] = entry as unknown[];
    if (typeof name !== 'string' || !CHECKER_NAME.test(name) || counts.has(name)) throw new SketchError(`window-accumulator: bad or repeated checker name ${JSON.stringify(name)} in crossChecks`);
    if (numbers.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0)) throw new SketchError(`window-accumulator: crossChecks counts of ${name} must be integers >= 0`);
    const [agree, disagree, unavailable] = numbers as [number, number, number];
    counts.set(name, { agree, disagree, unavailable });
  }
  return counts;
}

function countsOf(counts: Map<string, MutableCrossCheckCounts>, name: string): MutableCrossCheckCounts {
  let c = counts.get(name);
  if (c === undefined) counts.set(name, (c = { agree: 0, disagree: 0, unavailable: 0 }));
  return c;
}
