import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { assignRoute, type RouteAssignment } from './route-assignment.js';
import type { RolloutRouting, RoutingPlan } from './routing-plan.js';
import { stickyBucket } from './sticky-hash.js';

// Split conformance (issue 10, item 9). The keys are fixed, so every test is deterministic; the bounds
// are those a truly random assignment would break with probability 1e-5 (two-sided): a share within
// 4.42 standard errors of its target (z of a 0.5e-5 upper tail = 4.417), a 2×2 chi-square (1 degree
// of freedom) below 19.51 (= 4.417², its 1 − 1e-5 quantile).
const Z = 4.42;
const CHI2_1DOF_1E5 = 19.51;
const N = 100_000;

const service = 'spam-filter';
const rollout = (strategy: RolloutRouting['strategy'], weight: number, extra: Partial<RolloutRouting> = {}): RolloutRouting => ({
  id: 'r-1',
  strategy,
  candidate: 'v2',
  step: 1,
  weight: strategy === 'shadow' ? 0 : weight,
  shadowShare: strategy === 'shadow' ? weight : 0,
  ...extra,
});
const plan = (r?: RolloutRouting): RoutingPlan => (r === undefined ? { stable: 'v1' } : { stable: 'v1', rollout: r });
const withinBinomial = (hits: number, n: number, p: number) => Math.abs(hits / n - p) < Z * Math.sqrt((p * (1 - p)) / n);

/** Pearson's chi-square of a 2×2 table of two booleans over the same draws. */
function chiSquare2x2(pairs: Iterable<readonly [boolean, boolean]>): number {
  const t = [0, 0, 0, 0];
  let n = 0;
  for (const [a, b] of pairs) {
    t[(a ? 2 : 0) + (b ? 1 : 0)]! += 1;
    n++;
  }
  const [ff, ft, tf, tt] = t as [number, number, number, number];
  const rows = [ff + ft, tf + tt];
  const cols = [ff + tf, ft + tt];
  let chi2 = 0;
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      const expected = (rows[r]! * cols[c]!) / n;
      chi2 += (t[r * 2 + c]! - expected) ** 2 / expected;
    }
  return chi2;
}

describe('assignRoute without a rollout, and the kill switch', () => {
  it('serves stable and nothing else when no rollout is in progress', () => {
    expect(assignRoute(plan(), service, { decisionId: 'd1', subjectKey: 'alice' })).toEqual({ version: 'v1', route: 'stable' });
    expect(assignRoute(plan(), service, { decisionId: 'd1' })).toEqual({ version: 'v1', route: 'stable' });
  });

  it('routes every request to killed, with the stable version, whatever the rollout', () => {
    for (const strategy of ['canary', 'shadow', 'experiment'] as const) {
      const p: RoutingPlan = { stable: 'v1', rollout: rollout(strategy, 1), killed: { since: '2026-12-07T00:00:00Z', reason: 'drill' } };
      for (let i = 0; i < 100; i++) {
        expect(assignRoute(p, service, { decisionId: `d${i}`, subjectKey: `u${i}` })).toEqual({ version: 'v1', route: 'killed' });
        expect(assignRoute(p, service, { decisionId: `d${i}` })).toEqual({ version: 'v1', route: 'killed' });
      }
    }
  });
});

