import { describe, expect, it } from 'vitest';
import { expectedCalibrationError } from '../stats/index.js';
import { calibrationFromTable } from './calibration.js';
import { CalibrationTable } from './calibration-table.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('calibrationFromTable', () => {
  it("agrees with stats' expectedCalibrationError over the same predictions with 20 bins", () => {
    const random = seeded(5);
    const probabilities = [...Array.from({ length: 997 }, () => random()), 0, 0.15, 1];
    const outcomes: number[] = probabilities.map((p) => (random() < p * 0.8 ? 1 : 0));
    const table = new CalibrationTable();
    probabilities.forEach((p, i) => table.update(p, outcomes[i] === 1));
    const ours = calibrationFromTable(table)!;
    const reference = expectedCalibrationError(probabilities, outcomes, { bins: 20 });
    expect(ours.ece).toBeCloseTo(reference.ece, 12);
    expect(ours.bins.map((b) => b.count)).toEqual(reference.bins.map((b) => b.count));
    ours.bins.forEach((b, i) => {
      expect(b.meanConfidence).toBeCloseTo(reference.bins[i]!.meanProbability, 12);
      expect(b.accuracy).toBeCloseTo(reference.bins[i]!.observedRate, 12);
    });
    expect(ours.count).toBe(1000);
    expect(ours.accuracy).toBeCloseTo(outcomes.reduce((a, b) => a + b, 0) / 1000, 14);
    expect(ours.ece).toBeGreaterThan(0.05);
  });

  it('is 0 for a perfectly calibrated table, and null for an empty one', () => {
    const table = new CalibrationTable();
    for (let i = 0; i < 4; i++) table.update(0.75, i < 3);
    expect(calibrationFromTable(table)!.ece).toBe(0);
    expect(calibrationFromTable(new CalibrationTable())).toBeNull();
  });
});
