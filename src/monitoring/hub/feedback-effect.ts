// What one feedback row changes in the counts of its decision's windows, given the decision's other
// feedback. The same function serves the live path and recovery, so a row counts the same whichever
// of them sees it: its effect depends only on the rows ordered before it by (createdAt, id), never on
// which rows a process happened to have seen. Summed over all of a decision's rows, the effects
// telescope to "the decision's latest label", "whether any row overrode it / complained about it",
// and one count per decided appeal.
import { isLabelFeedback, type StoredFeedback } from '../../store/index.js';
import type { BusinessCounts } from '../monitors/types.js';

export interface FeedbackEffect {
  /** Confusion pairs to add (+1) or take back (−1), for the decision's predicted label. */
  readonly labels: ReadonlyArray<{ readonly actual: string; readonly weight: 1 | -1 }>;
  /**
   * Increments of the decision's business signals: 0 or 1 each (a decision counts once per signal; an appeal's
   * re-decision is one decided appeal, overturned or not).
   */
  readonly business: { readonly [K in keyof BusinessCounts]: 0 | 1 };
}

/** Whether `a` comes before `b` in the order every reader uses: createdAt, then id. */
export function feedbackBefore(a: Pick<StoredFeedback, 'createdAt' | 'id'>, b: Pick<StoredFeedback, 'createdAt' | 'id'>): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}

/**
 * The effect of `feedback` given `all` (the decision's feedback; rows after `feedback`, and `feedback` itself, are
 * ignored). `label` reads a label out of a label row's value (null: not a label this service understands); `predicted`
 * is the model's label of the decision (null: none).
 *
 * - Labels (kinds `label`, `override`, `appeal`: accuracy against human labels too): the decision's newest label.
 * - `overrides`: an outcome row `{ override: true }`, or a person's answer (kinds `override`, `appeal`) whose label is
 *   not the model's (a decision without a model label has none to override); once per decision, on the first row that
 *   makes it so.
 * - `complaints`: an outcome row `{ complaint: true }` (an appeal's filing writes one); once per decision.
 * - `decisions`: the decision's first outcome row.
 * - `appeals`, `overturned`: each `appeal` row is one decided appeal; overturned when its label is not the answer it
 *   contested (the newest `override` or `appeal` label before it, else the model's). An appeal row whose label or
 *   contested answer cannot be read counts in neither.
 */
export function feedbackEffect(feedback: StoredFeedback, all: readonly StoredFeedback[], label: (value: unknown) => string | null, predicted: string | null): FeedbackEffect {
  const before = all.filter((f) => f.id !== feedback.id && feedbackBefore(f, feedback)).sort((a, b) => (feedbackBefore(a, b) ? -1 : feedbackBefore(b, a) ? 1 : 0));
  const then = flagsOf(before, label, predicted);
  const now = flagsOf([...before, feedback], label, predicted);
  let appeals: 0 | 1 = 0;
  let overturned: 0 | 1 = 0;
  if (feedback.kind === 'appeal') {
    const answer = label(feedback.value);
    const contested = latestLabel(before, label, (kind) => kind === 'override' || kind === 'appeal') ?? predicted;
    if (answer !== null && contested !== null) {
      appeals = 1;
      overturned = answer === contested ? 0 : 1;
    }
  }
  const business = {
    decisions: now.any && !then.any ? 1 : 0,
    overrides: now.override && !then.override ? 1 : 0,
    complaints: now.complaint && !then.complaint ? 1 : 0,
    appeals,
    overturned,
  } as const satisfies FeedbackEffect['business'];
  if (!isLabelFeedback(feedback.kind)) return { labels: [], business };
  const actual = label(feedback.value);
  if (actual === null) return { labels: [], business };
  const previous = latestLabel(before, label, isLabelFeedback);
  if (previous === actual) return { labels: [], business };
  return { labels: [...(previous === null ? [] : [{ actual: previous, weight: -1 as const }]), { actual, weight: 1 }], business };
}

/** Whether an effect changes any count. */
export function effectIsEmpty(effect: FeedbackEffect): boolean {
  return effect.labels.length === 0 && Object.values(effect.business).every((n) => n === 0);
}

/** The newest readable label among `sorted` (oldest first) rows of the kinds `accepts` takes. */
function latestLabel(sorted: readonly StoredFeedback[], label: (value: unknown) => string | null, accepts: (kind: string) => boolean): string | null {
  let latest: string | null = null;
  for (const f of sorted) {
    if (!accepts(f.kind)) continue;
    const value = label(f.value);
    if (value !== null) latest = value;
  }
  return latest;
}

interface BusinessFlags {
  any: boolean;
  override: boolean;
  complaint: boolean;
}

/** The business flags rows give together: outcome rows' `{ override, complaint }` (other fields are kept, not counted), and people's answers that are not the model's. */
function flagsOf(rows: readonly StoredFeedback[], label: (value: unknown) => string | null, predicted: string | null): BusinessFlags {
  const flags: BusinessFlags = { any: false, override: false, complaint: false };
  for (const f of rows) {
    if (f.kind === 'outcome') {
      const v = f.value !== null && typeof f.value === 'object' && !Array.isArray(f.value) ? (f.value as Record<string, unknown>) : {};
      flags.any = true;
      if (v.override === true) flags.override = true;
      if (v.complaint === true) flags.complaint = true;
    } else if (f.kind === 'override' || f.kind === 'appeal') {
      const answer = label(f.value);
      // Without a model's answer (the model failed, nothing in its place), a person's answer overrides nothing.
      if (answer !== null && predicted !== null && answer !== predicted) flags.override = true;
    }
  }
  return flags;
}
