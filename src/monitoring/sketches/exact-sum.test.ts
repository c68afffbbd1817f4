import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExactMoments } from './exact-sum.js';

/** The reference: every double as an exact rational m·2^e in BigInt, scaled by 2^1074 (squares by 2^2148). */
function reference(values: readonly number[]): { sum: bigint; squares: bigint } {
  let sum = 0n;
  let squares = 0n;
  const view = new DataView(new ArrayBuffer(8));
  for (const x of values) {
    view.setFloat64(0, x);
    const b = view.getBigUint64(0);
    const exponent = Number((b >> 52n) & 0x7ffn);
    let mantissa = b & 0xfffffffffffffn;
    if (exponent !== 0) mantissa |= 1n << 52n;
    const scaled = mantissa << BigInt(Math.max(exponent - 1, 0));
    sum += b >> 63n ? -scaled : scaled;
    squares += scaled * scaled;
  }
  return { sum, squares };
}

// Doubles of every magnitude: subnormals, the fast path's edges (2^±400), huge values, zeros of both signs.
const anyDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(0, -0, 2 ** -400, -(2 ** -400), 2 ** 400, 2 ** 400 * (1 + 2 ** -52), 2 ** -401, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1 / 3),
);

describe('ExactMoments', () => {
  it('equals the exact BigInt sums of x and x², whatever the magnitudes and however the stream is split and merged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyDouble, fc.boolean()), { maxLength: 300 }), (stream) => {
        const whole = new ExactMoments();
        const a = new ExactMoments();
        const b = new ExactMoments();
        for (const [x, left] of stream) {
          whole.add(x);
          (left ? a : b).add(x);
        }
        b.merge(a);
        const expected = reference(stream.map(([x]) => x));
        expect(whole.sum).toBe(expected.sum);
        expect(whole.sumOfSquares).toBe(expected.squares);
        expect(b.sum).toBe(expected.sum);
        expect(b.sumOfSquares).toBe(expected.squares);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the exact sum where floating-point accumulation cancels it away', () => {
    const m = new ExactMoments();
    for (const x of [1e300, 1, -1e300, 2 ** -1074, 1e-300]) m.add(x);
    expect(m.sum).toBe(reference([1, 2 ** -1074, 1e-300]).sum);
    const twice = new ExactMoments();
    for (const x of [0.1, 0.2, 0.3, 1e-200]) twice.add(x);
    twice.merge(twice);
    expect(twice.sum).toBe(2n * reference([0.1, 0.2, 0.3, 1e-200]).sum);
    expect(twice.sumOfSquares).toBe(2n * reference([0.1, 0.2, 0.3, 1e-200]).squares);
    m.sum = 5n;
    expect(m.sum).toBe(5n);
    m.add(1);
    expect(m.sum).toBe(5n + reference([1]).sum);
  });
});
