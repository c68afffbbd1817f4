// The route stage's decision: which version answers this request, and which arm of a rollout's
// comparison it belongs to. A pure function of the plan, the service and the request's keys, so every
// replica and every restart routes a subject the same way without sharing any state.
import type { RolloutRouting, RoutingPlan } from './routing-plan.js';
import { bucketAfter, saltState, stickyBucket } from './sticky-hash.js';

export const routeKinds = ['stable', 'canary', 'control', 'treatment', 'killed'] as const;
export type RouteKind = (typeof routeKinds)[number];

/** The side of a rollout's comparison a request counts for; absent when it counts for neither. */
export type RouteArm = 'stable' | 'candidate';

export interface RouteAssignment {
  /** The version that answers (for 'killed', the stable version, which the pipeline does not call). */
  readonly version: string;
  readonly route: RouteKind;
  readonly arm?: RouteArm;
  /** The rollout in progress, its step and weight, when there is one. */
  readonly rollout?: string;
  readonly step?: number;
  readonly weight?: number;
  /** The subject's sticky bucket in [0, 1), when a subject key decided the arm. */
  readonly bucket?: number;
  /** The candidate version this request is copied to (shadow only), off the request path. */
  readonly shadow?: string;
}

export interface RouteRequest {
  readonly subjectKey?: string;
  readonly decisionId: string;
}

// Distinct prefixes make the per-decision canary draw and the shadow sample independent of each
// other and of the subject's bucket (which has no prefix, so it equals the documented stickyBucket).
const canaryDecisionPrefix = 'canary';
const shadowPrefix = 'shadow';

// The salts' hash states for the last (service, rollout) seen: hashing the salt is half the cost of
// a bucket, and a service's requests come in runs of the same rollout. A memo of a pure function, so
// it cannot make two replicas disagree; a miss just recomputes.
let memoService = '';
let memoRollout = '';
let memoSubject = 0;
let memoCanary = 0;
let memoShadow = 0;
function salts(service: string, rolloutId: string): void {
  if (service === memoService && rolloutId === memoRollout && memoService !== '') return;
  memoSubject = saltState('', service, rolloutId);
  memoCanary = saltState(canaryDecisionPrefix, service, rolloutId);
  memoShadow = saltState(shadowPrefix, service, rolloutId);
  memoService = service;
  memoRollout = rolloutId;
}

/**
 * Picks the version that serves one request under `plan`.
 * - no rollout: stable; kill switch: route 'killed' (before any rollout).
 * - canary: candidate when the subject's bucket, `stickyBucket(subjectKey, `${service}\0${rollout.id}`)`,
 *   is below the weight; without a subject key, a uniform draw from the decision id instead. Both arms
 *   are in the comparison.
 * - experiment: treatment/control by the subject's bucket; without a subject key the request is served
 *   by stable and has no arm, so it cannot bias the experiment.
 * - shadow: stable answers (arm 'stable'); a share `shadowShare` of decisions, drawn from the decision
 *   id, carry `shadow: candidate`.
 * The bucket depends on the rollout id, so a retried rollout (new id) reshuffles its subjects, while
 * raising a weight only moves subjects from stable to candidate.
 */
export function assignRoute(plan: RoutingPlan, service: string, request: RouteRequest): RouteAssignment {
  if (plan.killed !== undefined) return { version: plan.stable, route: 'killed' };
  const rollout = plan.rollout;
  if (rollout === undefined) return { version: plan.stable, route: 'stable' };
  switch (rollout.strategy) {
    case 'canary':
      return canary(plan.stable, rollout, service, request);
    case 'experiment':
      return experiment(plan.stable, rollout, service, request.subjectKey);
    case 'shadow': {
      salts(service, rollout.id);
      const copied = rollout.shadowShare > 0 && bucketAfter(memoShadow, request.decisionId) < rollout.shadowShare;
      return copied
        ? { version: plan.stable, route: 'stable', arm: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight, shadow: rollout.candidate }
        : { version: plan.stable, route: 'stable', arm: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight };
    }
  }
}

function canary(stable: string, rollout: RolloutRouting, service: string, request: RouteRequest): RouteAssignment {
  const key = request.subjectKey;
  salts(service, rollout.id);
  if (key === undefined) {
    const draw = bucketAfter(memoCanary, request.decisionId);
    return draw < rollout.weight
      ? { version: rollout.candidate, route: 'canary', arm: 'candidate', rollout: rollout.id, step: rollout.step, weight: rollout.weight }
      : { version: stable, route: 'stable', arm: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight };
  }
  const bucket = bucketAfter(memoSubject, key);
  return bucket < rollout.weight
    ? { version: rollout.candidate, route: 'canary', arm: 'candidate', rollout: rollout.id, step: rollout.step, weight: rollout.weight, bucket }
    : { version: stable, route: 'stable', arm: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight, bucket };
}

function experiment(stable: string, rollout: RolloutRouting, service: string, key: string | undefined): RouteAssignment {
  if (key === undefined) return { version: stable, route: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight };
  salts(service, rollout.id);
  const bucket = bucketAfter(memoSubject, key);
  return bucket < rollout.weight
    ? { version: rollout.candidate, route: 'treatment', arm: 'candidate', rollout: rollout.id, step: rollout.step, weight: rollout.weight, bucket }
    : { version: stable, route: 'control', arm: 'stable', rollout: rollout.id, step: rollout.step, weight: rollout.weight, bucket };
}

/**
 * The assignment before rollouts: the live version, and the subject's bucket salted by the service. Not on the
 * request path; kept as the routing benchmark's baseline (bench/routing.mjs).
 */
export function assignLiveRoute(state: { readonly live: string }, service: string, subjectKey?: string): RouteAssignment {
  if (subjectKey === undefined) return { version: state.live, route: 'stable' };
  return { version: state.live, route: 'stable', bucket: stickyBucket(subjectKey, service) };
}
