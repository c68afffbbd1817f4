// Reads one rollout step's window from the store and reduces each decision to an Observation for analyze(). Kept
// apart from analyze so the statistics stay pure: this is the only part that knows the store and the record shapes.
import { valueAtPointer } from '../../contracts/index.js';
import { labelOf } from '../../monitoring/reference/index.js';
import { isLabelFeedback, type Store, type StoredDecision } from '../../store/index.js';
import type { Observation } from './analysis-types.js';
import type { ShadowPair } from './experiments.js';

export interface CollectOptions {
  readonly service: string;
  /** Decisions created in [since, until). */
  readonly since: string;
  readonly until: string;
  /** Version names: without a rolloutId the arms are told apart by the decision's version. */
  readonly stable: string;
  readonly candidate: string;
  /** Only decisions routed by this rollout (explanation.routing.rollout), split by explanation.routing.arm. */
  readonly rolloutId?: string;
  /** A shadow rollout: the candidate's answers come from shadow_decisions (rolloutId required). */
  readonly shadow?: boolean;
  /** RFC 6901 pointer to the label in an output; default: a scalar output or its `label` property. */
  readonly outputLabel?: string;
  /** RFC 6901 pointer to the label in a `label` feedback value; default as outputLabel. */
  readonly labelOf?: string;
  /** Segment fields, looked up in the input, then the context. */
  readonly segments: readonly string[];
  /** Rows per store page (at most 1000). */
  readonly pageSize?: number;
}

