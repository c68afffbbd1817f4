// Exact, order-independent sums of doubles and of their squares, held as BigInt fixed point.
// Floating-point addition is not associative, so a double accumulator would make merged sketches differ
// from a single one in the last bits; these integers make every merge order give the same value.
import { SketchError } from './sketch-error.js';

/** Every finite double is an integer multiple of 2^-1074, so sums are kept scaled by 2^1074 (squares by 2^2148). */
export const SUM_SCALE = 1074;
export const SQUARE_SCALE = 2 * SUM_SCALE;

const scratch = new Float64Array(1);
const bits = new BigUint64Array(scratch.buffer);

/** x · 2^1074 as an exact integer (x finite). */
function scaledOf(x: number): bigint {
  scratch[0] = x;
  const b = bits[0] as bigint;
  const exponent = (b >> 52n) & 0x7ffn;
  let mantissa = b & 0xfffffffffffffn;
  let shift = 0n;
  if (exponent !== 0n) {
    mantissa |= 0x10000000000000n;
    shift = exponent - 1n;
  }
  const scaled = mantissa << shift;
  return b >> 63n === 1n ? -scaled : scaled;
}

/**
 * A running sum kept as an expansion: non-overlapping doubles whose exact sum is the total (Shewchuk's
 * grow-expansion, as Python's math.fsum), in a typed array that grows when needed. Exact while no
 * partial sum overflows, which the callers guarantee by the range of what they add.
 */
class Expansion {
  private parts = new Float64Array(8);
  length = 0;

