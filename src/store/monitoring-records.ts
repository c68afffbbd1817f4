// What the store keeps for monitoring. Bodies are JSON values the monitoring module gives meaning to.

/** A sketch delta of one writer for one (service, version, segment, window), written at a checkpoint. */
export interface StoredSketch {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  /** '' when the traffic is not segmented. */
  readonly segment: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  /** The reference profile whose bins the sketch uses ('' for none); only sketches over the same bins merge. */
  readonly referenceId: string;
  /** The process that wrote it. */
  readonly writer: string;
  readonly createdAt: string;
  /** Wall-clock time of the latest event in it (labels are judged once labelDelay has passed since). */
  readonly lastEventAt: string;
  readonly events: number;
  readonly body: unknown;
}

/**
 * What the stored sketches (of every writer so far) held at a checkpoint: every decision created
 * before `decisionsFrom` (and feedback before `feedbackFrom`), and of the later ones exactly the ids
 * in `seen`; recovery replays the rest of the log. The writer states it for the whole store, ids it
 * inherited from the checkpoint it started from included.
 */
export interface StoredCheckpoint {
  readonly id: string;
  readonly writer: string;
  readonly createdAt: string;
  readonly decisionsFrom: string;
  readonly feedbackFrom: string;
  readonly seen: readonly string[];
}

/** One evaluation of one monitor, kept forever as history. */
export interface StoredEvaluation {
  readonly id: string;
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly evaluatedAt: string;
  readonly observed: string;
  readonly state: string;
  readonly value: number | null;
  readonly body: unknown;
}

/** A monitor's current status (its hysteresis state), one row per (service, monitor, version, segment). */
export interface StoredMonitorStatus {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly updatedAt: string;
  readonly body: unknown;
}
