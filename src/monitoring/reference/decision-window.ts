// Reference rows from a window of the decision log: inputs as stored (already redacted), the
// predicted label from the output, the decision's confidence, the true label from `label` feedback.
import { isLabelFeedback, type Store } from '../../store/index.js';
import { labelOf, type ReferenceRow } from './reference-builder.js';

export interface DecisionWindowOptions {
  readonly service: string;
  /** ISO 8601 UTC instants with milliseconds: decisions created in [since, until). */
  readonly since: string;
  readonly until: string;
  /** The predicted label in an output; default `labelOf` (a scalar output, or its `label` property). */
  readonly outputLabel?: (output: unknown) => string | null | undefined;
  /** The true label in a `label` feedback value; default `labelOf`. */
  readonly feedbackLabel?: (value: unknown) => string | null | undefined;
  /** Rows per query, at most (and by default) 1000, the store's largest page. */
  readonly pageSize?: number;
}

const pageOf = (options: DecisionWindowOptions) => Math.max(1, Math.min(options.pageSize ?? 1000, 1000));

/**
 * The true label of each decision with `label` feedback given at or after `since` (feedback follows
 * its decision): the latest one that no later feedback supersedes.
 */
export async function windowLabels(store: Store, options: DecisionWindowOptions): Promise<Map<string, string>> {
  const feedbackLabel = options.feedbackLabel ?? labelOf;
  const latest = new Map<string, { id: string; label: string | undefined }>();
  const superseded = new Set<string>();
  const limit = pageOf(options);
  let after: string | undefined;
  for (;;) {
    const page = await store.feedback.list({ service: options.service, since: options.since, limit, ...(after === undefined ? {} : { after }) });
    for (const f of page) {
      if (f.supersedes !== null) superseded.add(f.supersedes);
      if (!isLabelFeedback(f.kind)) continue;
      const label = feedbackLabel(f.value);
      // A label that cannot be read still replaces the one before it: the decision's label is unknown.
      latest.set(f.decisionId, { id: f.id, label: label ?? undefined });
    }
    if (page.length < limit) break;
    after = page[page.length - 1]!.id;
  }
  const labels = new Map<string, string>();
  for (const [decisionId, { id, label }] of latest) if (!superseded.has(id) && label !== undefined) labels.set(decisionId, label);
  return labels;
}

/** Reads the window's decisions page by page, oldest first; decisions whose input is not an object are left out. */
export async function* decisionWindowRows(store: Store, options: DecisionWindowOptions, labels: ReadonlyMap<string, string>): AsyncGenerator<ReferenceRow> {
  const outputLabel = options.outputLabel ?? labelOf;
  const limit = pageOf(options);
  let after: string | undefined;
  for (;;) {
    const page = await store.decisions.list({ service: options.service, since: options.since, until: options.until, limit, ...(after === undefined ? {} : { after }) });
    for (const d of page) {
      const input = d.input;
      if (input === null || typeof input !== 'object' || Array.isArray(input)) continue;
      yield { input: input as Record<string, unknown>, prediction: outputLabel(d.output) ?? undefined, confidence: d.confidence ?? undefined, label: labels.get(d.id) };
    }
    if (page.length < limit) return;
    after = page[page.length - 1]!.id;
  }
}
