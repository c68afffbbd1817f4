// Cross-checks in the decision path. `checkers` starts, beside the served model's call, the version
// checkers that are due before its answer is known; `cross_check` waits for them (within the request's
// deadline: a checker is called with it like any model), starts those due only on low confidence,
// evaluates rule checkers, and compares each answer with the served one. A checker that fails is
// recorded as unavailable and never fails the decision.
import { performance } from 'node:perf_hooks';
import { valueAtTokens } from '../../contracts/index.js';
import type { CrossChecker, CrossCheckVerdict } from '../../policy/index.js';
import type { Attempt } from '../../resilience/index.js';
import { stickyBucket } from '../../routing/index.js';
import type { CrossCheckRecord } from '../decision.js';
import type { DecisionContext, Stage } from '../decision-context.js';
import { callVersion, type VersionCall } from './model-stages.js';

/** A version checker's call in flight. */
export interface PendingCrossCheck {
  readonly checker: CrossChecker;
  readonly startedAt: number;
  readonly attempts: Attempt[];
  readonly call: Promise<VersionCall>;
  readonly abort: AbortController;
}

/** Whether the decision is in the checker's sample: a hash of the decision id, so a replay samples alike. */
export function sampledIn(checker: Pick<CrossChecker, 'name' | 'sample'>, service: string, decisionId: string): boolean {
  return checker.sample >= 1 || stickyBucket(decisionId, `cross-check\u0000${service}\u0000${checker.name}`) < checker.sample;
}

function highStakes(ctx: DecisionContext): boolean {
  return ctx.preFired.some((rule) => rule.stakes === 'high');
}

function lowConfidence(ctx: DecisionContext): boolean {
  const confidence = ctx.result?.confidence;
  return confidence === undefined || confidence === null || !(confidence >= ctx.service.policy.thresholds.auto);
}

function start(ctx: DecisionContext, checker: CrossChecker): PendingCrossCheck | undefined {
  const version = ctx.service.versions.get(checker.version!);
  if (version === undefined) return undefined;
  const attempts: Attempt[] = [];
  // Its own abort (when its answer will not be compared), tied to the caller's.
  const abort = new AbortController();
  const signal = ctx.signal === undefined ? abort.signal : AbortSignal.any([ctx.signal, abort.signal]);
  const call = callVersion(ctx, version, attempts, signal).catch((error: unknown): VersionCall => ({ ok: false, error: { code: 'INTERNAL', message: scrub(ctx, error instanceof Error ? error.message : String(error)) } }));
  return { checker, startedAt: performance.now(), attempts, call, abort };
}

/** A message that may quote the input (a CEL error, a thrown error) without its pii values. */
function scrub(ctx: DecisionContext, message: string): string {
  return ctx.service.contract.scrubPii(message, ctx.input, ctx.request.context);
}

const hasCheckers = (ctx: DecisionContext) => !ctx.skipModel && ctx.service.policy.crossChecks.length > 0;

/** Starts the version checkers due whatever the model answers (always, or high stakes), so they run beside it. */
export const startCheckersStage: Stage<unknown> = {
  name: 'checkers',
  applies: hasCheckers,
  run(ctx) {
    const pending: PendingCrossCheck[] = [];
    ctx.pendingChecks = pending;
    // No answer will come to compare with: the kill switch calls no model, an open quality breaker skips the routed one.
    if (ctx.route === undefined || ctx.route.route === 'killed' || ctx.service.versions.get(ctx.route.version)?.quality?.isOpen === true) return;
    for (const checker of ctx.service.policy.crossChecks) {
      if (checker.kind !== 'version' || checker.when === 'low-confidence') continue;
      if (checker.version === ctx.route?.version || !due(ctx, checker)) continue;
      const started = start(ctx, checker);
      if (started !== undefined) pending.push(started);
    }
  },
};

