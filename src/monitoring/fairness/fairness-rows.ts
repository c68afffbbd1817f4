// What fairness is computed from: one row per decision of the window, its group in each protected
// field, whether its answer was the favourable one, and, once a label came back (ground truth, or a
// reviewer's or an appeal's answer: the newest), whether the favourable answer was the right one.
import { isLabelFeedback, type Store, type StoredDecision } from '../../store/index.js';
import type { ResolvedFairnessConfig } from './fairness-config.js';

export interface FairnessRow {
  readonly decisionId: string;
  readonly version: string | null;
  /** Field → the decision's group in it (the input's value as text; `(missing)` when absent). */
  readonly groups: Readonly<Record<string, string>>;
  readonly selected: boolean;
  /** Whether the favourable answer was right; null while no label came back. */
  readonly label: boolean | null;
}

/** The value at an RFC 6901 pointer, or undefined. */
export function atPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let current = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    // Own properties only: `/constructor` or `/__proto__` must not resolve on the prototype.
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Whether an answer (an output, or a label in the output's shape) is the favourable one. */
export function isFavourable(answer: unknown, favourable: ResolvedFairnessConfig['favourable']): boolean {
  return atPointer(answer, favourable.pointer) === favourable.equals;
}

/** Reads the rows of `service`'s decisions made in [since, until) (of `version` when given), with their newest labels. */
export async function fairnessRows(store: Store, options: { readonly service: string; readonly since: string; readonly until: string; readonly version?: string; readonly config: ResolvedFairnessConfig }): Promise<FairnessRow[]> {
  const { config } = options;
  const decisions: StoredDecision[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.decisions.list({ service: options.service, since: options.since, until: options.until, limit: 1000, ...(after === undefined ? {} : { after }) });
    for (const d of page) if (options.version === undefined || d.version === options.version) decisions.push(d);
    if (page.length < 1000) break;
    after = page.at(-1)!.id;
  }
  const wanted = new Set(decisions.map((d) => d.id));
  // The newest label row per decision (createdAt, then id), unless a later row superseded it.
  const latest = new Map<string, { at: string; id: string; value: unknown }>();
  const superseded = new Set<string>();
  for (let after: string | undefined; ; ) {
    const page = await store.feedback.list({ service: options.service, since: options.since, limit: 1000, ...(after === undefined ? {} : { after }) });
    for (const f of page) {
      if (f.supersedes !== null) superseded.add(f.supersedes);
      if (!wanted.has(f.decisionId) || !isLabelFeedback(f.kind)) continue;
      const held = latest.get(f.decisionId);
      if (held === undefined || held.at < f.createdAt || (held.at === f.createdAt && held.id < f.id)) latest.set(f.decisionId, { at: f.createdAt, id: f.id, value: f.value });
    }
    if (page.length < 1000) break;
    after = page.at(-1)!.id;
  }
  return decisions.map((d) => {
    const input = (d.input ?? {}) as Record<string, unknown>;
    const groups: Record<string, string> = {};
    for (const field of config.fields) {
      const v = input[field];
      groups[field] = v === undefined || v === null ? '(missing)' : String(v);
    }
    const label = latest.get(d.id);
    return {
      decisionId: d.id,
      version: d.version,
      groups,
      selected: isFavourable(d.output, config.favourable),
      label: label === undefined || superseded.has(label.id) ? null : isFavourable(label.value, config.favourable),
    };
  });
}
