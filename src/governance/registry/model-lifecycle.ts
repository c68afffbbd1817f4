// A model version's lifecycle. Every state but `live` can be left for `live`: the registry records what
// is served, so an explicit promotion (a rollout's, an apply, the undoing of a promotion) is never
// refused. Otherwise: a version never served cannot be rolled back; a live one leaves only by being
// retired or rolled back (not back into a trial); retired is terminal except for a re-promotion to live
// (a rollback to the previous stable); a rolled-back version may be tried again (shadow, canary) or set
// aside (registered, retired).
import { BallastError } from '../../errors/index.js';

export const modelStates = ['registered', 'shadow', 'canary', 'live', 'retired', 'rolled-back'] as const;
export type ModelState = (typeof modelStates)[number];

/** State → the states it may move to (staying put is a no-op, not a transition). */
export const allowedTransitions: Readonly<Record<ModelState, readonly ModelState[]>> = {
  registered: ['shadow', 'canary', 'live', 'retired'],
  shadow: ['canary', 'live', 'registered', 'rolled-back', 'retired'],
  canary: ['shadow', 'live', 'registered', 'rolled-back', 'retired'],
  live: ['retired', 'rolled-back'],
  'rolled-back': ['shadow', 'canary', 'live', 'registered', 'retired'],
  retired: ['live'],
};

export function isModelState(value: unknown): value is ModelState {
  return typeof value === 'string' && (modelStates as readonly string[]).includes(value);
}

/** Whether `from` may move to `to`. */
export function canTransition(from: ModelState, to: ModelState): boolean {
  return allowedTransitions[from].includes(to);
}

/** Throws MODEL_TRANSITION_INVALID (with from and to in the detail) unless `from` may move to `to`. */
export function checkTransition(from: ModelState, to: ModelState, what: string): void {
  if (canTransition(from, to)) return;
  const allowed = allowedTransitions[from];
  throw new BallastError('MODEL_TRANSITION_INVALID', {
    detail: `${what} is ${from} and cannot become ${to}; from ${from} it may become ${allowed.join(', ')}`,
    issues: [{ pointer: '/to', code: 'transition', message: `${from} → ${to} is not allowed` }],
  });
}
