// Approvals of a model version: each binds to the exact digest and configuration revision it was given
// on, so any change (a new digest, a new revision) leaves it behind. The author never decides on their
// own version; every decision is audited in the transaction that keeps it.
import { BallastError } from '../../errors/index.js';
import { newId, type Actor, type ApprovalDecision, type Store, type StoredApproval } from '../../store/index.js';
import { auditEvent } from '../audit-events.js';
import { evaluateGate, type GateInput, type GateResult, type ValidApprovals } from './gate.js';

/** A version as an approval binds to it. */
export interface ApprovalTarget {
  readonly service: string;
  readonly version: string;
  readonly digest: string;
  readonly revision: number;
}

export interface DecideOptions {
  readonly actor: Actor;
  readonly decision: ApprovalDecision;
  readonly reason: string;
  readonly requestId?: string | null;
}

export interface Approvals {
  /**
   * Keeps one principal's decision; APPROVAL_NOT_ALLOWED for the version's author, or when the principal's
   * latest decision on this digest and revision is already this one (changing one's mind is allowed).
   */
  decide(target: ApprovalTarget & { readonly author: string }, options: DecideOptions): Promise<StoredApproval>;
  /** The decisions that count now: this digest and revision only, the latest per principal, refusals apart. */
  valid(target: ApprovalTarget): Promise<ValidApprovals>;
  /** Every decision on the version, oldest first, whatever its digest and revision. */
  history(target: { readonly service: string; readonly version: string }): Promise<StoredApproval[]>;
}

export interface ApprovalsOptions {
  readonly store: Pick<Store, 'approvals'>;
  readonly now?: () => number;
}

/** The latest decision per principal among those bound to the target, split into approvals and refusals. */
export function countingApprovals(decisions: readonly StoredApproval[], target: ApprovalTarget): ValidApprovals {
  const latest = new Map<string, StoredApproval>();
  // Oldest first, so a later decision of the same principal replaces an earlier one.
  for (const d of decisions) {
    if (d.service === target.service && d.version === target.version && d.digest === target.digest && d.revision === target.revision) latest.set(d.principal, d);
  }
  const current = [...latest.values()];
  return { approvals: current.filter((d) => d.decision === 'approve'), refusals: current.filter((d) => d.decision === 'refuse') };
}

export function createApprovals(options: ApprovalsOptions): Approvals {
  const { store, now = Date.now } = options;
  return {
    async decide(target, { actor, decision, reason, requestId }) {
      const why = reason.trim();
      if (why === '') throw new BallastError('REQUEST_INVALID', { detail: `say why you ${decision} ${target.service}/${target.version}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
      if (actor.principal === target.author) {
        throw new BallastError('APPROVAL_NOT_ALLOWED', { detail: `${actor.principal} is the author of ${target.service}/${target.version} and may not ${decision} it` });
      }
      const at = new Date(now()).toISOString();
      const approval: StoredApproval = { id: newId('apv'), service: target.service, version: target.version, digest: target.digest, revision: target.revision, principal: actor.principal, decision, reason: why, at };
      await store.approvals.append(
        approval,
        auditEvent({
          actor,
          action: decision === 'approve' ? 'approval.granted' : 'approval.refused',
          resource: { kind: 'model', id: `${target.service}/${target.version}` },
          service: target.service,
          after: approval,
          detail: why,
          requestId: requestId ?? null,
          at,
        }),
      );
      return approval;
    },
    async valid(target) {
      return countingApprovals(await store.approvals.list({ service: target.service, version: target.version }), target);
    },
    history: (target) => store.approvals.list(target),
  };
}

/** What the gate judges for one version, but its approvals; undefined when the version is unknown. */
export type GateInputs = (service: string, version: string) => Omit<GateInput, 'approvals'> | undefined | Promise<Omit<GateInput, 'approvals'> | undefined>;

/**
 * The rollout controller's `checkGate`: the caller supplies the version, revision and last analysis, the
 * approvals that count for exactly that digest and revision are read here. VERSION_NOT_FOUND when unknown.
 */
export function createGateCheck(approvals: Pick<Approvals, 'valid'>, gateInputs: GateInputs): (service: string, version: string) => Promise<GateResult> {
  return async (service, version) => {
    const inputs = await gateInputs(service, version);
    if (inputs === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${service} has no registered model version '${version}'` });
    const valid = await approvals.valid({ service, version, digest: inputs.version.digest, revision: inputs.revision });
    return evaluateGate({ ...inputs, approvals: valid });
  };
}
