// What the primary and its decision workers say to each other (see ipc.ts for how).
import type { HubStatus } from '../../monitoring/hub/index.js';
import type { RoutingPlan } from '../../routing/index.js';

/** What a worker needs to serve, asked for once it runs (request `init`). */
export interface WorkerInit {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  /** The primary's internal address, for every request the worker does not answer itself. */
  readonly forwardTo: string;
  /** The running configuration revision, as text (the worker compiles it itself). */
  readonly revision: RevisionNote;
  readonly baseDir: string;
  readonly redactionKey: string;
  readonly logLevel: string;
  readonly authOff: boolean;
  /** The primary's active monitor states (for the notices in explanations). */
  readonly statuses: readonly HubStatus[];
  readonly breakers: readonly BreakerNote[];
  readonly routing: RoutingNote;
}

export interface RevisionNote {
  readonly number: number;
  readonly text: string;
  readonly source: string;
}

/** The routing of every service now (rollouts, the kill switch); null: the live version serves all. */
export type RoutingNote = Readonly<Record<string, RoutingPlan | null>>;

/**
 * A breaker state the primary decided and every worker follows: a quality breaker's every change (the monitors
 * that drive it run in the primary), an error breaker an operator forced open or closed.
 */
export type BreakerNote =
  | { readonly kind: 'quality'; readonly service: string; readonly version: string; readonly state: 'open' | 'closed'; readonly since: number; readonly reason: string; readonly figures: Readonly<Record<string, unknown>> }
  | { readonly kind: 'errors'; readonly service: string; readonly version: string; readonly state: 'open' | 'closed'; readonly reason: string };

/** Calls a worker's error breakers counted since its last note, for the other workers' breakers. */
export interface CallsNote {
  readonly calls: ReadonlyArray<readonly [service: string, version: string, failed: boolean, durationMs: number]>;
}

/** A worker's oldest decision in flight (or none) at `at`; see the primary's checkpoint watermark. */
export interface InFlightNote {
  readonly oldest: string | undefined;
  readonly at: string;
}

/** Whether a worker listens on the public address. */
export type ListeningNote = { readonly ok: true; readonly port: number } | { readonly ok: false; readonly code: string; readonly detail: string };