describe('split conformance over 100,000 decisions', () => {
  const cases = [
    { name: 'canary by subject key', strategy: 'canary' as const, request: (i: number) => ({ decisionId: `d-${i}`, subjectKey: `user-${i}` }), hit: 'canary', miss: 'stable' },
    { name: 'canary by decision id', strategy: 'canary' as const, request: (i: number) => ({ decisionId: `d-${i}` }), hit: 'canary', miss: 'stable' },
    { name: 'experiment', strategy: 'experiment' as const, request: (i: number) => ({ decisionId: `d-${i}`, subjectKey: `user-${i}` }), hit: 'treatment', miss: 'control' },
  ];
  for (const c of cases)
    for (const w of [0.05, 0.25, 0.5])
      it(`${c.name}: the candidate's share at weight ${w} is within 4.42 standard errors`, () => {
        const p = plan(rollout(c.strategy, w));
        let hits = 0;
        let wrong = 0; // counted rather than asserted per decision: expect() would dominate the run time
        for (let i = 0; i < N; i++) {
          const a = assignRoute(p, service, c.request(i));
          if (a.arm === 'candidate') {
            hits++;
            if (a.version !== 'v2' || a.route !== c.hit) wrong++;
          } else if (a.arm !== 'stable' || a.version !== 'v1' || a.route !== c.miss) wrong++;
          if (a.rollout !== 'r-1' || a.step !== 1 || a.weight !== w) wrong++;
        }
        expect(wrong).toBe(0);
        expect(withinBinomial(hits, N, w), `${hits} of ${N}`).toBe(true);
      });

  for (const share of [0.05, 0.25, 0.5])
    it(`shadow: the copied share at ${share} is within 4.42 standard errors, and stable always answers`, () => {
      const p = plan(rollout('shadow', share));
      let copied = 0;
      let wrong = 0;
      for (let i = 0; i < N; i++) {
        const a = assignRoute(p, service, { decisionId: `d-${i}`, subjectKey: `user-${i % 1000}` });
        if (a.version !== 'v1' || a.route !== 'stable' || a.arm !== 'stable') wrong++;
        if (a.shadow !== undefined) {
          if (a.shadow !== 'v2') wrong++;
          copied++;
        }
      }
      expect(wrong).toBe(0);
      expect(withinBinomial(copied, N, share), `${copied} of ${N}`).toBe(true);
    });

  it('weight 0 sends nobody to the candidate and weight 1 everybody (shadow share likewise)', () => {
    for (const strategy of ['canary', 'experiment', 'shadow'] as const) {
      const none = plan(rollout(strategy, 0));
      const all = plan(rollout(strategy, 1));
      let wrong = 0;
      for (let i = 0; i < 10_000; i++) {
        for (const request of [{ decisionId: `d-${i}`, subjectKey: `user-${i}` }, { decisionId: `d-${i}` }]) {
          const n = assignRoute(none, service, request);
          const a = assignRoute(all, service, request);
          if (n.version !== 'v1' || n.shadow !== undefined || n.arm === 'candidate') wrong++;
          if (strategy === 'shadow') {
            if (a.shadow !== 'v2' || a.version !== 'v1') wrong++;
          } else if (strategy === 'canary' || request.subjectKey !== undefined) {
            if (a.version !== 'v2' || a.arm !== 'candidate') wrong++;
          }
        }
      }
      expect(wrong, strategy).toBe(0);
    }
  });
});

describe('experiment without a subject key', () => {
  it('is served by stable with no arm, so it is not in the experiment', () => {
    const p = plan(rollout('experiment', 1));
    for (let i = 0; i < 1000; i++) {
      const a = assignRoute(p, service, { decisionId: `d-${i}` });
      expect(a).toEqual({ version: 'v1', route: 'stable', rollout: 'r-1', step: 1, weight: 1 });
      expect('arm' in a).toBe(false);
    }
  });
});

describe('stickiness', () => {
  const subjects = Array.from({ length: 10_000 }, (_, i) => `subject-${i}`);
  const arms = (p: RoutingPlan, assign: typeof assignRoute, call: number) => subjects.map((s) => assign(p, service, { decisionId: `d-${call}-${s}`, subjectKey: s }).arm);

  it('keeps each of 10,000 subjects in its arm across calls (new decision ids) and across a restart (a fresh module, a copied plan)', async () => {
    for (const strategy of ['canary', 'experiment'] as const) {
      const p = plan(rollout(strategy, 0.25));
      const first = arms(p, assignRoute, 1);
      expect(arms(p, assignRoute, 2)).toEqual(first);
      vi.resetModules();
      const fresh = (await import('./route-assignment.js')).assignRoute;
      expect(fresh).not.toBe(assignRoute);
      expect(arms(JSON.parse(JSON.stringify(p)) as RoutingPlan, fresh, 3)).toEqual(first);
      // The bucket is the documented function of the key, the service and the rollout id alone: what a
      // replica that shares nothing with this one computes.
      for (const s of subjects.slice(0, 1000)) {
        const a = assignRoute(p, service, { decisionId: 'x', subjectKey: s });
        expect(a.bucket).toBe(stickyBucket(s, `${service}\u0000r-1`));
      }
      const share = first.filter((a) => a === 'candidate').length;
      expect(withinBinomial(share, subjects.length, 0.25)).toBe(true);
    }
  });

  it('raising 0.05 → 0.25 → 0.5 → 1.0 never moves a subject from candidate back to stable', () => {
    for (const strategy of ['canary', 'experiment'] as const) {
      const seen = new Set<string>();
      let previous = 0;
      for (const w of [0.05, 0.25, 0.5, 1]) {
        const now = subjects.filter((s) => assignRoute(plan(rollout(strategy, w)), service, { decisionId: 'd', subjectKey: s }).arm === 'candidate');
        const nowSet = new Set(now);
        expect([...seen].filter((s) => !nowSet.has(s))).toEqual([]);
        expect(now.length).toBeGreaterThan(previous);
        previous = now.length;
        for (const s of now) seen.add(s);
      }
      expect(previous).toBe(subjects.length);
    }
  });

  it('is monotone in the weight for any keys and any rising weights (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 8 }),
        fc.string({ minLength: 1 }),
        fc.constantFrom('canary' as const, 'experiment' as const),
        (keys, weights, id, strategy) => {
          const rising = [...weights].sort((a, b) => a - b);
          for (const key of keys) {
            let wasCandidate = false;
            for (const w of rising) {
              const a: RouteAssignment = assignRoute(plan(rollout(strategy, w, { id })), service, { decisionId: 'd', subjectKey: key });
              if (wasCandidate && a.arm !== 'candidate') return false;
              wasCandidate = a.arm === 'candidate';
            }
          }
          return true;
        },
      ),
    );
  });

  it('reshuffles subjects when a rollout is retried under a new id (agreement near one half at weight 0.5)', () => {
    const a = arms(plan(rollout('canary', 0.5)), assignRoute, 1);
    const b = arms(plan(rollout('canary', 0.5, { id: 'r-2' })), assignRoute, 1);
    const same = a.filter((arm, i) => arm === b[i]).length;
    expect(withinBinomial(same, subjects.length, 0.5), `${same} agree`).toBe(true);
  });
});

