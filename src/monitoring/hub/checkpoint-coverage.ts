// What a checkpoint says the stored sketch deltas hold: every decision created before its
// `decisionsFrom`, every feedback row created before its `feedbackFrom`, and exactly the events named
// in `seen` among the later ones. Recovery replays the rest of the log, so the claim must be true of
// the whole store, not only of what the writing process observed itself: a process that started
// from another's checkpoint carries that checkpoint's `seen` forward (until its watermarks pass the
// events), and never moves a watermark back below the one it started from. Without that, a process
// that counted nothing wrote a checkpoint with an empty `seen`, and the next recovery replayed (and
// counted again) every event of the last few minutes that an earlier process had already counted.
import type { StoredCheckpoint } from '../../store/index.js';

export interface Coverage {
  readonly decisionsFrom: string;
  readonly feedbackFrom: string;
  readonly seen: string[];
}

export class CheckpointCoverage {
  /** Events this process counted, with their creation time, kept while above the watermarks. */
  private decisions: Array<readonly [string, string]> = [];
  private feedback: Array<readonly [string, string]> = [];
  /**
   * Ids the checkpoint this process started from named. Each was created no later than that checkpoint
   * (it was counted before it was written), so it is below both watermarks once they pass the
   * checkpoint's time, and can be forgotten then.
   */
  private inherited: readonly string[] = [];
  private inheritedAt = '';
  private floor: { decisionsFrom: string; feedbackFrom: string } | undefined;

  /** Takes over the claim of the checkpoint recovery starts from. */
  inherit(checkpoint: StoredCheckpoint): void {
    this.inherited = [...checkpoint.seen];
    // Not only its own time: a watermark it carried forward from an earlier checkpoint may lie later (another writer's
    // clock ahead), and its ids may be as late as that.
    this.inheritedAt = [checkpoint.createdAt, checkpoint.decisionsFrom, checkpoint.feedbackFrom].reduce((a, b) => (a > b ? a : b));
    this.floor = { decisionsFrom: checkpoint.decisionsFrom, feedbackFrom: checkpoint.feedbackFrom };
  }

  decision(id: string, createdAt: string): void {
    this.decisions.push([id, createdAt]);
  }

  feedbackRow(id: string, createdAt: string): void {
    this.feedback.push([id, createdAt]);
  }

  /**
   * The coverage of a checkpoint written now, for the watermarks this process can vouch for (decisions: the oldest in
   * flight, else now; feedback: a lookback); forgets what falls below them. Call it in the same synchronous step that
   * takes the deltas, so `seen` names exactly what those deltas and the earlier ones hold.
   */
  next(decisionsFrom: string, feedbackFrom: string): Coverage {
    const d = this.floor !== undefined && this.floor.decisionsFrom > decisionsFrom ? this.floor.decisionsFrom : decisionsFrom;
    const f = this.floor !== undefined && this.floor.feedbackFrom > feedbackFrom ? this.floor.feedbackFrom : feedbackFrom;
    this.decisions = this.decisions.filter(([, at]) => at >= d);
    this.feedback = this.feedback.filter(([, at]) => at >= f);
    if (this.inherited.length > 0 && this.inheritedAt < (d < f ? d : f)) this.inherited = [];
    const seen = new Set([...this.inherited, ...this.decisions.map(([id]) => id), ...this.feedback.map(([id]) => id)]);
    return { decisionsFrom: d, feedbackFrom: f, seen: [...seen] };
  }
}
