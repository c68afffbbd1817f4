// The approval gate: a pure judgement of whether a version may be promoted to 100% now. The rollout
// controller calls it and throws GATE_NOT_MET with its issues when it says no; the API shows it as is.
import type { Issue } from '../../errors/index.js';
import type { StoredApproval } from '../../store/index.js';
import { shortDigest } from '../registry/model-digest.js';
import { tierApprovals, type MetricBound, type ResolvedGates, type RiskTier } from './gates-config.js';

/** A version's registered evaluation: metric → value, and per subgroup (`region=eu`) metric → value. */
export interface VersionEvaluation {
  readonly metrics: Readonly<Record<string, number>>;
  readonly subgroups?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The decisions that count now (see Approvals.valid). */
export interface ValidApprovals {
  readonly approvals: readonly StoredApproval[];
  readonly refusals: readonly StoredApproval[];
}

export interface GateInput {
  readonly risk: RiskTier;
  readonly gates: ResolvedGates;
  readonly version: { readonly name: string; readonly digest: string; readonly author: string; readonly evaluation?: VersionEvaluation };
  /** The configuration revision the promotion would be made under. */
  readonly revision: number;
  /** The last analysis of a rollout of this version, if any. */
  readonly lastAnalysis?: { readonly verdict: 'pass' | 'fail' | 'inconclusive'; readonly at: string; readonly rolloutId: string };
  readonly approvals: ValidApprovals;
  /** The candidate's fairness over its rollout's decisions (the service's fairness: block), when it has one. */
  readonly fairness?: { readonly state: 'unknown' | 'ok' | 'alert'; readonly decisions: number; readonly messages: readonly string[] };
}

export interface GateCheck {
  /** `approvals`, `refusals`, `analysis`, `evaluation/<metric>` or `subgroups/<metric>`. */
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface GateResult {
  readonly ok: boolean;
  readonly checks: readonly GateCheck[];
  /** One per failed check, pointing into the service's `gates:` block. */
  readonly issues: readonly Issue[];
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function boundText(bound: MetricBound): string {
  if (bound.min !== undefined && bound.max !== undefined) return `within [${bound.min}, ${bound.max}]`;
  return bound.min !== undefined ? `≥ ${bound.min}` : `≤ ${bound.max}`;
}

function withinBound(value: number, bound: MetricBound): boolean {
  return Number.isFinite(value) && (bound.min === undefined || value >= bound.min) && (bound.max === undefined || value <= bound.max);
}

/** Whether a version may go to 100% now, every check with a sentence, and the failed ones as issues. */
export function evaluateGate(input: GateInput): GateResult {
  const { gates, version } = input;
  const checks: (GateCheck & { readonly pointer: string })[] = [];
  // Recounted here, not trusted from the caller: only this digest and revision, never the author.
  const counts = (a: StoredApproval) => a.digest === version.digest && a.revision === input.revision && a.principal !== version.author;

  const needed = Math.max(gates.approvals, tierApprovals[input.risk]);
  const approvers = [...new Set(input.approvals.approvals.filter((a) => a.decision === 'approve' && counts(a)).map((a) => a.principal))].sort();
  checks.push({
    check: 'approvals',
    pointer: '/gates/approvals',
    ok: approvers.length >= needed,
    detail:
      needed === 0
        ? `no approval needed (${input.risk} risk)`
        : `${approvers.length} of ${needed} approval${needed === 1 ? '' : 's'} by principals other than the author ${version.author}${approvers.length > 0 ? ` (${approvers.join(', ')})` : ''} on digest ${shortDigest(version.digest)} at revision ${input.revision}`,
  });

  const refusers = [...new Set(input.approvals.refusals.filter((a) => a.decision === 'refuse' && a.digest === version.digest && a.revision === input.revision).map((a) => a.principal))].sort();
  checks.push({
    check: 'refusals',
    pointer: '/gates/approvals',
    ok: refusers.length === 0,
    detail: refusers.length === 0 ? 'nobody refused' : `refused by ${refusers.join(', ')}: blocked until each of them approves`,
  });

  const last = input.lastAnalysis;
  const lastText = last === undefined ? 'no analysis yet' : `the last analysis (rollout ${last.rolloutId}, ${last.at}) is ${last.verdict}`;
  checks.push({
    check: 'analysis',
    pointer: '/gates/analysis',
    ok: gates.analysis === 'optional' || last?.verdict === 'pass',
    detail: gates.analysis === 'optional' ? `a passed analysis is optional; ${lastText}` : `a passed analysis is required; ${lastText}`,
  });

  for (const [metric, bound] of Object.entries(gates.evaluation)) {
    const value = version.evaluation?.metrics[metric];
    checks.push({
      check: `evaluation/${metric}`,
      pointer: `/gates/evaluation/${escape(metric)}`,
      ok: value !== undefined && withinBound(value, bound),
      detail: value === undefined ? `${version.name} registered no evaluation of ${metric}; it must be ${boundText(bound)}` : `${metric} ${value} must be ${boundText(bound)}`,
    });
  }

  for (const [metric, bound] of Object.entries(gates.subgroups)) {
    const reported = Object.entries(version.evaluation?.subgroups ?? {}).filter(([, metrics]) => metrics[metric] !== undefined);
    const failing = reported.filter(([, metrics]) => !withinBound(metrics[metric]!, bound)).map(([group, metrics]) => `${group} ${metrics[metric]}`);
    checks.push({
      check: `subgroups/${metric}`,
      pointer: `/gates/evaluation/subgroups/${escape(metric)}`,
      ok: reported.length > 0 && failing.length === 0,
      detail:
        reported.length === 0
          ? `${version.name} registered no subgroup evaluation of ${metric}; every subgroup must be ${boundText(bound)}`
          : failing.length === 0
            ? `${metric} is ${boundText(bound)} in all ${reported.length} subgroups`
            : `${metric} must be ${boundText(bound)} in every subgroup; not in ${failing.join(', ')}`,
    });
  }

  if (gates.fairness === 'required') {
    const f = input.fairness;
    checks.push({
      check: 'fairness',
      pointer: '/gates/fairness',
      ok: f?.state === 'ok',
      detail:
        f === undefined
          ? `fairness is required, but the service has no fairness: block to judge ${version.name} by`
          : f.state === 'ok'
            ? `${version.name}'s ${f.decisions} decisions in its rollout meet the fairness bounds: ${f.messages.join('; ')}`
            : f.state === 'alert'
              ? `${version.name}'s ${f.decisions} decisions in its rollout break the fairness bounds: ${f.messages.join('; ')}`
              : `${version.name}'s ${f.decisions} decisions in its rollout are too few to judge fairness: ${f.messages.join('; ')}`,
    });
  }

  const failed = checks.filter((c) => !c.ok);
  return {
    ok: failed.length === 0,
    checks: checks.map(({ pointer: _pointer, ...check }) => check),
    issues: failed.map((c) => ({ pointer: c.pointer, code: c.check.split('/')[0]!, message: c.detail })),
  };
}
