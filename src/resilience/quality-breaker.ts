// The breaker on quality: opened by the monitors (live accuracy below a floor, or a chosen monitor in
// alert), closed only by a person. While open, the version's traffic goes down the fallback chain
// (to humans by default). Pure: the composition root feeds it monitor statuses and keeps its changes.

/** The `qualityBreaker:` block of a service's `resilience:`. */
export interface QualityBreakerConfig {
  /** Opens when the labelled accuracy of the current window is below this (0–1). */
  readonly accuracyFloor?: number;
  /** Opens when the estimated accuracy (CBPE) is below this while the window has no labelled accuracy yet; default: accuracyFloor. */
  readonly estimatedAccuracyFloor?: number;
  /** Opens when any of these monitors (of the whole traffic, not a segment) is in `alert`. */
  readonly monitors?: readonly string[];
}

/** What the breaker reads of one monitor status. */
export interface QualitySignal {
  readonly monitor: string;
  readonly state: string;
  readonly value: number | null;
  readonly message: string;
  readonly window: { readonly start: string; readonly end: string };
}

export interface QualityTransition {
  readonly from: 'closed' | 'open';
  readonly to: 'closed' | 'open';
  /** ms since the epoch. */
  readonly at: number;
  readonly reason: string;
  /** The monitor values behind it (monitor, value, floor, window) or the operator's words. */
  readonly figures: Readonly<Record<string, unknown>>;
  readonly forced: boolean;
}

export interface QualityBreakerSnapshot {
  readonly state: 'closed' | 'open';
  readonly since: number;
  readonly reason: string | null;
  readonly figures: Readonly<Record<string, unknown>> | null;
}

export const qualityBreakerSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    accuracyFloor: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    estimatedAccuracyFloor: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    monitors: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  },
} as const;

/** One version's quality breaker. */
export class QualityBreaker {
  private state: 'closed' | 'open' = 'closed';
  private since: number;
  private reason: string | null = null;
  private figures: Readonly<Record<string, unknown>> | null = null;
  /** After an operator closes it, signals of windows that began at or before this are not held against the version again. */
  private pardonedThrough = '';
  private readonly accuracy = new Map<string, QualitySignal>();

  constructor(
    private readonly config: QualityBreakerConfig,
    private readonly options: { readonly now?: () => number; readonly onTransition?: (t: QualityTransition) => void } = {},
  ) {
    this.since = this.now();
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  snapshot(): QualityBreakerSnapshot {
    return { state: this.state, since: this.since, reason: this.reason, figures: this.figures };
  }

  /** Takes one monitor status of the version (unsegmented); may open the breaker. */
  observe(signal: QualitySignal): void {
    if (signal.monitor === 'accuracy' || signal.monitor === 'estimated_accuracy') this.accuracy.set(signal.monitor, signal);
    if (this.state === 'open' || signal.window.start <= this.pardonedThrough) return;
    const verdict = this.judge(signal);
    if (verdict !== undefined) this.move('open', verdict.reason, verdict.figures, false);
  }

  /** An operator (or a restored history) opens it. */
  forceOpen(reason: string, figures: Readonly<Record<string, unknown>> = {}): QualityTransition | undefined {
    return this.state === 'open' ? undefined : this.move('open', reason, figures, true);
  }

  /** An operator closes it; what the monitors said about the windows seen so far is not held against the version again. */
  forceClose(reason: string): QualityTransition | undefined {
    if (this.state === 'closed') return undefined;
    this.pardonedThrough = this.pardonOnClose();
    return this.move('closed', reason, { operator: reason, pardonedThrough: this.pardonedThrough }, true);
  }

  /** The start of the newest window a close now would pardon (kept with the close, so a restart pardons it too). */
  pardonOnClose(): string {
    let through = this.pardonedThrough;
    for (const signal of this.accuracy.values()) if (signal.window.start > through) through = signal.window.start;
    const opened = this.figures?.window as { start?: string } | undefined;
    if (opened?.start !== undefined && opened.start > through) through = opened.start;
    return through;
  }

  /** Restores the state a kept history ends in, without a transition (at start). */
  restore(state: 'closed' | 'open', at: number, reason: string, figures: Readonly<Record<string, unknown>>): void {
    this.state = state;
    this.since = at;
    this.reason = reason;
    this.figures = figures;
    if (state === 'closed' && typeof figures.pardonedThrough === 'string') this.pardonedThrough = figures.pardonedThrough;
  }

  private judge(signal: QualitySignal): { reason: string; figures: Record<string, unknown> } | undefined {
    const { accuracyFloor } = this.config;
    const estimatedFloor = this.config.estimatedAccuracyFloor ?? accuracyFloor;
    if (signal.monitor === 'accuracy' && accuracyFloor !== undefined && signal.value !== null && signal.value < accuracyFloor) {
      return {
        reason: `labelled accuracy ${pct(signal.value)} is below the floor ${pct(accuracyFloor)} (window from ${signal.window.start.slice(0, 10)})`,
        figures: { monitor: 'accuracy', value: signal.value, floor: accuracyFloor, window: signal.window, message: signal.message },
      };
    }
    if (signal.monitor === 'estimated_accuracy' && estimatedFloor !== undefined && signal.value !== null && signal.value < estimatedFloor) {
      // CBPE stands in only while the same window has no labelled accuracy.
      const labelled = this.accuracy.get('accuracy');
      if (labelled !== undefined && labelled.window.start === signal.window.start && labelled.value !== null) return undefined;
      return {
        reason: `estimated accuracy ${pct(signal.value)} (no labels yet) is below the floor ${pct(estimatedFloor)} (window from ${signal.window.start.slice(0, 10)})`,
        figures: { monitor: 'estimated_accuracy', value: signal.value, floor: estimatedFloor, window: signal.window, message: signal.message },
      };
    }
    if (this.config.monitors?.includes(signal.monitor) === true && signal.state === 'alert') {
      return { reason: `monitor ${signal.monitor} is in alert: ${signal.message}`, figures: { monitor: signal.monitor, value: signal.value, state: signal.state, window: signal.window, message: signal.message } };
    }
    return undefined;
  }

  private move(to: 'closed' | 'open', reason: string, figures: Readonly<Record<string, unknown>>, forced: boolean): QualityTransition {
    const transition: QualityTransition = { from: this.state, to, at: this.now(), reason, figures, forced };
    this.state = to;
    this.since = transition.at;
    this.reason = reason;
    this.figures = figures;
    this.options.onTransition?.(transition);
    return transition;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
