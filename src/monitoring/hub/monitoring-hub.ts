// The running part of monitoring. On the hot path it only updates in-memory sketches (a few µs per
// decision). Every few seconds it writes what it counted since the last checkpoint as deltas, with
// a checkpoint row that says what those deltas cover; after a crash, `recover()` replays from the
// decision log exactly what the checkpoints do not cover, so nothing acknowledged is lost. Evaluation
// reads the merged deltas of all writers from the store, runs the pure monitors, keeps every
// evaluation as history and reports state changes (to alerts and metrics).
import { newId, type Store, type StoredDecision, type StoredFeedback, type StoredMonitorStatus, type StoredSketch } from '../../store/index.js';
import type { FeatureSketchSet, FeatureSketchSetConfig } from '../sketches/index.js';
import type { CalibrationTable, ClassConfidenceCounts } from '../monitors/calibration-table.js';
import { addBusiness, WindowAccumulator, windowOutcomes, type WindowOutcome } from './window-accumulator.js';
import { CheckpointCoverage } from './checkpoint-coverage.js';
import { effectIsEmpty, feedbackEffect } from './feedback-effect.js';
import { comparedVersionOf, verdictsOf } from './cross-check-counts.js';
import type { BusinessCounts, CrossCheckCounts } from '../monitors/types.js';

/** A decision as the hub sees it (the pipeline's stored record has this shape). */
export interface ObservedRecord {
  readonly id: string;
  readonly service: string;
  readonly version: string | null;
  readonly createdAt: string;
  readonly outcome: string;
  readonly confidence: number | null;
  readonly input: unknown;
  readonly output: unknown;
  readonly explanation: unknown;
  readonly timings: Readonly<Record<string, number>>;
}

/** A reference profile, loaded: the bins live sketches use and the reference's own statistics. */
export interface HubReference {
  readonly id: string;
  readonly config: Omit<FeatureSketchSetConfig, 'key' | 'stages'>;
  readonly sketch: FeatureSketchSet;
  readonly vocabularies?: Readonly<Record<string, ReadonlySet<string>>>;
  readonly calibration?: CalibrationTable;
  readonly accuracy?: number;
}

export type MonitorStateName = 'unknown' | 'ok' | 'warning' | 'alert';

/** What the hub needs of one monitor evaluation (the monitors produce more). */
export interface HubEvaluation {
  readonly monitor: string;
  readonly observed: MonitorStateName;
  readonly status: { readonly state: MonitorStateName };
  readonly value: number | null;
  readonly message: string;
}

/** The data of one (version, segment, window), merged over every writer, for the monitors. */
export interface HubWindowInput {
  readonly service: string;
  readonly version: string;
  readonly segment?: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly sketch: FeatureSketchSet;
  readonly counts: { readonly decisions: number; readonly byOutcome: Readonly<Record<WindowOutcome, number>>; readonly modelErrors: number };
  /** Present only once the window is ripe: labelDelay has passed since its last event. */
  readonly labels?: ReadonlyArray<{ readonly predicted: string | null; readonly actual: string; readonly score: null }>;
  readonly calibration?: CalibrationTable;
  /** The window's predictions by class and confidence bin (CBPE per class); absent when a delta stored before they were kept is in the window. */
  readonly predictions?: ClassConfidenceCounts;
  readonly business: BusinessCounts;
  /** Cross-check verdicts by checker name (agreement monitors). */
  readonly crossChecks: ReadonlyMap<string, CrossCheckCounts>;
}

/** One monitored service, its configuration already parsed. */
export interface HubService<E extends HubEvaluation = HubEvaluation> {
  readonly name: string;
  /** The window holding an instant (ms since the epoch). */
  window(timeMs: number): { readonly start: string; readonly end: string };
  /** The event time of an input, when the service takes it from the input; else the decision's time is used. */
  eventTime?(input: Readonly<Record<string, unknown>>): number | undefined;
  /** Input fields whose values segment the traffic (each value its own sketches). */
  readonly segments: readonly string[];
  /** The predicted label in an output, for output drift and accuracy. */
  outputLabel(output: unknown): string | null;
  /** The true label in a `label` feedback value. */
  feedbackLabel(value: unknown): string | null;
  /** Stage timings kept as latency histograms (`total` is the sum of all stages). */
  readonly stages: readonly string[];
  /** Raw values kept per numeric feature and window (`drift.sampleSize`); default the sketches' DEFAULT_SAMPLE_SIZE. */
  readonly sampleSize?: number;
  readonly labelDelayMs: number;
  /** Whether windows are by event time (then only the wall-clock time of a window's last event tells when its labels are due). */
  readonly windowsByEventTime?: boolean;
  /** Runs the monitors over one window; `previous` holds the statuses by monitor name. */
  evaluate(input: HubWindowInput, reference: HubReference | undefined, previous: ReadonlyMap<string, unknown>): readonly E[];
}

