// What one feedback row changes in the counts of its decision's windows, given the decision's other
// feedback. The same function serves the live path and recovery, so a row counts the same whichever
// of them sees it: its effect depends only on the rows ordered before it by (createdAt, id), never on
// which rows a process happened to have seen. Summed over all of a decision's rows, the effects
// telescope to "the decision's latest label" and "whether any outcome row flagged it".
import { isLabelFeedback, type StoredFeedback } from '../../store/index.js';

export interface FeedbackEffect {
  /** Confusion pairs to add (+1) or take back (−1), for the decision's predicted label. */
  readonly labels: ReadonlyArray<{ readonly actual: string; readonly weight: 1 | -1 }>;
  /** Increments of the decision's business signals (0 or 1 each: a decision counts once per signal). */
  readonly business: { readonly decisions: 0 | 1; readonly overrides: 0 | 1; readonly complaints: 0 | 1 };
}

const none: FeedbackEffect = { labels: [], business: { decisions: 0, overrides: 0, complaints: 0 } };

/** Whether `a` comes before `b` in the order every reader uses: createdAt, then id. */
export function feedbackBefore(a: Pick<StoredFeedback, 'createdAt' | 'id'>, b: Pick<StoredFeedback, 'createdAt' | 'id'>): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}

/**
 * The effect of `feedback` given `all` (the decision's feedback; rows after `feedback`, and `feedback` itself, are
 * ignored). `label` reads the true label out of a label row's value (null: not a label this service understands).
 */
export function feedbackEffect(feedback: StoredFeedback, all: readonly StoredFeedback[], label: (value: unknown) => string | null): FeedbackEffect {
  const before = all.filter((f) => f.id !== feedback.id && feedbackBefore(f, feedback));
  // A reviewer's override and an appeal's re-decision are labels too: accuracy against human labels.
  if (isLabelFeedback(feedback.kind)) {
    const actual = label(feedback.value);
    if (actual === null) return none;
    const previous = latestLabel(before, label);
    if (previous === actual) return none;
    return { labels: [...(previous === null ? [] : [{ actual: previous, weight: -1 as const }]), { actual, weight: 1 }], business: none.business };
  }
  const now = businessFlags(feedback.value);
  const then = before.filter((f) => f.kind === 'outcome').reduce((flags, f) => orFlags(flags, businessFlags(f.value)), { any: false, override: false, complaint: false });
  return {
    labels: [],
    business: { decisions: now.any && !then.any ? 1 : 0, overrides: now.override && !then.override ? 1 : 0, complaints: now.complaint && !then.complaint ? 1 : 0 },
  };
}

function latestLabel(feedback: readonly StoredFeedback[], label: (value: unknown) => string | null): string | null {
  let latest: string | null = null;
  for (const f of [...feedback].sort((a, b) => (feedbackBefore(a, b) ? -1 : feedbackBefore(b, a) ? 1 : 0))) {
    if (!isLabelFeedback(f.kind)) continue;
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

/** Business-outcome feedback: `{ override: true }` and/or `{ complaint: true }` (other fields are kept but not counted). */
function businessFlags(value: unknown): BusinessFlags {
  const v = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  return { any: true, override: v.override === true, complaint: v.complaint === true };
}

function orFlags(a: BusinessFlags, b: BusinessFlags): BusinessFlags {
  return { any: a.any || b.any, override: a.override || b.override, complaint: a.complaint || b.complaint };
}
