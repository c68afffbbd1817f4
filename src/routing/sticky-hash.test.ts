import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketOf, stickyBucket } from './sticky-hash.js';
import { assignLiveRoute } from './route-assignment.js';

describe('stickyBucket', () => {
  it('is deterministic and in [0, 1)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (key, salt) => {
        const b = stickyBucket(key, salt);
        return b >= 0 && b < 1 && b === stickyBucket(key, salt);
      }),
    );
  });

  it('spreads similar keys evenly over ten buckets (chi-square below the 0.999 quantile, 9 dof = 27.88)', () => {
    const counts = new Array<number>(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[Math.floor(stickyBucket(`user-${i}`, 'svc') * 10)]! += 1;
    const expected = n / 10;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.88);
  });

  it('depends on the salt, so two services split the same users differently', () => {
    let same = 0;
    for (let i = 0; i < 1000; i++) if (Math.floor(stickyBucket(`u${i}`, 'a') * 2) === Math.floor(stickyBucket(`u${i}`, 'b') * 2)) same++;
    expect(same).toBeGreaterThan(400);
    expect(same).toBeLessThan(600);
  });
});

describe('bucketOf', () => {
  it('equals stickyBucket over the joined salt, with and without a prefix', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (prefix, a, b, key) => {
        const salt = prefix.length > 0 ? `${prefix}\u0000${a}\u0000${b}` : `${a}\u0000${b}`;
        return bucketOf(prefix, a, b, key) === stickyBucket(key, salt);
      }),
    );
  });
});

describe('assignLiveRoute (the pre-rollout assignment, kept as the benchmark baseline)', () => {
  it('serves the live version and reports the bucket only for a subject', () => {
    expect(assignLiveRoute({ live: 'v2' }, 's')).toEqual({ version: 'v2', route: 'stable' });
    const r = assignLiveRoute({ live: 'v2' }, 's', 'alice');
    expect(r.version).toBe('v2');
    expect(r.bucket).toBe(stickyBucket('alice', 's'));
  });
});
