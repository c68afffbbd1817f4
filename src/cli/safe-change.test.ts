// The controller's minimum-decisions check counts in the store what the analysis then collects: the same
// number for a canary or an experiment (routed decisions in either arm) and for a shadow (pairs), on
// mixed decision logs. And the routing the pipeline reads: the controller's plan with the kill switch over it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectObservations } from '../governance/index.js';
import { ServiceCatalog, type Service } from '../pipeline/index.js';
import { newId, openStore, type StoredDecision } from '../store/index.js';
import type { LiveConfig } from './live-config.js';
import { createSafeChange } from './safe-change.js';

const at = (second: number): string => new Date(Date.UTC(2025, 0, 31, 12, 0, second)).toISOString();

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('the rollout counts in the store agree with the analysis collection', () => {
  it.each([1, 2, 3, 4])('on a mixed log (seed %i)', async (seed) => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-counts-'));
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'b.db') });
    try {
      const draw = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(draw() * items.length)]!;
      const decisions: StoredDecision[] = [];
      for (let i = 0; i < 300; i++) {
        const rollout = pick(['rol-1', 'rol-2', undefined]);
        const arm = pick(['stable', 'candidate', undefined]);
        decisions.push({
          id: newId('dec'),
          service: pick(['spam-filter', 'spam-filter', 'loans']),
          version: pick(['v1', 'v2']),
          createdAt: at(Math.floor(draw() * 60)),
          outcome: 'auto',
          confidence: 0.9,
          subjectHash: null,
          input: { body: 'x' },
          context: undefined,
          output: { label: 'spam' },
          explanation: rollout === undefined ? { reasons: [] } : { reasons: [], routing: { rollout, strategy: 'canary', step: 0, weight: 0.5, ...(arm === undefined ? {} : { arm }) } },
          timings: { invoke: 1 },
        });
      }
      await Promise.all(decisions.map((d) => store.decisions.append(d)));
      await store.shadows.appendMany(
        Array.from({ length: 200 }, () => ({
          id: newId('shd'),
          // Some answers are to a request that never reached the log.
          decisionId: draw() < 0.1 ? newId('dec') : pick(decisions).id,
          service: 'spam-filter',
          version: pick(['v2', 'v2', 'v3']),
          rolloutId: pick(['rol-1', 'rol-2']),
          revision: 1,
          createdAt: at(Math.floor(draw() * 60)),
          output: { label: 'ham' },
          confidence: 0.8,
          errorCode: null,
          latencyMs: 2,
        })),
      );
      for (const [since, until] of [[at(0), at(60)], [at(10), at(40)], [at(30), at(31)]] as const) {
        const options = { service: 'spam-filter', since, until, stable: 'v1', candidate: 'v2', rolloutId: 'rol-1', segments: [] };
        const routed = await collectObservations(store, options);
        const shadow = await collectObservations(store, { ...options, shadow: true });
        const counted = await store.decisions.countRouted({ service: 'spam-filter', rolloutId: 'rol-1', since, until });
        const paired = await store.shadows.countPaired({ rolloutId: 'rol-1', service: 'spam-filter', version: 'v2', since, until });
        expect(counted).toBe(routed.stable.length + routed.candidate.length);
        expect(paired).toBe(shadow.pairs?.length);
        // The logs are mixed enough to mean something: some of each are in and some out.
        if (since === at(0)) {
          expect(counted).toBeGreaterThan(0);
          expect(counted).toBeLessThan(decisions.length);
          expect(paired).toBeGreaterThan(0);
        }
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routing(service)', () => {
  it("is the controller's plan, with the kill switch over it while engaged, the same object until either changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-routing-'));
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'b.db') });
    // Only what safe change reads of a service: its name, configuration and version names.
    const service = { name: 'loans', config: { live: 'v1', models: {} }, versions: new Map([['v1', {}], ['v2', {}]]) } as unknown as Service;
    const catalog = new ServiceCatalog(1, new Map([['loans', service]]));
    const safe = createSafeChange({ store, catalog, live: {} as LiveConfig, versionFacts: async () => undefined, transition: async () => undefined });
    const ctx = { actor: { principal: 'ops', keyId: null, role: null }, reason: 'test' };
    try {
      await safe.start();
      safe.stop();
      expect(safe.routing('loans')).toEqual({ stable: 'v1' });
      expect(safe.routing('nope')).toBeUndefined();

      const rollout = await safe.rollouts.start('loans', { candidate: 'v2', strategy: 'canary', steps: [{ weight: 0.25 }, { weight: 1 }] }, ctx);
      const running = safe.routing('loans');
      expect(running).toMatchObject({ stable: 'v1', rollout: { id: rollout.id, candidate: 'v2', weight: 0.25 } });
      expect(running?.killed).toBeUndefined();
      expect(safe.routing('loans')).toBe(running);

      await safe.killSwitch.engage('loans', { ...ctx, reason: 'misbehaving' });
      const killed = safe.routing('loans');
      expect(killed).toMatchObject({ stable: 'v1', rollout: { id: rollout.id }, killed: { reason: 'misbehaving' } });
      expect(safe.routing('loans')).toBe(killed);
      expect(Object.isFrozen(killed)).toBe(true);

      // The rollout moves while the switch is engaged: the combination follows it.
      await safe.rollouts.pause('loans', ctx);
      await safe.rollouts.abort('loans', ctx);
      const aborted = safe.routing('loans');
      expect(aborted).toEqual({ stable: 'v1', killed: { since: expect.any(String), reason: 'misbehaving' } });

      await safe.killSwitch.release('loans', { ...ctx, reason: 'fixed' });
      expect(safe.routing('loans')).toEqual({ stable: 'v1' });
    } finally {
      safe.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
