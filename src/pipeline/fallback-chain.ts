// A service's fallback chain, compiled once: which steps answer, in order, when the served version
// fails, is open or runs out of time. Checked at config time so that a chain cannot fail for a
// reason `ballast validate` could have named.
import type { Contract } from '../contracts/index.js';
import { BallastError, type Issue } from '../errors/index.js';
import { compileFallbackRules, type FallbackRuleConfig, type FallbackRules } from '../policy/index.js';
import type { FallbackStepConfig } from '../resilience/index.js';

export const fallbackStepKinds = ['version', 'rules', 'static', 'review'] as const;
export type FallbackStepKind = (typeof fallbackStepKinds)[number];

/** One compiled step; `index` is its place in the chain (0-based), `name` how explanations call it. */
export type FallbackStep =
  | { readonly kind: 'version'; readonly index: number; readonly name: string; readonly version: string }
  | { readonly kind: 'rules'; readonly index: number; readonly name: string; readonly rules: FallbackRules }
  | { readonly kind: 'static'; readonly index: number; readonly name: string; readonly output: unknown }
  | { readonly kind: 'review'; readonly index: number; readonly name: string; readonly reason: string };

export interface ChainContext {
  readonly versions: readonly string[];
  readonly live: string;
  readonly contract: Pick<Contract, 'validateOutput'>;
}

/** Compiles the `fallback:` list; problems are CONFIG_INVALID with pointers into it (`/2/static/label`). */
export function compileFallbackChain(steps: readonly FallbackStepConfig[], context: ChainContext): FallbackStep[] {
  const issues: Issue[] = [];
  const compiled: FallbackStep[] = [];
  const seen = new Set<string>();
  steps.forEach((step, index) => {
    if (index > 0 && compiled[index - 1]?.kind === 'review') {
      issues.push({ pointer: `/${index}`, code: 'unreachable', message: 'no step can follow review: it always answers' });
    }
    if ('version' in step) {
      if (!context.versions.includes(step.version)) {
        issues.push({ pointer: `/${index}/version`, code: 'unknown_version', message: `'${step.version}' is not a key of models (${context.versions.join(', ')})` });
      } else if (step.version === context.live) {
        issues.push({ pointer: `/${index}/version`, code: 'fallback_to_live', message: `'${step.version}' is the live version: falling back to it would call it twice (retries are resilience.retry)` });
      } else if (seen.has(step.version)) {
        issues.push({ pointer: `/${index}/version`, code: 'duplicate_version', message: `'${step.version}' is already a step of the chain` });
      }
      seen.add(step.version);
      compiled.push({ kind: 'version', index, name: step.version, version: step.version });
    } else if ('rules' in step) {
      let rules: FallbackRules | undefined;
      try {
        rules = compileFallbackRules(step.rules as FallbackRuleConfig[]);
      } catch (error) {
        if (!(error instanceof BallastError)) throw error;
        issues.push(...error.issues.map((issue) => ({ ...issue, pointer: `/${index}/rules${issue.pointer}` })));
      }
      compiled.push({ kind: 'rules', index, name: `rules(${(step.rules as FallbackRuleConfig[]).map((r) => r.name).join(',')})`, rules: rules! });
    } else if ('static' in step) {
      const checked = context.contract.validateOutput(step.static);
      if (!checked.ok) issues.push(...checked.issues.map((issue) => ({ ...issue, pointer: `/${index}/static${issue.pointer}`, message: `the static output breaks the output contract: ${issue.message}` })));
      compiled.push({ kind: 'static', index, name: 'static', output: deepFreeze(structuredClone(step.static)) });
    } else {
      compiled.push({ kind: 'review', index, name: 'review', reason: step.review?.reason ?? 'the fallback chain sends the case to a human' });
    }
  });
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the fallback chain is invalid', issues });
  return compiled;
}

/** The static output is shared by every decision it answers: nobody may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