describe('the salt memo', () => {
  it('gives the reference buckets when services and rollouts interleave (a miss recomputes)', () => {
    const plans = ['a', 'b', ''].flatMap((svc) => ['r-1', 'r-2', ''].map((id) => ({ svc, id })));
    let wrong = 0;
    for (let i = 0; i < 3000; i++) {
      const { svc, id } = plans[(i * 7) % plans.length]!;
      const key = `user-${i}`;
      const decisionId = `d-${i}`;
      const c = assignRoute(plan(rollout('canary', 0.5, { id })), svc, { decisionId, subjectKey: key });
      if (c.bucket !== stickyBucket(key, `${svc}\u0000${id}`)) wrong++;
      const anon = assignRoute(plan(rollout('canary', 0.5, { id })), svc, { decisionId });
      if ((anon.arm === 'candidate') !== stickyBucket(decisionId, `canary\u0000${svc}\u0000${id}`) < 0.5) wrong++;
      const sh = assignRoute(plan(rollout('shadow', 0.5, { id })), svc, { decisionId, subjectKey: key });
      if ((sh.shadow !== undefined) !== stickyBucket(decisionId, `shadow\u0000${svc}\u0000${id}`) < 0.5) wrong++;
    }
    expect(wrong).toBe(0);
  });
});

describe('independence of the shadow sample', () => {
  const shadowPlan = plan(rollout('shadow', 0.25));
  const copied = (i: number) => assignRoute(shadowPlan, service, { decisionId: `d-${i}`, subjectKey: `user-${i}` }).shadow !== undefined;

  it(`from the subject's canary bucket (2×2 chi-square below ${CHI2_1DOF_1E5})`, () => {
    const pairs = function* () {
      for (let i = 0; i < N; i++) yield [copied(i), stickyBucket(`user-${i}`, `${service}\u0000r-1`) < 0.5] as const;
    };
    expect(chiSquare2x2(pairs())).toBeLessThan(CHI2_1DOF_1E5);
  });

  it(`from the canary's draw on the same decision ids (2×2 chi-square below ${CHI2_1DOF_1E5})`, () => {
    const canaryPlan = plan(rollout('canary', 0.5));
    const pairs = function* () {
      for (let i = 0; i < N; i++) yield [copied(i), assignRoute(canaryPlan, service, { decisionId: `d-${i}` }).arm === 'candidate'] as const;
    };
    expect(chiSquare2x2(pairs())).toBeLessThan(CHI2_1DOF_1E5);
  });

  it('the statistic does catch a dependent pair (so the bounds above can fail)', () => {
    const canaryPlan = plan(rollout('canary', 0.25));
    const pairs = function* () {
      for (let i = 0; i < 10_000; i++) {
        const draw = assignRoute(canaryPlan, service, { decisionId: `d-${i}` }).arm === 'candidate';
        yield [draw, draw || i % 3 === 0] as const;
      }
    };
    expect(chiSquare2x2(pairs())).toBeGreaterThan(CHI2_1DOF_1E5);
  });
});
