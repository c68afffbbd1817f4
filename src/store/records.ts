// What the store keeps. Decisions and feedback are append-only: a correction is a new row that
// points at the old one. JSON-valued fields are opaque here; the pipeline gives them meaning.

export const outcomes = ['auto', 'review', 'fallback', 'rejected'] as const;
export type Outcome = (typeof outcomes)[number];

export interface StoredDecision {
  /** Sortable unique id, `dec_` + 26 characters (time-ordered). */
  readonly id: string;
  readonly service: string;
  /** The model version that served, or null when no model was called (rejected before the model). */
  readonly version: string | null;
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
  readonly outcome: Outcome;
  readonly confidence: number | null;
  /** Keyed hash of the caller's subject key (never the key itself). */
  readonly subjectHash: string | null;
  /** The input after redaction. */
  readonly input: unknown;
  readonly context: unknown;
  readonly output: unknown;
  /** Reasons, thresholds, rules, quality flags, attributions, route. */
  readonly explanation: unknown;
  /** Milliseconds per stage. */
  readonly timings: Readonly<Record<string, number>>;
}

export const feedbackKinds = ['label', 'outcome', 'override', 'appeal'] as const;
/**
 * `label` (ground truth) and `outcome` (a business signal) come from callers; `override` (a reviewer's
 * label on a reviewed decision) and `appeal` (the re-decision of an appeal) only from the review queue,
 * with the reviewer as `source` and the rationale as `note`: a human decision is a label, never an edit.
 */
export type FeedbackKind = (typeof feedbackKinds)[number];
/** The kinds whose value is a label for the decision: ground truth, a reviewer's, an appeal's; the newest of them is the decision's label. */
export const labelFeedbackKinds = ['label', 'override', 'appeal'] as const satisfies readonly FeedbackKind[];

/** Whether a feedback row carries a label (ground truth or a human's). */
export function isLabelFeedback(kind: string): boolean {
  return kind === 'label' || kind === 'override' || kind === 'appeal';
}

/** The kinds a caller may post to /v1/decisions/:id/feedback; the others come from people through the queue. */
export const callerFeedbackKinds = ['label', 'outcome'] as const satisfies readonly FeedbackKind[];

export interface StoredFeedback {
  readonly id: string;
  readonly decisionId: string;
  readonly kind: FeedbackKind;
  /** The label (kinds `label`, `override`, `appeal`) or the business outcome (kind `outcome`). */
  readonly value: unknown;
  /** Who or what reported it (a system name, a reviewer id). */
  readonly source: string | null;
  readonly note: string | null;
  /** The feedback row this one corrects, if any. */
  readonly supersedes: string | null;
  readonly createdAt: string;
}