export interface CollectedObservations {
  readonly stable: Observation[];
  readonly candidate: Observation[];
  /** Shadow rollouts only: each stable decision with the candidate's shadow answer to the same input. */
  readonly pairs?: ShadowPair[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function labelReader(pointer: string | undefined): (value: unknown) => string | null {
  if (pointer === undefined) return (value) => labelOf(value) ?? null;
  return (value) => {
    const found = valueAtPointer(value, pointer);
    return typeof found === 'string' || typeof found === 'number' || typeof found === 'boolean' ? String(found) : null;
  };
}

interface FeedbackFacts {
  readonly labels: Map<string, string>;
  readonly business: Map<string, Record<string, number>>;
}

/**
 * The latest ground-truth label per decision and its business outcomes (numeric properties of `outcome` feedback,
 * the latest per name), skipping every row another row supersedes. Feedback comes after its decision, so reading
 * from `since` without an upper end finds labels that arrived after the window closed.
 */
async function readFeedback(store: Store, options: CollectOptions, limit: number): Promise<FeedbackFacts> {
  const readLabel = labelReader(options.labelOf);
  const rows: { id: string; decisionId: string; kind: string; value: unknown; supersedes: string | null }[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.feedback.list({ service: options.service, since: options.since, limit, ...(after === undefined ? {} : { after }) });
    rows.push(...page);
    if (page.length < limit) break;
    after = page[page.length - 1]!.id;
  }
  const superseded = new Set(rows.flatMap((r) => (r.supersedes === null ? [] : [r.supersedes])));
  const labels = new Map<string, string>();
  const business = new Map<string, Record<string, number>>();
  // Oldest first: a later row overwrites an earlier one.
  for (const r of rows) {
    if (superseded.has(r.id)) continue;
    if (isLabelFeedback(r.kind)) {
      const label = readLabel(r.value);
      if (label === null) labels.delete(r.decisionId);
      else labels.set(r.decisionId, label);
    } else if (r.kind === 'outcome' && isRecord(r.value)) {
      const outcomes = business.get(r.decisionId) ?? {};
      for (const [name, v] of Object.entries(r.value)) if (typeof v === 'number' && Number.isFinite(v)) outcomes[name] = v;
      business.set(r.decisionId, outcomes);
    }
  }
  return { labels, business };
}

function segmentsOf(decision: StoredDecision, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fields) {
    const value = isRecord(decision.input) && Object.hasOwn(decision.input, field) ? decision.input[field] : isRecord(decision.context) && Object.hasOwn(decision.context, field) ? decision.context[field] : undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[field] = String(value);
  }
  return out;
}

function routingOf(decision: StoredDecision): { rollout?: unknown; arm?: unknown } {
  const explanation = decision.explanation;
  if (!isRecord(explanation) || !isRecord(explanation.routing)) return {};
  return explanation.routing;
}

function modelErrorOf(decision: StoredDecision): boolean {
  const explanation = decision.explanation;
  return isRecord(explanation) && explanation.modelError !== undefined && explanation.modelError !== null;
}

/** The rollout's decisions in the window, split into arms, each with its latest label and business outcomes. */
export async function collectObservations(store: Store, options: CollectOptions): Promise<CollectedObservations> {
  const limit = Math.max(1, Math.min(options.pageSize ?? 1000, 1000));
  const readOutput = labelReader(options.outputLabel);
  const facts = await readFeedback(store, options, limit);
  const observe = (d: StoredDecision): Observation => {
    const outputLabel = readOutput(d.output);
    const truth = facts.labels.get(d.id);
    return {
      decisionId: d.id,
      createdAt: d.createdAt,
      error: modelErrorOf(d),
      fallback: d.outcome === 'fallback',
      review: d.outcome === 'review',
      latencyMs: typeof d.timings.invoke === 'number' ? d.timings.invoke : null,
      outputLabel,
      correct: truth === undefined || outputLabel === null ? null : truth === outputLabel,
      segments: segmentsOf(d, options.segments),
      business: facts.business.get(d.id) ?? {},
    };
  };

  const stable: Observation[] = [];
  const candidate: Observation[] = [];
  const served = new Map<string, StoredDecision>();
  let after: string | undefined;
  for (;;) {
    const page = await store.decisions.list({ service: options.service, since: options.since, until: options.until, limit, ...(after === undefined ? {} : { after }) });
    for (const d of page) {
      if (options.shadow === true) {
        served.set(d.id, d);
        continue;
      }
      if (options.rolloutId !== undefined) {
        const routing = routingOf(d);
        if (routing.rollout !== options.rolloutId) continue;
        if (routing.arm === 'stable') stable.push(observe(d));
        else if (routing.arm === 'candidate') candidate.push(observe(d));
      } else if (d.version === options.stable) stable.push(observe(d));
      else if (d.version === options.candidate) candidate.push(observe(d));
    }
    if (page.length < limit) break;
    after = page[page.length - 1]!.id;
  }
  if (options.shadow !== true) return { stable, candidate };

  if (options.rolloutId === undefined) throw new RangeError('collectObservations: a shadow rollout needs its rolloutId');
  const pairs: ShadowPair[] = [];
  let shadowAfter: string | undefined;
  for (;;) {
    const page = await store.shadows.list({ rolloutId: options.rolloutId, since: options.since, until: options.until, limit, ...(shadowAfter === undefined ? {} : { after: shadowAfter }) });
    for (const s of page) {
      const original = served.get(s.decisionId);
      // A shadow answer whose served decision is outside the window (or not durable yet) has nothing to compare to.
      if (original === undefined || s.version !== options.candidate) continue;
      const base = observe(original);
      const outputLabel = s.errorCode === null ? readOutput(s.output) : null;
      const truth = facts.labels.get(s.decisionId);
      const shadowObservation: Observation = {
        decisionId: s.decisionId,
        createdAt: s.createdAt,
        error: s.errorCode !== null,
        // A shadow answer is never served, so it has no outcome of its own.
        fallback: false,
        review: false,
        latencyMs: s.latencyMs,
        outputLabel,
        correct: truth === undefined || outputLabel === null ? null : truth === outputLabel,
        segments: base.segments,
        business: {},
      };
      stable.push(base);
      candidate.push(shadowObservation);
      pairs.push({
        stable: { outputLabel: base.outputLabel, confidence: original.confidence, correct: base.correct },
        candidate: { outputLabel: shadowObservation.outputLabel, confidence: s.confidence, correct: shadowObservation.correct },
      });
    }
    if (page.length < limit) break;
    shadowAfter = page[page.length - 1]!.id;
  }
  return { stable, candidate, pairs };
}