/** Waits for the checkers, runs the late and rule ones, compares every answer with the served one. */
export const crossCheckStage: Stage<unknown> = {
  name: 'cross_check',
  applies: hasCheckers,
  async run(ctx) {
    const served = ctx.output;
    const servedVersion = ctx.servedVersion;
    // Only a model's answer is cross-checked: a rules or static fallback, or no answer, has nothing to compare.
    // A checker of the version that answered (a fallback step of the same version) would agree with itself.
    const compared = served !== null && served !== undefined && typeof servedVersion === 'string';
    const pending: PendingCrossCheck[] = [];
    const dropped: PendingCrossCheck[] = [];
    for (const p of ctx.pendingChecks ?? []) (compared && p.checker.version !== servedVersion ? pending : dropped).push(p);
    ctx.pendingChecks = undefined;
    // Their answers would be thrown away: stop them (as a caller's abort, which no breaker counts).
    for (const p of dropped) p.abort.abort();
    if (!compared) return;
    const started = new Set([...pending, ...dropped].map((p) => p.checker));
    for (const checker of ctx.service.policy.crossChecks) {
      // Due now: the low-confidence ones, and any the checkers stage could not start (the routed version's
      // quality breaker was open) now that a fallback version answered.
      if (started.has(checker) || checker.kind !== 'version' || checker.version === servedVersion || !due(ctx, checker)) continue;
      const late = start(ctx, checker);
      if (late !== undefined) pending.push(late);
    }
    const calls = await Promise.all(pending.map(async (p) => ({ p, called: await p.call, ms: round3(performance.now() - p.startedAt) })));
    const byChecker = new Map(calls.map((c) => [c.p.checker, c]));
    const records: CrossCheckRecord[] = [];
    const verdicts: CrossCheckVerdict[] = [];
    let preferred = false;
    for (const checker of ctx.service.policy.crossChecks) {
      let result: CheckerAnswer | undefined;
      if (checker.kind === 'rules') {
        if (!due(ctx, checker)) continue;
        const began = performance.now();
        const expected = checker.expected({ input: ctx.input, context: ctx.request.context ?? {} });
        const ms = round3(performance.now() - began);
        result = expected.ok ? { ok: true, output: expected.output, confidence: null, ms } : { ok: false, error: { code: 'CHECKER_RULE_FAILED', message: scrub(ctx, expected.message) }, ms };
      } else {
        const call = byChecker.get(checker);
        if (call === undefined) continue;
        result = call.called.ok ? { ok: true, output: call.called.result.output, confidence: call.called.result.confidence ?? null, ms: call.ms, attempts: call.p.attempts, full: call.called } : { ok: false, error: call.called.error, ms: call.ms, attempts: call.p.attempts };
      }
      const { contract } = ctx.service;
      if (!result.ok) {
        records.push({ name: checker.name, kind: checker.kind, ...versionOf(checker), against: servedVersion, verdict: 'unavailable', fields: [], error: result.error, ms: result.ms, ...attemptsOf(result) });
        verdicts.push({ name: checker.name, verdict: 'unavailable', onDisagree: checker.onDisagree, fields: [], error: result.error });
        continue;
      }
      const comparison = checker.compare(served, result.output);
      const servedShown = contract.redactOutput(served);
      // Rules may compute a pii field from the input: redacted as any output is.
      const checkerShown = contract.redactOutput(result.output);
      const fields = comparison.fields.map((f, i) => {
        const path = checker.fieldPaths[i]!;
        return { field: f.field, agree: f.agree, served: valueAtTokens(servedShown, path) ?? null, checker: valueAtTokens(checkerShown, path) ?? null, ...(f.note === undefined ? {} : { note: f.note }) };
      });
      const verdict = comparison.agree ? 'agree' : 'disagree';
      let prefer: CrossCheckVerdict['prefer'];
      if (verdict === 'disagree' && checker.onDisagree === 'prefer' && checker.prefer !== undefined) {
        const answered = !preferred && result.full !== undefined;
        if (answered) {
          // The preferred checker's answer is given: it becomes the served answer the post rules and thresholds see.
          preferred = true;
          ctx.result = result.full!.result;
          ctx.output = result.full!.result.output;
          ctx.servedVersion = checker.version!;
        }
        prefer = { version: checker.prefer, answered };
      }
      records.push({
        name: checker.name,
        kind: checker.kind,
        ...versionOf(checker),
        against: servedVersion,
        verdict,
        fields,
        output: checkerShown,
        ...(checker.kind === 'version' ? { confidence: result.confidence } : {}),
        ms: result.ms,
        ...(verdict === 'disagree' ? { action: checker.onDisagree } : {}),
        ...attemptsOf(result),
      });
      verdicts.push({ name: checker.name, verdict, onDisagree: checker.onDisagree, fields: comparison.fields.filter((f) => !f.agree).map((f) => f.field), ...(prefer === undefined ? {} : { prefer }) });
    }
    if (records.length > 0) {
      ctx.crossChecks = records;
      ctx.crossCheckVerdicts = verdicts;
    }
  },
};

type CheckerAnswer =
  | { readonly ok: true; readonly output: unknown; readonly confidence: number | null; readonly ms: number; readonly attempts?: readonly Attempt[]; readonly full?: Extract<VersionCall, { ok: true }> }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string }; readonly ms: number; readonly attempts?: readonly Attempt[] };

/** Whether a rule checker is due on this decision (its `when` and sample). */
function due(ctx: DecisionContext, checker: CrossChecker): boolean {
  if (checker.when === 'high-stakes' && !highStakes(ctx)) return false;
  if (checker.when === 'low-confidence' && !lowConfidence(ctx)) return false;
  return sampledIn(checker, ctx.service.name, ctx.id);
}

function versionOf(checker: CrossChecker): { version?: string } {
  return checker.version === undefined ? {} : { version: checker.version };
}

function attemptsOf(result: CheckerAnswer): { attempts?: readonly Attempt[] } {
  return result.attempts === undefined || result.attempts.length === 0 ? {} : { attempts: result.attempts };
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
