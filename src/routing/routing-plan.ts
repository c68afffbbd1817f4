// What the route stage reads, once per request: which version serves, and what a rollout in progress
// claims of the traffic. An immutable object, swapped whole when a rollout moves (a request sees one).

/** A rollout's claim on a service's traffic, as routing needs it. */
export interface RolloutRouting {
  readonly id: string;
  readonly strategy: 'canary' | 'shadow' | 'experiment';
  readonly candidate: string;
  /** The step index (0-based) the rollout is at. */
  readonly step: number;
  /**
   * canary and experiment: the share of traffic the candidate serves, in [0, 1]; a subject with a
   * sticky bucket below the weight goes to the candidate, so raising it moves subjects only from
   * stable (control) to the candidate (treatment). shadow: 0 (the candidate never answers).
   */
  readonly weight: number;
  /** shadow: the share of requests copied to the candidate, in [0, 1]; 0 for the other strategies. */
  readonly shadowShare: number;
}

/** Routing state of one service. */
export interface RoutingPlan {
  /** The version that serves every request no rollout claims. */
  readonly stable: string;
  readonly rollout?: RolloutRouting;
  /** The kill switch: no model is called, every request goes down the fallback chain's non-model steps. */
  readonly killed?: { readonly since: string; readonly reason: string };
}
