export {
  assignLiveRoute,
  assignRoute,
  routeKinds,
  type RouteArm,
  type RouteAssignment,
  type RouteKind,
  type RouteRequest,
} from './route-assignment.js';
export type { RolloutRouting, RoutingPlan } from './routing-plan.js';
export { bucketAfter, bucketOf, saltState, stickyBucket } from './sticky-hash.js';