export interface MonitorTransition {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment?: string;
  readonly from: MonitorStateName;
  readonly to: MonitorStateName;
  readonly at: string;
  readonly message: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** The current status of one monitor, as kept in the store. */
export interface HubStatus {
  readonly service: string;
  readonly monitor: string;
  readonly version: string;
  readonly segment: string;
  readonly state: MonitorStateName;
  /** When the monitor entered its current state. */
  readonly since: string;
  readonly message: string;
  readonly value: number | null;
  readonly window: { readonly start: string; readonly end: string };
  /** The monitors' own status object (hysteresis counters), passed back at the next evaluation. */
  readonly status: unknown;
}

/**
 * A service's monitors in state `warning` or `alert` on its unsegmented traffic, by version, and all of them under
 * null (any version): what explanations cite. Pure; callers cache it (the hub, a decision worker's mirror).
 */
export function activeByVersion(statuses: Iterable<HubStatus>, service: string): Map<string | null, HubStatus[]> {
  const byVersion = new Map<string | null, HubStatus[]>();
  for (const status of statuses) {
    if (status.service !== service || status.segment !== '' || (status.state !== 'alert' && status.state !== 'warning')) continue;
    for (const key of [status.version, null]) {
      const list = byVersion.get(key) ?? [];
      list.push(status);
      byVersion.set(key, list);
    }
  }
  return byVersion;
}

export interface MonitoringHubOptions<E extends HubEvaluation> {
  readonly store: Store;
  readonly services: readonly HubService<E>[];
  loadReference(service: string): Promise<HubReference | undefined>;
  /** Oldest decision still in flight (the pipeline's), for the checkpoint watermark. */
  oldestInFlight?(): string | undefined;
  onTransition?(transition: MonitorTransition): Promise<void> | void;
  /** Called when background work fails (checkpoint, evaluation); default: ignored. */
  onError?(error: unknown, what: string): void;
  readonly now?: () => Date;
  /** Milliseconds between checkpoints (default 5000). */
  readonly checkpointEveryMs?: number;
  /** Milliseconds between scheduled evaluations (default 60000). */
  readonly evaluateEveryMs?: number;
  /** Distinct values tracked per segment field and window; the rest share `<field>=(other)` (default 50). */
  readonly maxSegmentValues?: number;
  /** How far back recovery replays when no checkpoint exists, in ms (default 30 days). */
  readonly replayHorizonMs?: number;
  /**
   * For a process that counts nothing and may run beside the writers (`ballast monitor --evaluate` while a server
   * runs): start() replays nothing and no checkpoint is ever written, so it can neither count a writer's uncheckpointed
   * events a second time nor move a watermark past them; it evaluates what the writers stored. Default false.
   */
  readonly evaluateOnly?: boolean;
}

export interface EvaluationResult<E> {
  readonly service: string;
  readonly version: string;
  readonly segment?: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly evaluations: readonly E[];
}

const FEEDBACK_LOOKBACK_MS = 5 * 60_000;
/** (segment field, window) pairs whose tracked values are remembered; older ones are forgotten. */
const MAX_SEGMENT_WINDOWS = 256;

interface ServiceState<E extends HubEvaluation> {
  readonly service: HubService<E>;
  reference: HubReference | undefined;
  /** Accumulators since the last checkpoint, by `version\0segment\0windowStart`. */
  readonly open: Map<string, { acc: WindowAccumulator; window: { start: string; end: string }; version: string; segment: string }>;
  /** Windows touched since the last evaluation, and windows still waiting for their labels. */
  readonly touched: Set<string>;
  readonly awaitingLabels: Set<string>;
  /** Distinct segment values per `field\0windowStart`. */
  readonly segmentValues: Map<string, Set<string>>;
}

/** The monitoring runtime of one process; see the file comment. */
export class MonitoringHub<E extends HubEvaluation = HubEvaluation> {
  readonly writer = newId('mw');
  private readonly states = new Map<string, ServiceState<E>>();
  private readonly statuses = new Map<string, HubStatus>();
  /** What the checkpoints this process writes say the stored deltas hold (see checkpoint-coverage.ts). */
  private readonly coverage = new CheckpointCoverage();
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly statusListeners = new Set<(status: HubStatus) => void>();
  private readonly inFlightSources = new Set<() => string | undefined>();
  /** State changes the alerts could not take yet, the latest per monitor key. */
  private readonly failedTransitions = new Map<string, MonitorTransition>();
  /** activeAlerts() cache by service, then version (null: any); dropped when a status of the service is set. */
  private readonly active = new Map<string, Map<string | null, HubStatus[]>>();
  private closed = false;
  private started = false;
  private readonly now: () => Date;

