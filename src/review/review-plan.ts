// The review item a decision opens when it goes to review: its priority (high stakes first), the
// reviewers it needs and its due time, from the service's `review:` block and the policy's rules.
import { newId } from '../store/index.js';
import type { ResolvedReviewConfig } from './review-config.js';

/** The priority of a high-stakes item; everything else is 0. */
export const highStakesPriority = 10;

/** What planning reads of the decision (the pipeline's DecisionRecord has it all). */
export interface PlannedDecision {
  readonly createdAt: string;
  readonly explanation: { readonly rules: readonly { readonly stakes?: 'high' }[] };
}

/** The plan of one item: the pipeline's ReviewTicket. */
export interface ReviewTicketPlan {
  readonly id: string;
  readonly priority: number;
  readonly dueAt: string;
  readonly requiredReviews: number;
}

/** High stakes when any rule that fired for the decision marks it so (`stakes: high` in the policy). */
export function isHighStakes(decision: PlannedDecision): boolean {
  return decision.explanation.rules.some((rule) => rule.stakes === 'high');
}

/** Plans the review item of `decision` under `config`; the id is chosen here so the answer carries it. */
export function planReviewTicket(config: ResolvedReviewConfig, decision: PlannedDecision): ReviewTicketPlan {
  const high = isHighStakes(decision);
  const created = Date.parse(decision.createdAt);
  return {
    id: newId('rvw'),
    priority: high ? highStakesPriority : 0,
    dueAt: new Date(created + (high ? config.highStakesSlaMs : config.slaMs)).toISOString(),
    requiredReviews: high ? config.highStakesReviewers : 1,
  };
}
