// The lifecycle table: every pair of states either allowed or refused with MODEL_TRANSITION_INVALID.
import { describe, expect, it } from 'vitest';
import { allowedTransitions, canTransition, checkTransition, modelStates } from './model-lifecycle.js';

describe('model lifecycle', () => {
  it('allows what a rollout does and a rollback undoes', () => {
    for (const [from, to] of [['registered', 'canary'], ['registered', 'shadow'], ['shadow', 'canary'], ['canary', 'live'], ['live', 'retired'], ['canary', 'rolled-back'], ['canary', 'registered'], ['live', 'rolled-back'], ['retired', 'live'], ['rolled-back', 'canary']] as const) {
      expect(canTransition(from, to), `${from} → ${to}`).toBe(true);
    }
  });

  it('refuses the rest, naming from and to', () => {
    const refused = [['registered', 'rolled-back'], ['live', 'canary'], ['live', 'shadow'], ['live', 'registered'], ['retired', 'canary'], ['retired', 'registered'], ['retired', 'rolled-back']] as const;
    for (const [from, to] of refused) {
      expect(canTransition(from, to)).toBe(false);
      expect(() => checkTransition(from, to, 'spam-filter/v2')).toThrow(expect.objectContaining({ code: 'MODEL_TRANSITION_INVALID', detail: expect.stringContaining(`is ${from} and cannot become ${to}`) }));
    }
  });

  it('has every state reach live and none list itself', () => {
    for (const state of modelStates) {
      expect(allowedTransitions[state]).not.toContain(state);
      if (state !== 'live') expect(allowedTransitions[state]).toContain('live');
    }
    // Retired is terminal but for a re-promotion.
    expect(allowedTransitions.retired).toEqual(['live']);
  });
});
