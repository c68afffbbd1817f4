// Fairness as a live monitor: every `evaluateEvery`, each protected field of each service with a
// `fairness:` block is judged over the decisions of the last `window` (per version that served);
// a breach is `alert`, no breach `ok`, too few decisions per group `unknown`. A change of state goes
// to the alert dispatcher as monitor `fairness/<field>`, so the service's alert rules notify as they
// do for drift. The same report answers GET /v1/services/:service/fairness and the approval gate.
import type { Store } from '../../store/index.js';
import type { ResolvedFairnessConfig } from './fairness-config.js';
import { fairnessBreaches, fairnessFigures, type FairnessBreach, type FairnessFigures } from './fairness-metrics.js';
import { fairnessRows } from './fairness-rows.js';

export type FairnessState = 'unknown' | 'ok' | 'alert';

export interface FieldFairness {
  readonly field: string;
  readonly state: FairnessState;
  /** Over every decision of the window. */
  readonly figures: FairnessFigures;
  /** Over the labelled ones only (the rates by label need labels; selection here is of those rows). */
  readonly labelled: number;
  readonly breaches: readonly FairnessBreach[];
  readonly message: string;
}

export interface FairnessReport {
  readonly service: string;
  readonly version: string | null;
  readonly since: string;
  readonly until: string;
  readonly decisions: number;
  readonly fields: readonly FieldFairness[];
  /** `alert` if any field breaches, `ok` if every field was judged and none breaches, else `unknown`. */
  readonly state: FairnessState;
}

/** The fairness of `service`'s decisions in [since, until) (of `version`, when given). */
export async function fairnessReport(store: Store, options: { readonly service: string; readonly config: ResolvedFairnessConfig; readonly since: string; readonly until: string; readonly version?: string }): Promise<FairnessReport> {
  const rows = await fairnessRows(store, options);
  const { config } = options;
  const fields = config.fields.map((field): FieldFairness => {
    const input = rows.map((r) => ({ group: r.groups[field]!, selected: r.selected, label: r.label }));
    const figures = fairnessFigures(input, config.minGroupCount);
    const breaches = fairnessBreaches(field, figures, config.bounds);
    const state: FairnessState = breaches.length > 0 ? 'alert' : figures.judged.length < 2 ? 'unknown' : 'ok';
    const message =
      state === 'alert'
        ? breaches.map((b) => b.message).join('; ')
        : state === 'unknown'
          ? `${field}: fewer than two groups with ${config.minGroupCount} decisions (${figures.groups.map((g) => `${g.group} ${g.decisions}`).join(', ') || 'none'})`
          : `${field}: within bounds over ${figures.judged.join(', ')} (selection-rate ratio ${figures.selectionRatio?.toFixed(3) ?? '–'})`;
    return { field, state, figures, labelled: input.filter((r) => r.label !== null).length, breaches, message };
  });
  const state: FairnessState = fields.some((f) => f.state === 'alert') ? 'alert' : fields.every((f) => f.state === 'ok') ? 'ok' : 'unknown';
  return { service: options.service, version: options.version ?? null, since: options.since, until: options.until, decisions: rows.length, fields, state };
}

/** A change of a field's state, in the alert dispatcher's terms. */
export interface FairnessTransition {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly from: FairnessState;
  readonly to: FairnessState;
  readonly at: string;
  readonly message: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface FairnessWatch {
  /** Judges every service now; resolves with the transitions it sent. */
  evaluate(): Promise<FairnessTransition[]>;
  /** The last state of each service's fields, `service/field` → state. */
  states(): ReadonlyMap<string, FairnessState>;
  start(): void;
  stop(): Promise<void>;
}

export function createFairnessWatch(deps: {
  readonly store: Store;
  /** Services with a fairness block, and theirs (read at each evaluation: a new revision applies). */
  services(): Iterable<{ readonly name: string; readonly config: ResolvedFairnessConfig }>;
  readonly onTransition: (t: FairnessTransition) => Promise<void>;
  readonly now?: () => Date;
  readonly everyMs?: number;
  readonly onError?: (error: unknown) => void;
}): FairnessWatch {
  const now = deps.now ?? (() => new Date());
  const last = new Map<string, FairnessState>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<FairnessTransition[]> | undefined;
  const watch: FairnessWatch = {
    evaluate() {
      running ??= (async () => {
        try {
          const sent: FairnessTransition[] = [];
          const until = now();
          for (const { name, config } of deps.services()) {
            const since = new Date(until.getTime() - config.windowMs).toISOString();
            const report = await fairnessReport(deps.store, { service: name, config, since, until: until.toISOString() });
            for (const field of report.fields) {
              const key = `${name}/${field.field}`;
              const from = last.get(key) ?? 'unknown';
              last.set(key, field.state);
              if (from === field.state) continue;
              const t: FairnessTransition = {
                service: name,
                monitor: `fairness/${field.field}`,
                version: '*',
                from,
                to: field.state,
                at: until.toISOString(),
                message: field.message,
                values: { window: { start: since, end: until.toISOString() }, selectionRatio: field.figures.selectionRatio, selectionDifference: field.figures.selectionDifference, equalizedOddsDifference: field.figures.equalizedOddsDifference, equalOpportunityDifference: field.figures.equalOpportunityDifference, groups: field.figures.groups.map((g) => ({ group: g.group, decisions: g.decisions, selectionRate: g.selection.value })) },
              };
              await deps.onTransition(t);
              sent.push(t);
            }
          }
          return sent;
        } finally {
          running = undefined;
        }
      })();
      return running;
    },
    states: () => last,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void watch.evaluate().catch((error: unknown) => deps.onError?.(error)), deps.everyMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
  return watch;
}
