// Counts of a numeric feature over fixed bin edges, with exact moments; merge-exact and bounded in memory.
import { ExactMoments, MomentsBatch, SQUARE_SCALE, SUM_SCALE, decodeScaled, encodeScaled, scaledRatio } from './exact-sum.js';
import { requireCount, requireCountArray, requireHeader, requireObject } from './json-checks.js';
import { SketchError } from './sketch-error.js';
import { quantileSorted } from '../stats/population-stability-index.js';

export const NUMERIC_HISTOGRAM_VERSION = 1;

export interface NumericHistogramJSON {
  readonly type: 'numeric-histogram';
  readonly version: typeof NUMERIC_HISTOGRAM_VERSION;
  readonly edges: readonly number[];
  /** counts[i] is the number of values in [edges[i], edges[i+1]); the last bin also holds values equal to the last edge. */
  readonly counts: readonly number[];
  readonly underflow: number;
  readonly overflow: number;
  /** null or undefined. */
  readonly missing: number;
  /** NaN, Infinity or -Infinity. */
  readonly nonFinite: number;
  /** Anything that is not a number (strings included). */
  readonly invalid: number;
  /** Number of finite values (binned, underflow or overflow). */
  readonly count: number;
  /** Exact Σx and Σx², as encodeScaled text. */
  readonly sum: string;
  readonly sumOfSquares: string;
  readonly min: number | null;
  readonly max: number | null;
  /** Present only with a sample (sampleSize > 0): how many finite values it keeps at most. */
  readonly sampleSize?: number;
  /** [key, value] of the finite values with the smallest keys, ordered by key then value (see NumericHistogram). */
  readonly sample?: readonly (readonly [number, number])[];
}

export interface NumericHistogramOptions {
  /** Finite values kept as a bottom-k sample by key (all of them while there are at most this many); default 0, none. */
  readonly sampleSize?: number;
}

/** Keys of the sample are integers in [0, 2^53). */
export const SAMPLE_KEY_LIMIT = 2 ** 53;

/** A uniform random sample key, for values that come without one. */
export function randomSampleKey(): number {
  return Math.floor(Math.random() * 2 ** 26) * 2 ** 27 + Math.floor(Math.random() * 2 ** 27);
}

function compareSample(aKey: number, aValue: number, bKey: number, bValue: number): number {
  return aKey - bKey || aValue - bValue;
}