  constructor(private readonly options: MonitoringHubOptions<E>) {
    this.now = options.now ?? (() => new Date());
    if (options.oldestInFlight !== undefined) this.inFlightSources.add(options.oldestInFlight);
    for (const service of options.services) {
      this.states.set(service.name, { service, reference: undefined, open: new Map(), touched: new Set(), awaitingLabels: new Set(), segmentValues: new Map() });
    }
  }

  /**
   * Loads references and statuses, replays what the last checkpoint does not cover, and hands every
   * known state to the alerts once: a change they could not take before a crash is taken now (the
   * alerts are idempotent: an alert already firing is not fired again, a resolved one not resolved).
   */
  async start(): Promise<void> {
    this.started = true;
    for (const state of this.states.values()) state.reference = await this.options.loadReference(state.service.name);
    for (const row of await this.options.store.monitoring.listStatuses()) {
      const status = row.body as HubStatus;
      this.statuses.set(statusKey(row.service, row.monitor, row.version, row.segment), status);
      this.emitStatus(status);
    }
    if (this.options.evaluateOnly !== true) await this.recover();
    if (this.options.onTransition !== undefined) {
      for (const status of this.statuses.values()) {
        if (!this.states.has(status.service) || status.state === 'unknown') continue;
        await this.deliverTransition({
          service: status.service,
          monitor: status.monitor,
          version: status.version,
          ...(status.segment === '' ? {} : { segment: status.segment }),
          from: status.state,
          to: status.state,
          at: status.since,
          message: status.message,
          values: { value: status.value, window: status.window },
        });
      }
    }
  }

