import { performance } from 'node:perf_hooks';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { BallastError, classifyError } from '../errors/index.js';
import type { Decision, DecisionRecord, DecisionRequest, DecisionSink } from './decision.js';
import type { DecisionContext, Stage } from './decision-context.js';
import type { Service } from './service.js';
import { ServiceCatalog } from './service-catalog.js';
import { deadlineIn } from '../resilience/index.js';
import { decideStage, explainStage, recordStage, servedVersion, type RecordEnv } from './stages/decide-stages.js';
import { crossCheckStage, startCheckersStage } from './stages/cross-check-stages.js';
import { fallbackStage } from './stages/fallback-stage.js';
import { invokeStage, routeStage } from './stages/model-stages.js';
import { postRulesStage, preRulesStage } from './stages/rule-stages.js';
import { validateStage } from './stages/validate-stage.js';

const tracer = trace.getTracer('ballast');

/** The decision path, in order. The only place that picks the concrete stages. */
export const defaultStages: readonly Stage<RecordEnv>[] = [
  validateStage,
  preRulesStage,
  routeStage,
  startCheckersStage,
  invokeStage,
  fallbackStage,
  crossCheckStage,
  postRulesStage,
  decideStage,
  explainStage,
  recordStage,
];

export interface DecisionPipelineOptions {
  /** The services; a ServiceCatalog is read once per request, so `apply` never splits a decision across revisions. */
  readonly services: ReadonlyMap<string, Service>;
  readonly sink: DecisionSink;
  /** A new unique, time-ordered decision id. */
  newId(): string;
  hashSubject(key: string): string;
  readonly now?: () => Date;
  readonly stages?: readonly Stage<RecordEnv>[];
  /** Called with every durable decision and its stored record (metrics, monitors); a throwing observer never fails the request. */
  readonly onDecision?: (decision: Decision, record: DecisionRecord) => void;
  /** Notices for explanations (active alerts); called once per decision, must be cheap. */
  readonly notices?: RecordEnv['notices'];
  /** The rollouts' routing per service (the rollout controller's); without it every service's live version serves. */
  readonly routing?: RecordEnv['routing'];
  /** Runs shadow copies for shadow rollouts. */
  readonly shadow?: RecordEnv['shadow'];
  /** Plans the review item of each decision that goes to review; without it no item is opened. */
  readonly planReview?: RecordEnv['planReview'];
}

export interface DecideOptions {
  /** Aborts waiting for the model (the decision is still made and recorded, as a model failure). */
  readonly signal?: AbortSignal;
  /** When the request arrived (performance.now()), so that time spent waiting for admission counts against the deadline. */
  readonly arrivedAt?: number;
}

export interface DecisionPipeline {
  /** Runs one request through every stage; resolves once the decision is durable. */
  decide(request: DecisionRequest, options?: DecideOptions): Promise<Decision>;
  /**
   * The createdAt of the oldest decision still in flight, or undefined. Every decision created
   * before it has either reached the observers or failed, which is what monitor checkpoints need.
   */
  oldestInFlight(): string | undefined;
}

/** Composes the stages over one context per request, timing each (and tracing each, when an OpenTelemetry SDK is registered). Transport-neutral. */
export function createDecisionPipeline(options: DecisionPipelineOptions): DecisionPipeline {
  const stages = options.stages ?? defaultStages;
  const now = options.now ?? (() => new Date());
  const env: RecordEnv = { sink: options.sink, hashSubject: options.hashSubject, notices: options.notices, routing: options.routing, shadow: options.shadow, planReview: options.planReview };
  // Insertion order is creation order, so the first entry is the oldest.
  const inFlight = new Map<string, string>();

  return {
    oldestInFlight() {
      for (const createdAt of inFlight.values()) return createdAt;
      return undefined;
    },
    async decide(request, decideOptions = {}) {
      // The revision is read once, here: every stage of this request runs on it.
      const current = options.services instanceof ServiceCatalog ? options.services.snapshot() : { revision: 0, services: options.services };
      const service = current.services.get(request.service);
      if (service === undefined) {
        throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.service}'` });
      }
      const ctx: DecisionContext = {
        id: options.newId(),
        createdAt: now().toISOString(),
        request,
        service,
        revision: current.revision,
        signal: decideOptions.signal,
        deadline: deadlineIn(service.resilience.deadlineMs, decideOptions.arrivedAt),
        attempts: [],
        timings: {},
        input: {},
        quality: [],
        preFired: [],
        postFired: [],
        skipModel: false,
        output: null,
        reasons: [],
      };
      inFlight.set(ctx.id, ctx.createdAt);
      try {
        return await run(ctx);
      } finally {
        inFlight.delete(ctx.id);
      }
    },
  };

  async function run(ctx: DecisionContext): Promise<Decision> {
    const service = ctx.service;
    const root = tracer.startSpan('ballast.decision', { attributes: { 'ballast.service': service.name, 'ballast.decision_id': ctx.id } });
    // Without a registered OpenTelemetry SDK the root span does not record: skip the stage spans.
    const parent = root.isRecording() ? trace.setSpan(context.active(), root) : undefined;
    let span: Span | undefined;
    try {
      for (const stage of stages) {
        if (stage.applies !== undefined && !stage.applies(ctx)) continue;
        span = parent && tracer.startSpan(`ballast.${stage.name}`, { attributes: { 'ballast.decision_id': ctx.id } }, parent);
        const started = performance.now();
        const pending = stage.run(ctx, env);
        if (pending !== undefined) await pending;
        ctx.timings[stage.name] = round3(performance.now() - started);
        span?.end();
        span = undefined;
      }
      root.setAttributes({ 'ballast.outcome': ctx.outcome!, 'ballast.version': servedVersion(ctx) ?? 'none' });
    } catch (error) {
      const failure = classifyError(error);
      for (const s of [span, root]) s?.setStatus({ code: SpanStatusCode.ERROR, message: failure.code });
      span?.end();
      throw error;
    } finally {
      root.end();
    }
    const decision: Decision = {
      id: ctx.id,
      service: service.name,
      version: servedVersion(ctx),
      createdAt: ctx.createdAt,
      outcome: ctx.outcome!,
      output: ctx.output,
      confidence: ctx.result?.confidence ?? null,
      reasons: ctx.reasons,
      explanation: ctx.explanation!,
      timings: ctx.timings,
      ...(ctx.record?.review === undefined ? {} : { review: ctx.record.review }),
    };
    try {
      // A custom stage list without `record` has no record: nothing durable to observe.
      if (ctx.record !== undefined) options.onDecision?.(decision, ctx.record);
    } catch {
      // The decision is durable and must be answered; observers report their own failures.
    }
    return decision;
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