/** Throws unless edges are at least two finite, strictly increasing numbers; returns a frozen copy with -0 read as 0. */
export function requireEdges(edges: readonly number[], name = 'edges'): readonly number[] {
  if (!Array.isArray(edges) || edges.length < 2) throw new SketchError(`${name} must hold at least two numbers`);
  const copy = edges.map((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new SketchError(`${name}[${i}] is ${String(e)}; edges must be finite`);
    return e === 0 ? 0 : e;
  });
  for (let i = 1; i < copy.length; i++) {
    if (!((copy[i] as number) > (copy[i - 1] as number))) throw new SketchError(`${name} must increase strictly (${name}[${i - 1}] = ${copy[i - 1]}, ${name}[${i}] = ${copy[i]})`);
  }
  return Object.freeze(copy);
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

const scratch = new Float64Array(1);
const scratchBits = new BigInt64Array(scratch.buffer);

/** The next representable double above (direction 1) or below (-1) a finite x. */
function adjacentDouble(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  scratch[0] = x;
  scratchBits[0] = (scratchBits[0] as bigint) + ((x > 0) === (direction > 0) ? 1n : -1n);
  return scratch[0] as number;
}

/**
 * Bin edges at the sample's quantiles k/bins for k = 0..bins (NumPy 'linear'), duplicates merged, so the outer edges are the
 * sample's minimum and maximum; a constant sample gets [v, next double above v]. Non-finite values are ignored.
 */
export function quantileEdges(sample: readonly number[] | Float64Array, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new SketchError(`bins must be an integer >= 1 (got ${String(bins)})`);
  const finite = Float64Array.from(Array.prototype.filter.call(sample, (v: number) => Number.isFinite(v)) as number[]);
  if (finite.length === 0) throw new SketchError('cannot derive bin edges from a sample without finite values');
  finite.sort();
  const quantiles: number[] = [];
  for (let k = 0; k <= bins; k++) quantiles.push(quantileSorted(finite, k / bins) || 0);
  quantiles.sort((x, y) => x - y);
  const edges = quantiles.filter((e, i) => i === 0 || e !== quantiles[i - 1]);
  if (edges.length === 1) {
    const v = edges[0] as number;
    return v === Number.MAX_VALUE ? [adjacentDouble(v, -1), v] : [v, adjacentDouble(v, 1)];
  }
  return edges;
}

/**
 * A histogram over fixed edges e0 < … < eK: bins [e_i, e_i+1) with the last bin closed (numpy.histogram's convention),
 * underflow x < e0, overflow x > eK, plus missing, non-finite and invalid counts and exact Σx, Σx², min and max.
 *
 * With `sampleSize` k > 0 it also keeps the raw finite values with the k smallest keys (bottom-k sampling, the weighted
 * reservoir of Efraimidis and Spirakis with unit weights: a key is a uniform random integer in [0, 2^53), so the kept
 * values are a simple random sample of the window, and all of them while it has at most k). Two samples merge into the
 * k smallest keys of their union, which is what one sketch fed both streams keeps: merge-exact when each value's key is
 * a function of its event (FeatureSketchSet derives it from the event id). Samples of different sizes merge to the
 * smaller size, still a bottom-k sample of the union.
 */
export class NumericHistogram {
  readonly edges: readonly number[];
  private readonly bins: number[];
  private underflow = 0;
  private overflow = 0;
  private missing = 0;
  private nonFinite = 0;
  private invalid = 0;
  private count = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly moments = new ExactMoments();
  private capacity: number;
  /** Keys and values of the sample, ordered by (key, value). */
  private sampleKeys: number[] = [];
  private sampleValues: number[] = [];

  constructor(edges: readonly number[], options: NumericHistogramOptions = {}) {
    this.edges = requireEdges(edges);
    this.bins = new Array<number>(this.edges.length - 1).fill(0);
    const size = options.sampleSize ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw new SketchError(`sampleSize must be an integer >= 0 (got ${String(size)})`);
    this.capacity = size;
  }

  /**
   * Counts one value: a finite number is binned; null/undefined is missing; NaN/±Infinity non-finite; anything else invalid.
   * `key` (an integer in [0, 2^53)) is its sample key when the histogram keeps a sample; a random one when absent.
   */
  update(value: unknown, key?: number): void {
    if (typeof value !== 'number') {
      if (value === null || value === undefined) this.missing++;
      else this.invalid++;
      return;
    }
    if (value - value !== 0) {
      this.nonFinite++;
      return;
    }
    const x = value === 0 ? 0 : value;
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.moments.add(x);
    if (this.capacity > 0) this.offer(key ?? randomSampleKey(), x);
    const edges = this.edges;
    const last = edges.length - 1;
    if (x < (edges[0] as number)) {
      this.underflow++;
    } else if (x >= (edges[last] as number)) {
      if (x === edges[last]) this.bins[last - 1]!++;
      else this.overflow++;
    } else {
      // Largest i with edges[i] <= x, for i in [0, last - 1].
      let lo = 0;
      let hi = last - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((edges[mid] as number) <= x) lo = mid;
        else hi = mid - 1;
      }
      this.bins[lo]!++;
    }
  }

  /**
   * Counts rows [0, rows) of a typed column exactly as update(values[i], keys?.[i]) would count each, in one tight loop:
   * `missing[i] !== 0` marks row i missing (its value is not read); NaN and ±Infinity in `values` count as non-finite,
   * as the numbers they are. `keys[i]` is row i's sample key (random when `keys` is absent).
   */
  updateColumn(values: Float64Array, rows: number, missing?: Uint8Array, keys?: Float64Array): void {
    const edges = this.edges;
    const last = edges.length - 1;
    const first = edges[0] as number;
    const top = edges[last] as number;
    // Local copies so the loop reads typed arrays and registers, not fields; written back once at the end.
    const e = Float64Array.from(edges);
    const bins = new Float64Array(last);
    const moments = new MomentsBatch(this.moments);
    const capacity = this.capacity;
    const sampling = capacity > 0;
    // Sample candidates: values below the sample's current largest (key, value), merged in sorted runs of up to
    // `capacity` (the k smallest of a multiset do not depend on how it is split), instead of one array insert each.
    const candidateKeys = new Float64Array(sampling ? capacity : 0);
    const candidateValues = new Float64Array(sampling ? capacity : 0);
    let candidates = 0;
    let full = sampling && this.sampleKeys.length === capacity;
    let lastKey = full ? (this.sampleKeys[capacity - 1] as number) : Infinity;
    let lastValue = full ? (this.sampleValues[capacity - 1] as number) : Infinity;
    let count = 0;
    let underflow = 0;
    let overflow = 0;
    let nonFinite = 0;
    let absent = 0;
    let min = this.min;
    let max = this.max;
    for (let i = 0; i < rows; i++) {
      if (missing !== undefined && missing[i] !== 0) {
        absent++;
        continue;
      }
      const value = values[i] as number;
      if (value - value !== 0) {
        nonFinite++;
        continue;
      }
      const x = value === 0 ? 0 : value;
      count++;
      if (x < min) min = x;
      if (x > max) max = x;
      moments.add(x);
      if (sampling) {
        const key = keys === undefined ? randomSampleKey() : (keys[i] as number);
        if (!full || compareSample(key, x, lastKey, lastValue) < 0) {
          candidateKeys[candidates] = key;
          candidateValues[candidates++] = x;
          if (candidates === capacity) {
            this.mergeCandidates(candidateKeys, candidateValues, candidates);
            candidates = 0;
            full = this.sampleKeys.length === capacity;
            lastKey = this.sampleKeys[capacity - 1] as number;
            lastValue = this.sampleValues[capacity - 1] as number;
          }
        }
      }
      if (x < first) {
        underflow++;
      } else if (x >= top) {
        if (x === top) bins[last - 1]!++;
        else overflow++;
      } else {
        let lo = 0;
        let hi = last - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if ((e[mid] as number) <= x) lo = mid;
          else hi = mid - 1;
        }
        bins[lo]!++;
      }
    }
    moments.flush();
    if (candidates > 0) this.mergeCandidates(candidateKeys, candidateValues, candidates);
    for (let b = 0; b < last; b++) this.bins[b]! += bins[b] as number;
    this.count += count;
    this.underflow += underflow;
    this.overflow += overflow;
    this.nonFinite += nonFinite;
    this.missing += absent;
    this.min = min;
    this.max = max;
  }

  /** Counts `rows` missing values (what update(undefined) counts each time). */
  updateMissing(rows: number): void {
    this.missing += rows;
  }

  /**
   * Counts values[0..rows) of any types exactly as update(values[i], keys?.[i]) would count each: the numbers are copied
   * into a typed column for updateColumn's loop; null, undefined and holes are missing, any other value invalid.
   */
  updateValues(values: ArrayLike<unknown>, rows: number, keys?: Float64Array): void {
    const numbers = new Float64Array(rows);
    const skip = new Uint8Array(rows);
    let invalid = 0;
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (typeof value === 'number') numbers[i] = value;
      else {
        skip[i] = 1;
        if (value !== null && value !== undefined) invalid++;
      }
    }
    // updateColumn counts every skipped row as missing; the invalid ones are moved to their own count.
    this.updateColumn(numbers, rows, skip, keys);
    this.missing -= invalid;
    this.invalid += invalid;
  }

  /** The sample becomes the `capacity` smallest (key, value) pairs of itself and the first n candidates. */
  private mergeCandidates(candidateKeys: Float64Array, candidateValues: Float64Array, n: number): void {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareSample(candidateKeys[a] as number, candidateValues[a] as number, candidateKeys[b] as number, candidateValues[b] as number));
    const ownKeys = this.sampleKeys;
    const ownValues = this.sampleValues;
    const keys: number[] = [];
    const values: number[] = [];
    let i = 0;
    let j = 0;
    while (keys.length < this.capacity && (i < ownKeys.length || j < n)) {
      const c = order[j] as number;
      if (j >= n || (i < ownKeys.length && compareSample(ownKeys[i] as number, ownValues[i] as number, candidateKeys[c] as number, candidateValues[c] as number) <= 0)) {
        keys.push(ownKeys[i] as number);
        values.push(ownValues[i++] as number);
      } else {
        keys.push(candidateKeys[c] as number);
        values.push(candidateValues[c] as number);
        j++;
      }
    }
    this.sampleKeys = keys;
    this.sampleValues = values;
  }

  /** Inserts (key, x) into the bottom-k sample when it is among the k smallest. */
  private offer(key: number, x: number): void {
    const keys = this.sampleKeys;
    const values = this.sampleValues;
    const n = keys.length;
    if (n === this.capacity && compareSample(key, x, keys[n - 1] as number, values[n - 1] as number) >= 0) return;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareSample(keys[mid] as number, values[mid] as number, key, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    keys.splice(lo, 0, key);
    values.splice(lo, 0, x);
    if (keys.length > this.capacity) {
      keys.pop();
      values.pop();
    }
  }

  /** Adds another histogram's counts into this one; throws a SketchError unless the edges are identical. */
  merge(other: NumericHistogram): this {
    if (!sameEdges(this.edges, other.edges)) throw new SketchError(`cannot merge histograms with different edges ([${this.edges.join(', ')}] and [${other.edges.join(', ')}])`);
    const capacity = Math.min(this.capacity, other.capacity);
    const keys: number[] = [];
    const values: number[] = [];
    let i = 0;
    let j = 0;
    while (keys.length < capacity && (i < this.sampleKeys.length || j < other.sampleKeys.length)) {
      const takeOwn =
        j >= other.sampleKeys.length ||
        (i < this.sampleKeys.length && compareSample(this.sampleKeys[i] as number, this.sampleValues[i] as number, other.sampleKeys[j] as number, other.sampleValues[j] as number) <= 0);
      if (takeOwn) {
        keys.push(this.sampleKeys[i] as number);
        values.push(this.sampleValues[i++] as number);
      } else {
        keys.push(other.sampleKeys[j] as number);
        values.push(other.sampleValues[j++] as number);
      }
    }
    this.capacity = capacity;
    this.sampleKeys = keys;
    this.sampleValues = values;
    for (let i = 0; i < this.bins.length; i++) this.bins[i]! += other.bins[i] as number;
    this.underflow += other.underflow;
    this.overflow += other.overflow;
    this.missing += other.missing;
    this.nonFinite += other.nonFinite;
    this.invalid += other.invalid;
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.moments.merge(other.moments);
    return this;
  }

  /** The most finite values the sample keeps (0: no sample). */
  get sampleSize(): number {
    return this.capacity;
  }

  /** The sampled finite values in key order (a simple random sample of the finite values; all of them when sampleComplete). */
  sample(): number[] {
    return this.sampleValues.slice();
  }

  /** Whether the sample holds every finite value counted (a sample is kept and the count is within its size). */
  get sampleComplete(): boolean {
    return this.capacity > 0 && this.sampleValues.length === this.count;
  }

  /** Counts per bin (K = edges.length - 1 entries). */
  binCounts(): number[] {
    return this.bins.slice();
  }

  /** [underflow, ...binCounts, overflow]: K + 2 bins that keep out-of-range mass visible (for PSI or Jensen–Shannon). */
  countsWithTails(): number[] {
    return [this.underflow, ...this.bins, this.overflow];
  }

  /**
   * K bins with underflow folded into the first and overflow into the last: the partition (-∞, e1), [e1, e2), …, [e_K-1, ∞)
   * that populationStabilityIndexFromSamples uses for interior edges e1..e_K-1.
   */
  foldedCounts(): number[] {
    const folded = this.bins.slice();
    folded[0]! += this.underflow;
    folded[folded.length - 1]! += this.overflow;
    return folded;
  }

  get counts(): {
    readonly finite: number;
    readonly underflow: number;
    readonly overflow: number;
    readonly missing: number;
    readonly nonFinite: number;
    readonly invalid: number;
  } {
    return { finite: this.count, underflow: this.underflow, overflow: this.overflow, missing: this.missing, nonFinite: this.nonFinite, invalid: this.invalid };
  }

  /** Smallest finite value seen, or NaN before any. */
  get minimum(): number {
    return this.count === 0 ? NaN : this.min;
  }

  get maximum(): number {
    return this.count === 0 ? NaN : this.max;
  }

  /** Mean of the finite values from the exact sum (NaN before any). */
  mean(): number {
    return this.count === 0 ? NaN : scaledRatio(this.moments.sum, BigInt(this.count), -SUM_SCALE);
  }

  /** Population variance (ddof 0) from the exact sums: (nΣx² − (Σx)²) / n², without cancellation error. */
  variance(): number {
    if (this.count === 0) return NaN;
    const n = BigInt(this.count);
    return scaledRatio(n * this.moments.sumOfSquares - this.moments.sum * this.moments.sum, n * n, -SQUARE_SCALE);
  }

  /** Population standard deviation (ddof 0). */
  std(): number {
    return Math.sqrt(this.variance());
  }

  toJSON(): NumericHistogramJSON {
    return {
      type: 'numeric-histogram',
      version: NUMERIC_HISTOGRAM_VERSION,
      edges: this.edges.slice(),
      counts: this.bins.slice(),
      underflow: this.underflow,
      overflow: this.overflow,
      missing: this.missing,
      nonFinite: this.nonFinite,
      invalid: this.invalid,
      count: this.count,
      sum: encodeScaled(this.moments.sum, SUM_SCALE),
      sumOfSquares: encodeScaled(this.moments.sumOfSquares, SQUARE_SCALE),
      min: this.count === 0 ? null : this.min,
      max: this.count === 0 ? null : this.max,
      ...(this.capacity === 0 ? {} : { sampleSize: this.capacity, sample: this.sampleKeys.map((k, i) => [k, this.sampleValues[i] as number] as const) }),
    };
  }

  /** Reads a histogram back from toJSON's form (also after JSON.stringify/parse); throws a SketchError on a malformed one. */
  static fromJSON(value: unknown): NumericHistogram {
    const json = requireObject(value, 'numeric histogram');
    requireHeader(json, 'numeric-histogram', NUMERIC_HISTOGRAM_VERSION);
    const histogram = new NumericHistogram(json.edges as number[], { sampleSize: json.sampleSize === undefined ? 0 : requireCount(json.sampleSize, 'sampleSize') });
    const bins = requireCountArray(json.counts, histogram.bins.length, 'counts');
    bins.forEach((c, i) => (histogram.bins[i] = c));
    histogram.underflow = requireCount(json.underflow, 'underflow');
    histogram.overflow = requireCount(json.overflow, 'overflow');
    histogram.missing = requireCount(json.missing, 'missing');
    histogram.nonFinite = requireCount(json.nonFinite, 'nonFinite');
    histogram.invalid = requireCount(json.invalid, 'invalid');
    histogram.count = requireCount(json.count, 'count');
    if (bins.reduce((a, b) => a + b, 0) + histogram.underflow + histogram.overflow !== histogram.count) {
      throw new SketchError('count must equal the binned, underflow and overflow counts together');
    }
    histogram.moments.sum = decodeScaled(json.sum, SUM_SCALE, 'sum');
    histogram.moments.sumOfSquares = decodeScaled(json.sumOfSquares, SQUARE_SCALE, 'sumOfSquares');
    if (histogram.count > 0) {
      if (typeof json.min !== 'number' || typeof json.max !== 'number' || !(json.min <= json.max)) throw new SketchError('min and max must be numbers with min <= max');
      histogram.min = json.min;
      histogram.max = json.max;
    } else if (json.min !== null || json.max !== null) {
      throw new SketchError('min and max must be null when no finite value was counted');
    }
    const sample = json.sample;
    if (histogram.capacity === 0) {
      if (sample !== undefined) throw new SketchError('sample without sampleSize');
      return histogram;
    }
    // A bottom-k sample: ordered by (key, value), all finite values up to the size, exactly the size beyond, within [min, max].
    const expected = Math.min(histogram.capacity, histogram.count);
    if (!Array.isArray(sample) || sample.length !== expected) throw new SketchError(`sample must be an array of ${expected} [key, value] entries`);
    sample.forEach((entry: unknown, i) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw new SketchError(`sample[${i}] must be [key, value]`);
      const [key, value] = entry as [unknown, unknown];
      if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0) throw new SketchError(`sample[${i}] key must be an integer in [0, 2^53)`);
      if (typeof value !== 'number' || !(value >= histogram.min && value <= histogram.max)) throw new SketchError(`sample[${i}] value must be a number within [min, max]`);
      const previous = i === 0 ? undefined : (sample[i - 1] as [number, number]);
      if (previous !== undefined && compareSample(previous[0], previous[1], key, value) > 0) throw new SketchError('sample must be ordered by key, then value');
      histogram.sampleKeys.push(key);
      histogram.sampleValues.push(value === 0 ? 0 : value);
    });
    return histogram;
  }
}