  /** Starts the checkpoint and evaluation timers (unref'd: they never keep the process alive). */
  startSchedule(): void {
    const every = (ms: number, what: string, work: () => Promise<unknown>) => {
      const timer = setInterval(() => void work().catch((error: unknown) => this.options.onError?.(error, what)), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.checkpointEveryMs ?? 5000, 'checkpoint', () => this.checkpoint());
    every(this.options.evaluateEveryMs ?? 60_000, 'evaluation', () => this.evaluateAll());
  }

  /** Reloads a service's reference profile (after a new one was built); new windows use its bins. */
  async reloadReference(service: string): Promise<void> {
    const state = this.states.get(service);
    if (state === undefined) return;
    await this.checkpoint();
    state.reference = await this.options.loadReference(service);
  }

  reference(service: string): HubReference | undefined {
    return this.states.get(service)?.reference;
  }

  // ---- hot path -------------------------------------------------------------------------------

  /** Counts one durable decision. Synchronous and cheap; never throws for bad data (it is skipped). */
  observeDecision(record: ObservedRecord): void {
    const state = this.states.get(record.service);
    if (state === undefined || this.closed) return;
    this.coverage.decision(record.id, record.createdAt);
    const { service } = state;
    const input = isObject(record.input) ? record.input : {};
    const timings: Record<string, number> = { ...record.timings };
    let total = 0;
    for (const ms of Object.values(record.timings)) total += ms;
    timings.total = total;
    // The decision id keys the numeric samples, so every process (and a replay after a crash) samples alike.
    const event = { id: record.id, input, outputLabel: service.outputLabel(record.output), confidence: record.confidence, timings };
    const outcome = (windowOutcomes as readonly string[]).includes(record.outcome) ? (record.outcome as WindowOutcome) : undefined;
    const modelError = isObject(record.explanation) && record.explanation.modelError !== undefined;
    const verdicts = verdictsOf(record.explanation);
    const against = verdicts.length === 0 ? undefined : comparedVersionOf(record.explanation, record.version);
    const now = this.now().getTime();
    for (const acc of this.accumulatorsOf(state, record)) {
      acc.sketch.update(event);
      acc.addPrediction(event.outputLabel, record.confidence);
      acc.counts.decisions++;
      if (outcome !== undefined) acc.counts.byOutcome[outcome]++;
      if (modelError) acc.counts.modelErrors++;
      if (against === undefined) acc.addCrossChecks(verdicts);
      acc.lastEventAt = now;
    }
    if (against !== undefined) {
      for (const acc of this.accumulatorsOf(state, { ...record, version: against })) {
        acc.addCrossChecks(verdicts);
        acc.lastEventAt = now;
      }
    }
  }

  /** The accumulators a decision counts in: its window (by event time when configured), version, and each of its segments. */
  private accumulatorsOf(state: ServiceState<E>, decision: Pick<ObservedRecord, 'input' | 'createdAt' | 'version'>): WindowAccumulator[] {
    const input = isObject(decision.input) ? decision.input : {};
    const created = Date.parse(decision.createdAt);
    const at = state.service.eventTime?.(input) ?? created;
    const window = state.service.window(Number.isFinite(at) ? at : created);
    const version = decision.version ?? 'none';
    return this.segmentsOf(state, input, window.start).map((segment) => this.accumulator(state, version, segment, window));
  }

  /**
   * Counts one durable feedback row about `decision`, in the decision's windows (a label or an outcome that arrives
   * later still counts where its decision does); `earlier` is the decision's feedback (a corrected label takes the
   * old one back; a decision counts once per business signal, however many outcome rows it gets).
   */
  observeFeedback(feedback: StoredFeedback, decision: StoredDecision, earlier: readonly StoredFeedback[]): void {
    const state = this.states.get(decision.service);
    if (state === undefined || this.closed) return;
    this.coverage.feedbackRow(feedback.id, feedback.createdAt);
    const { service } = state;
    const predicted = service.outputLabel(decision.output);
    const effect = feedbackEffect(feedback, earlier, (value) => service.feedbackLabel(value), predicted);
    if (effectIsEmpty(effect)) return;
    const now = this.now().getTime();
    for (const acc of this.accumulatorsOf(state, decision)) {
      for (const { actual, weight } of effect.labels) acc.addLabel(predicted, actual, decision.confidence, weight);
      addBusiness(acc.business, effect.business);
      acc.lastEventAt = now;
    }
  }

  private segmentsOf(state: ServiceState<E>, input: Readonly<Record<string, unknown>>, windowStart: string): string[] {
    const segments = [''];
    const max = this.options.maxSegmentValues ?? 50;
    for (const field of state.service.segments) {
      const raw = input[field];
      if (raw === undefined || raw === null || typeof raw === 'object') continue;
      let value = String(raw);
      const key = `${field}\u0000${windowStart}`;
      let seen = state.segmentValues.get(key);
      if (seen === undefined) {
        state.segmentValues.set(key, (seen = new Set()));
        // Memory must not grow with time: keep the values of the most recent windows only (insertion order).
        if (state.segmentValues.size > MAX_SEGMENT_WINDOWS) state.segmentValues.delete(state.segmentValues.keys().next().value as string);
      }
      if (!seen.has(value)) {
        if (seen.size >= max) value = '(other)';
        else seen.add(value);
      }
      segments.push(`${field}=${value}`);
    }
    return segments;
  }

  private accumulator(state: ServiceState<E>, version: string, segment: string, window: { start: string; end: string }): WindowAccumulator {
    const key = `${version}\u0000${segment}\u0000${window.start}`;
    let entry = state.open.get(key);
    if (entry === undefined) {
      const reference = state.reference;
      const config: FeatureSketchSetConfig = {
        key: { service: state.service.name, modelVersion: version, window: window.start, ...(segment === '' ? {} : { segment }) },
        features: reference?.config.features ?? [],
        outputLabels: reference?.config.outputLabels ?? [],
        stages: state.service.stages,
        ...(state.service.sampleSize === undefined ? {} : { sampleSize: state.service.sampleSize }),
      };
      entry = { acc: WindowAccumulator.create(config), window, version, segment };
      state.open.set(key, entry);
    }
    state.touched.add(window.start);
    return entry.acc;
  }

  // ---- checkpoints and recovery ---------------------------------------------------------------

  /** Writes what was counted since the last checkpoint; serialised with evaluations. */
  checkpoint(): Promise<void> {
    return this.serial(() => this.checkpointNow());
  }

  private async checkpointNow(): Promise<void> {
    if (this.options.evaluateOnly === true) return;
    const now = this.now();
    const nowIso = now.toISOString();
    let decisionsFrom = nowIso;
    for (const source of this.inFlightSources) {
      const oldest = source();
      if (oldest !== undefined && oldest < decisionsFrom) decisionsFrom = oldest;
    }
    const coverage = this.coverage.next(decisionsFrom, new Date(now.getTime() - FEEDBACK_LOOKBACK_MS).toISOString());
    const taken: Array<[ServiceState<E>, string, { acc: WindowAccumulator; window: { start: string; end: string }; version: string; segment: string }]> = [];
    const rows: StoredSketch[] = [];
    for (const state of this.states.values()) {
      for (const [key, entry] of state.open) {
        state.open.delete(key);
        if (!entry.acc.dirty) continue;
        taken.push([state, key, entry]);
        rows.push({
          id: newId('msk'),
          service: state.service.name,
          version: entry.version,
          segment: entry.segment,
          windowStart: entry.window.start,
          windowEnd: entry.window.end,
          referenceId: state.reference?.id ?? '',
          writer: this.writer,
          createdAt: nowIso,
          lastEventAt: new Date(entry.acc.lastEventAt || now.getTime()).toISOString(),
          events: entry.acc.sketch.eventCount,
          body: entry.acc.toJSON(),
        });
      }
    }
    try {
      await this.options.store.monitoring.checkpoint(rows, { id: newId('mcp'), writer: this.writer, createdAt: nowIso, ...coverage });
    } catch (error) {
      // Put the deltas back: the next checkpoint writes them.
      for (const [state, key, entry] of taken) {
        const current = state.open.get(key);
        if (current === undefined) state.open.set(key, entry);
        else current.acc.merge(entry.acc);
      }
      throw error;
    }
  }

  /** Replays decisions and feedback the latest checkpoint does not cover (after a crash), then checkpoints. */
  private async recover(): Promise<void> {
    const store = this.options.store;
    const checkpoint = await store.monitoring.latestCheckpoint();
    if (checkpoint !== undefined) this.coverage.inherit(checkpoint);
    const horizon = new Date(this.now().getTime() - (this.options.replayHorizonMs ?? 30 * 86_400_000)).toISOString();
    const decisionsFrom = checkpoint?.decisionsFrom ?? horizon;
    const feedbackFrom = checkpoint?.feedbackFrom ?? horizon;
    const seen = new Set(checkpoint?.seen ?? []);
    for (const name of this.states.keys()) {
      let after: string | undefined;
      for (;;) {
        const page = await store.decisions.list({ service: name, since: decisionsFrom, after, limit: 1000 });
        for (const decision of page) if (!seen.has(decision.id)) this.observeDecision(decision);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.id;
      }
      after = undefined;
      for (;;) {
        const page = await store.feedback.list({ service: name, since: feedbackFrom, after, limit: 1000 });
        for (const feedback of page) {
          if (seen.has(feedback.id)) continue;
          const decision = await store.decisions.get(feedback.decisionId);
          if (decision === undefined) continue;
          this.observeFeedback(feedback, decision, await store.feedback.listForDecision(decision.id));
        }
        if (page.length < 1000) break;
        after = page[page.length - 1]!.id;
      }
    }
    await this.checkpoint();
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /** Evaluates every service's windows that changed or became ripe. */
  async evaluateAll(): Promise<EvaluationResult<E>[]> {
    const results: EvaluationResult<E>[] = [];
    for (const name of this.states.keys()) results.push(...(await this.evaluate(name)));
    return results;
  }

  /**
   * Checkpoints, then evaluates the service's windows that changed since the last evaluation or
   * still wait for labels (or exactly `windowStarts`, or every stored window), oldest first, from the merged deltas of
   * every writer. Keeps each evaluation as history and reports state changes.
   */
  evaluate(service: string, windowStarts?: readonly string[] | 'all'): Promise<EvaluationResult<E>[]> {
    return this.serial(async () => {
      await this.checkpointNow();
      const state = this.states.get(service);
      if (state === undefined) return [];
      for (const transition of [...this.failedTransitions.values()]) if (transition.service === service) await this.deliverTransition(transition);
      // 'all' is read after the checkpoint, so windows counted only in memory until now are included.
      const starts = windowStarts === 'all' ? await this.windows(service) : (windowStarts ?? [...new Set([...state.touched, ...state.awaitingLabels])].sort());
      state.touched.clear();
      const results: EvaluationResult<E>[] = [];
      for (const start of starts) results.push(...(await this.evaluateWindow(state, start)));
      return results;
    });
  }

  /** The window starts with stored sketches for a service, oldest first. */
  windows(service: string): Promise<string[]> {
    return this.options.store.monitoring.listWindowStarts(service);
  }

  private async evaluateWindow(state: ServiceState<E>, start: string): Promise<EvaluationResult<E>[]> {
    const { service } = state;
    const reference = state.reference;
    const referenceId = reference?.id ?? '';
    const rows = await this.options.store.monitoring.listSketches({ service: service.name, since: start, until: nextInstant(start) });
    const merged = new Map<string, { acc: WindowAccumulator; version: string; segment: string; end: string; ids: string[] }>();
    for (const row of rows) {
      // Sketches over another reference's bins cannot merge with these; the monitors see the current bins only.
      if (row.referenceId !== referenceId) continue;
      const acc = WindowAccumulator.fromJSON(row.body, Date.parse(row.lastEventAt), reference?.vocabularies);
      const key = `${row.version}\u0000${row.segment}`;
      const entry = merged.get(key);
      if (entry === undefined) merged.set(key, { acc, version: row.version, segment: row.segment, end: row.windowEnd, ids: [row.id] });
      else {
        entry.acc.merge(acc);
        entry.ids.push(row.id);
      }
    }
    // Compaction: the deltas of each key become one row (exact: sketches merge exactly), so a window
    // evaluated every minute reads one row plus the deltas since, not one row per checkpoint.
    for (const { acc, version, segment, end, ids } of merged.values()) {
      if (ids.length < 2) continue;
      await this.options.store.monitoring.compactSketches(ids, {
        id: newId('msk'),
        service: service.name,
        version,
        segment,
        windowStart: start,
        windowEnd: end,
        referenceId,
        writer: this.writer,
        createdAt: this.now().toISOString(),
        lastEventAt: new Date(acc.lastEventAt).toISOString(),
        events: acc.sketch.eventCount,
        body: acc.toJSON(),
      });
    }
    const now = this.now();
    const nowIso = now.toISOString();
    const results: EvaluationResult<E>[] = [];
    const history = [];
    const statusRows: StoredMonitorStatus[] = [];
    const transitions: MonitorTransition[] = [];
    let waiting = false;
    for (const { acc, version, segment, end } of merged.values()) {
      const window = { start, end };
      // Labels are due labelDelay after the window's last event, and (for windows of decision time) after its end.
      const due = service.windowsByEventTime ? acc.lastEventAt : Math.max(acc.lastEventAt, Date.parse(end));
      const ripe = due + service.labelDelayMs <= now.getTime();
      if (!ripe) waiting = true;
      const previous = new Map<string, unknown>();
      for (const [key, status] of this.statuses) if (key.startsWith(`${service.name}\u0000`) && status.version === version && status.segment === segment) previous.set(status.monitor, status.status);
      const input: HubWindowInput = {
        service: service.name,
        version,
        ...(segment === '' ? {} : { segment }),
        window,
        sketch: acc.sketch,
        counts: acc.counts,
        ...(ripe ? { labels: acc.labelPairs(), calibration: acc.calibration } : {}),
        ...(acc.predictions === undefined ? {} : { predictions: acc.predictions }),
        business: acc.business,
        crossChecks: acc.crossChecks,
      };
      const evaluations = service.evaluate(input, reference, previous);
      results.push({ service: service.name, version, ...(segment === '' ? {} : { segment }), window, evaluations });
      for (const evaluation of evaluations) {
        history.push({
          id: newId('mev'),
          service: service.name,
          monitor: evaluation.monitor,
          version,
          segment,
          windowStart: start,
          windowEnd: end,
          evaluatedAt: nowIso,
          observed: evaluation.observed,
          state: evaluation.status.state,
          value: evaluation.value,
          body: evaluation,
        });
        const key = statusKey(service.name, evaluation.monitor, version, segment);
        const before = this.statuses.get(key);
        // Late data for a window older than the one the status stands on goes into the history only:
        // the state follows time forward, never back.
        if (before !== undefined && start < before.window.start) continue;
        const changed = before?.state !== evaluation.status.state;
        // A window that cannot be judged (too few samples, labels not due) leaves the state as it was,
        // and the status keeps saying why it is in it.
        const keep = evaluation.observed === 'unknown' && before !== undefined && !changed;
        const status: HubStatus = {
          service: service.name,
          monitor: evaluation.monitor,
          version,
          segment,
          state: evaluation.status.state,
          since: changed || before === undefined ? nowIso : before.since,
          message: keep ? before.message : evaluation.message,
          value: keep ? before.value : evaluation.value,
          window: keep ? before.window : window,
          status: evaluation.status,
        };
        this.statuses.set(key, status);
        statusRows.push({ service: service.name, monitor: evaluation.monitor, version, segment, updatedAt: nowIso, body: status });
        this.emitStatus(status);
        if (changed) {
          transitions.push({
            service: service.name,
            monitor: evaluation.monitor,
            version,
            ...(segment === '' ? {} : { segment }),
            from: before?.state ?? 'unknown',
            to: evaluation.status.state,
            at: nowIso,
            message: evaluation.message,
            values: { value: evaluation.value, window, ...(isObject((evaluation as { values?: unknown }).values) ? ((evaluation as { values?: unknown }).values as object) : {}) },
          });
        }
      }
    }
    if (waiting) state.awaitingLabels.add(start);
    else state.awaitingLabels.delete(start);
    await this.options.store.monitoring.recordEvaluations(history, statusRows);
    for (const transition of transitions) await this.deliverTransition(transition);
    return results;
  }

  /**
   * Hands a state change to the alerts; one that fails (the store was busy) is kept and handed over
   * again at the next evaluation, unless a newer change of the same monitor replaces it (the alerts
   * act on the latest state: firing an already firing alert and resolving a resolved one do nothing).
   */
  private async deliverTransition(transition: MonitorTransition): Promise<void> {
    const key = statusKey(transition.service, transition.monitor, transition.version, transition.segment ?? '');
    this.failedTransitions.delete(key);
    try {
      await this.options.onTransition?.(transition);
    } catch (error) {
      this.failedTransitions.set(key, transition);
      this.options.onError?.(error, 'alert transition');
    }
  }

  /** Adds a pipeline's oldestInFlight() to the checkpoint watermark (every pipeline that feeds this hub must); returns a remover. */
  addInFlightSource(source: () => string | undefined): () => void {
    this.inFlightSources.add(source);
    return () => this.inFlightSources.delete(source);
  }

  /** Calls `listener` with every current status now and with each status as evaluations set it; returns an unsubscribe. */
  subscribeStatus(listener: (status: HubStatus) => void): () => void {
    this.statusListeners.add(listener);
    for (const status of this.statuses.values()) listener(status);
    return () => this.statusListeners.delete(listener);
  }

  private emitStatus(status: HubStatus): void {
    this.active.delete(status.service);
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (error) {
        this.options.onError?.(error, 'status listener');
      }
    }
  }

  // ---- reading ----------------------------------------------------------------------------------

  /** Current statuses, of one service or all, sorted by service, monitor, version, segment. */
  listStatuses(service?: string): HubStatus[] {
    return [...this.statuses.values()]
      .filter((s) => service === undefined || s.service === service)
      .sort((a, b) => compare(a.service, b.service) || compare(a.monitor, b.monitor) || compare(a.version, b.version) || compare(a.segment, b.segment));
  }

  /**
   * Monitors of a service in state `warning` or `alert` on its unsegmented traffic, for this version
   * (or any version when null): what explanations cite. Called per decision, so it reads a cache
   * rebuilt only when a status changes.
   */
  activeAlerts(service: string, version: string | null): readonly HubStatus[] {
    let byVersion = this.active.get(service);
    if (byVersion === undefined) {
      byVersion = activeByVersion(this.statuses.values(), service);
      this.active.set(service, byVersion);
    }
    return byVersion.get(version) ?? [];
  }

  /** Stops the timers and writes a last checkpoint (if started: a hub never started covers nothing). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.started) {
      this.closed = true;
      return;
    }
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.checkpoint();
    this.closed = true;
    await this.chain.catch(() => undefined);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function statusKey(service: string, monitor: string, version: string, segment: string): string {
  return `${service}\u0000${monitor}\u0000${version}\u0000${segment}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The smallest ISO instant after `iso` (windows are ms-aligned, so [start, start + 1 ms) selects one window start). */
function nextInstant(iso: string): string {
  return new Date(Date.parse(iso) + 1).toISOString();
}