  add(value: number): void {
    let parts = this.parts;
    let x = value;
    let i = 0;
    const n = this.length;
    for (let j = 0; j < n; j++) {
      let y = parts[j] as number;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) parts[i++] = lo;
      x = hi;
    }
    if (x !== 0) {
      if (i === parts.length) {
        const bigger = new Float64Array(parts.length * 2);
        bigger.set(parts);
        this.parts = parts = bigger;
      }
      parts[i++] = x;
    }
    this.length = i;
  }

  /** The parts, in increasing magnitude. */
  values(): Float64Array {
    return this.parts.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

// Values in [2^-400, 2^400] take the fast path: their squares split exactly into two doubles (Dekker),
// and no sum of fewer than 2^200 of them can overflow. Anything else goes straight to the integers.
const FAST_MIN = 2 ** -400;
const FAST_MAX = 2 ** 400;
const SPLITTER = 134217729; // 2^27 + 1

/**
 * Exact running sum and sum of squares of finite doubles. Updates add to two float expansions (a
 * few floating-point operations each); the exact integers are formed only when read, so reads cost
 * more than updates. The values read never depend on the order of updates and merges; the state is
 * in private fields because its arrangement does (what is observable, the sums, does not).
 */
export class ExactMoments {
  #bigSum = 0n;
  #bigSquares = 0n;
  readonly #partials = new Expansion();
  readonly #squarePartials = new Expansion();

  add(x: number): void {
    const a = Math.abs(x);
    if (a >= FAST_MIN && a <= FAST_MAX) {
      this.#partials.add(x);
      // x² = p + e exactly (Dekker's two-product with Veltkamp's split).
      const p = x * x;
      const c = SPLITTER * x;
      const hi = c - (c - x);
      const lo = x - hi;
      const e = hi * hi - p + hi * lo + lo * hi + lo * lo;
      this.#squarePartials.add(p);
      if (e !== 0) this.#squarePartials.add(e);
    } else if (x !== 0) {
      const scaled = scaledOf(x);
      this.#bigSum += scaled;
      // (m · 2^s)² scaled by 2^2148 is m² · 2^2s: with |scaled| = m · 2^s, that is scaled².
      this.#bigSquares += scaled * scaled;
    }
  }

  /** Adds parts of Σx and of Σx² that are already exact (what a MomentsBatch gathered), without squaring anything. */
  addPartials(sumPart: number, squarePart: number): void {
    if (sumPart !== 0) this.#partials.add(sumPart);
    if (squarePart !== 0) this.#squarePartials.add(squarePart);
  }

  merge(other: ExactMoments): void {
    this.#bigSum += other.#bigSum;
    this.#bigSquares += other.#bigSquares;
    // Copies: merging a sketch into itself must not read the parts it is writing.
    for (const p of other.#partials.values().slice()) this.#partials.add(p);
    for (const p of other.#squarePartials.values().slice()) this.#squarePartials.add(p);
  }

  /** Σx · 2^1074. */
  get sum(): bigint {
    let total = this.#bigSum;
    for (const p of this.#partials.values()) total += scaledOf(p);
    return total;
  }

  set sum(value: bigint) {
    this.#bigSum = value;
    this.#partials.clear();
  }

  /** Σx² · 2^2148, with each x² exact (never rounded, never overflowing). */
  get sumOfSquares(): bigint {
    let total = this.#bigSquares;
    for (const p of this.#squarePartials.values()) total += scaledOf(p) << BigInt(SUM_SCALE);
    return total;
  }

  set sumOfSquares(value: bigint) {
    this.#bigSquares = value;
    this.#squarePartials.clear();
  }
}

function bitLength(v: bigint): number {
  if (v === 0n) return 0;
  const hex = v.toString(16);
  return 4 * (hex.length - 1) + Number.parseInt(hex[0] as string, 16).toString(2).length;
}

/** x · 2^e without intermediate overflow or underflow of 2^e. */
function ldexp(x: number, e: number): number {
  let y = x;
  let rest = e;
  while (rest > 1000) {
    y *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    y *= 2 ** -1000;
    rest += 1000;
  }
  return y * 2 ** rest;
}

/** (num / den) · 2^pow2 as a double (den > 0), accurate to about one ulp. */
export function scaledRatio(num: bigint, den: bigint, pow2: number): number {
  if (num === 0n) return 0;
  const negative = num < 0n;
  const magnitude = negative ? -num : num;
  const shift = Math.max(0, 64 + bitLength(den) - bitLength(magnitude));
  let q = (magnitude << BigInt(shift)) / den;
  let p = pow2 - shift;
  const length = bitLength(q);
  if (length > 64) {
    q >>= BigInt(length - 64);
    p += length - 64;
  }
  const value = ldexp(Number(q), p);
  return negative ? -value : value;
}

/** Canonical compact text of v · 2^-scale: "0", or a signed odd hexadecimal mantissa and a binary exponent ("-1bp-3" = -27/8). */
export function encodeScaled(v: bigint, scale: number): string {
  if (v === 0n) return '0';
  const negative = v < 0n;
  let m = negative ? -v : v;
  let zeros = 0;
  while ((m & 0xffffffffn) === 0n) {
    m >>= 32n;
    zeros += 32;
  }
  while ((m & 1n) === 0n) {
    m >>= 1n;
    zeros += 1;
  }
  return `${negative ? '-' : ''}${m.toString(16)}p${zeros - scale}`;
}

const ENCODED = /^(-?)([0-9a-f]+)p(-?\d+)$/;

/** Inverse of encodeScaled; throws a SketchError on malformed text. */
export function decodeScaled(text: unknown, scale: number, name: string): bigint {
  if (text === '0') return 0n;
  const match = typeof text === 'string' ? ENCODED.exec(text) : null;
  const exponent = match ? Number(match[3]) + scale : -1;
  if (!match || !Number.isSafeInteger(exponent) || exponent < 0) throw new SketchError(`${name} is not an exact scaled sum (got ${JSON.stringify(text)})`);
  const m = BigInt(`0x${match[2] as string}`) << BigInt(exponent);
  return match[1] === '-' ? -m : m;
}

const pieceView = new Float64Array(1);
const pieceWords = new Uint32Array(pieceView.buffer);
/** Index of the word holding a double's sign and exponent. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** Values a batch adds before it folds its buckets (far below the 2^26 that keeps every bucket exact). */
const BATCH_LIMIT = 2 ** 24;

/**
 * Many values into one ExactMoments at a lower cost per value, with the same sums: each x (and the two exact parts of x²)
 * is split into two pieces of at most 27 significant bits (Veltkamp), and each piece is added to a double bucket chosen
 * by its own exponent e. A piece is a multiple of 2^(e-26) below 2^(e+1), so fewer than 2^26 of them sum exactly in one
 * double; flush() adds the buckets to the target's expansions. Values outside 2^±400 go to ExactMoments.add as before.
 */
export class MomentsBatch {
  private readonly sums = new Float64Array(2048);
  private readonly squares = new Float64Array(2048);
  private pending = 0;

  constructor(private readonly target: ExactMoments) {}

  add(x: number): void {
    const a = Math.abs(x);
    if (!(a >= FAST_MIN && a <= FAST_MAX)) {
      this.target.add(x);
      return;
    }
    const sums = this.sums;
    const squares = this.squares;
    const c = SPLITTER * x;
    const hi = c - (c - x);
    const lo = x - hi;
    pieceView[0] = hi;
    sums[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += hi;
    pieceView[0] = lo;
    sums[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += lo;
    const p = x * x;
    const e = hi * hi - p + hi * lo + lo * hi + lo * lo;
    const cp = SPLITTER * p;
    const ph = cp - (cp - p);
    const pl = p - ph;
    pieceView[0] = ph;
    squares[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += ph;
    pieceView[0] = pl;
    squares[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += pl;
    if (e !== 0) {
      const ce = SPLITTER * e;
      const eh = ce - (ce - e);
      const el = e - eh;
      pieceView[0] = eh;
      squares[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += eh;
      pieceView[0] = el;
      squares[((pieceWords[HIGH_WORD] as number) >>> 20) & 0x7ff]! += el;
    }
    if (++this.pending === BATCH_LIMIT) this.flush();
  }

  /** Adds what the buckets hold to the target and empties them. */
  flush(): void {
    const sums = this.sums;
    const squares = this.squares;
    for (let i = 0; i < 2048; i++) {
      const s = sums[i] as number;
      const q = squares[i] as number;
      if (s !== 0 || q !== 0) {
        this.target.addPartials(s, q);
        sums[i] = 0;
        squares[i] = 0;
      }
    }
    this.pending = 0;
  }
}
