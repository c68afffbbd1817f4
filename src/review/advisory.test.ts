import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advisoryReport, wilsonInterval, type AdvisoryPoint } from './advisory.js';

describe('wilsonInterval', () => {
  it('meets its closed forms at the edges and the textbook value in the middle', () => {
    const z2 = 1.959963984540054 ** 2;
    // 0 of n: the upper end is z²/(n + z²); n of n: the lower end is n/(n + z²).
    expect(wilsonInterval(0, 10)[1]).toBeCloseTo(z2 / (10 + z2), 12);
    expect(wilsonInterval(10, 10)[0]).toBeCloseTo(10 / (10 + z2), 12);
    // 5 of 10: symmetric around 0.5, 0.2366 to 0.7634 (Newcombe 1998, table I's method 3).
    const [lo, hi] = wilsonInterval(5, 10);
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
  });
});

/** The threshold by brute force: every candidate, all decisions at or above it. */
function reference(points: readonly AdvisoryPoint[], maxErrorRate: number, minDecisions: number) {
  let best: { threshold: number; automated: number; errors: number } | null = null;
  for (const t of new Set(points.map((p) => p.confidence))) {
    const above = points.filter((p) => p.confidence >= t);
    const errors = above.filter((p) => !p.agreed).length;
    if (above.length < minDecisions || wilsonInterval(errors, above.length)[1] > maxErrorRate) continue;
    if (best === null || t < best.threshold) best = { threshold: t, automated: above.length, errors };
  }
  return best;
}

describe('advisoryReport', () => {
  it('counts agreement by band and finds the lowest threshold within the error rate', () => {
    // 200 confident and right, 100 middling with 10% wrong, 50 unsure with half wrong.
    const points: AdvisoryPoint[] = [
      ...Array.from({ length: 200 }, (_, i) => ({ confidence: 0.9 + (i % 10) / 100, agreed: true })),
      ...Array.from({ length: 100 }, (_, i) => ({ confidence: 0.7 + (i % 10) / 100, agreed: i % 10 !== 0 })),
      ...Array.from({ length: 50 }, (_, i) => ({ confidence: 0.5 + (i % 10) / 100, agreed: i % 2 === 0 })),
    ];
    const report = advisoryReport(points, { maxErrorRate: 0.05 });
    expect(report.decisions).toBe(350);
    expect(report.bands.find((b) => b.from === 0.9)).toMatchObject({ decisions: 200, agreed: 200, agreement: 1 });
    expect(report.bands.find((b) => b.from === 0.5)).toMatchObject({ decisions: 50, agreed: 25, agreement: 0.5 });
    expect(report.recommendation).toMatchObject(reference(points, 0.05, 30)!);
    expect(report.recommendation!.threshold).toBeGreaterThan(0.7);
    expect(report.summary).toContain(`${report.recommendation!.automated} of 350`);
    // Nothing is safe at 0.1% with these numbers.
    const strict = advisoryReport(points, { maxErrorRate: 0.001 });
    expect(strict.recommendation).toBeNull();
    expect(strict.summary).toMatch(/^no threshold/);
  });

  it('agrees with the brute force on random data', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ confidence: fc.integer({ min: 0, max: 20 }).map((n) => n / 20), agreed: fc.boolean() }), { maxLength: 120 }), fc.constantFrom(0.05, 0.1, 0.3), (points, rate) => {
        const report = advisoryReport(points, { maxErrorRate: rate, minDecisions: 5 });
        const ref = reference(points, rate, 5);
        if (ref === null) expect(report.recommendation).toBeNull();
        else expect(report.recommendation).toMatchObject(ref);
        expect(report.bands.reduce((n, b) => n + b.decisions, 0)).toBe(points.length);
      }),
    );
  });

  it('refuses an error rate outside (0, 1)', () => {
    expect(() => advisoryReport([], { maxErrorRate: 0 })).toThrow(/maxErrorRate/);
  });
});
