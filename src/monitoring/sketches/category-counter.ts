// Counts of a categorical value over a category set fixed up front, with an "other" bucket; merge-exact and bounded.
import { hash53 } from './hash.js';
import { requireCount, requireCountArray, requireHeader, requireObject, requireStringArray } from './json-checks.js';
import { SketchError } from './sketch-error.js';

export const CATEGORY_COUNTER_VERSION = 1;
export const DEFAULT_MAX_CATEGORIES = 100;
export const DEFAULT_OTHER_SAMPLE_SIZE = 16;
/** How many distinct untracked values a batch update gathers before it adds them to the sample (bounds its memory). */
const OTHER_BATCH_DISTINCT = 4096;
/** The key categoryCounts gives the "other" bucket unless told otherwise. */
export const OTHER_CATEGORY = '(other)';

export interface CategoryCounterOptions {
  /** How many distinct untracked values to keep, with their counts, as a bottom-k-by-hash sample; default 16, 0 for none. */
  readonly otherSampleSize?: number;
}

export interface CategoryCounterJSON {
  readonly type: 'category-counter';
  readonly version: typeof CATEGORY_COUNTER_VERSION;
  readonly categories: readonly string[];
  readonly counts: readonly number[];
  readonly other: number;
  /** null or undefined. */
  readonly missing: number;
  /** Objects, arrays and other values that are not a string, number, boolean or bigint. */
  readonly invalid: number;
  readonly otherSampleSize: number;
  /** [value, count] of the untracked values with the smallest hashes, in hash order. */
  readonly otherSample: readonly (readonly [string, number])[];
}

interface SampleEntry {
  readonly value: string;
  readonly hash: number;
  count: number;
}

/** The category a value counts as: strings as is, numbers, booleans and bigints as String(value); undefined for anything else. */
export function categoryOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

function compareEntry(entry: SampleEntry, hash: number, value: string): number {
  if (entry.hash !== hash) return entry.hash < hash ? -1 : 1;
  return entry.value < value ? -1 : entry.value > value ? 1 : 0;
}

/**
 * Counts over a tracked category set fixed at construction (from the reference), everything else in "other".
 * Merge-exact because tracking never depends on arrival order; the bottom-k sample of "other" values is merge-exact too.
 */
export class CategoryCounter {
  readonly categories: readonly string[];
  readonly otherSampleSize: number;
  private readonly index: Map<string, number>;
  private readonly tracked: number[];
  private other = 0;
  private missing = 0;
  private invalid = 0;
  private readonly sample: SampleEntry[] = [];

  constructor(categories: readonly string[], options: CategoryCounterOptions = {}) {
    const size = options.otherSampleSize ?? DEFAULT_OTHER_SAMPLE_SIZE;
    if (!Number.isInteger(size) || size < 0) throw new SketchError(`otherSampleSize must be an integer >= 0 (got ${String(size)})`);
    this.otherSampleSize = size;
    this.categories = Object.freeze(requireStringArray(categories, 'categories').slice());
    this.index = new Map(this.categories.map((c, i) => [c, i]));
    if (this.index.size !== this.categories.length) throw new SketchError('categories must be distinct');
    this.tracked = new Array<number>(this.categories.length).fill(0);
  }

  /** Counts one value: a tracked category, "other" (sampled by hash), missing (null/undefined) or invalid. */
  update(value: unknown): void {
    const category = categoryOf(value);
    if (category === undefined) {
      if (value === null || value === undefined) this.missing++;
      else this.invalid++;
      return;
    }
    const at = this.index.get(category);
    if (at !== undefined) {
      this.tracked[at]!++;
      return;
    }
    this.other++;
    if (this.otherSampleSize > 0) this.addToSample(category, hash53(category), 1);
  }

  /** Counts `rows` missing values (what update(undefined) counts each time). */
  updateMissing(rows: number): void {
    this.missing += rows;
  }

  /**
   * Counts values[0..rows) exactly as update(values[i]) would count each; `missing[i] !== 0` marks row i missing. Strings
   * take a tight loop that remembers the previous string's slot (columns repeat values), everything else update().
   */
  updateValues(values: ArrayLike<unknown>, rows: number, missing?: Uint8Array): void {
    const index = this.index;
    const tracked = new Float64Array(this.tracked.length);
    let previous: string | undefined;
    // The previous string's slot: its tracked index, or -1 for "other".
    let previousAt = -1;
    let absent = 0;
    const sampling = this.otherSampleSize > 0;
    const others = new Map<string, number>();
    for (let i = 0; i < rows; i++) {
      if (missing !== undefined && missing[i] !== 0) {
        absent++;
        continue;
      }
      const value = values[i];
      if (typeof value !== 'string') {
        this.update(value);
        continue;
      }
      if (value !== previous) {
        previous = value;
        previousAt = index.get(value) ?? -1;
      }
      if (previousAt >= 0) tracked[previousAt]!++;
      else {
        this.other++;
        if (sampling) {
          others.set(value, (others.get(value) ?? 0) + 1);
          if (others.size >= OTHER_BATCH_DISTINCT) this.addAllToSample(others);
        }
      }
    }
    for (let c = 0; c < tracked.length; c++) this.tracked[c]! += tracked[c] as number;
    this.missing += absent;
    if (sampling) this.addAllToSample(others);
  }

  /**
   * Adds each untracked value once with its count: the same sample as adding its occurrences one by one, because a value
   * that ends in the bottom-k enters it at its first occurrence and is never evicted, and any other one never stays.
   */
  private addAllToSample(others: Map<string, number>): void {
    for (const [value, count] of others) this.addToSample(value, hash53(value), count);
    others.clear();
  }

  private addToSample(value: string, hash: number, count: number): void {
    const sample = this.sample;
    let lo = 0;
    let hi = sample.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntry(sample[mid] as SampleEntry, hash, value) < 0) lo = mid + 1;
      else hi = mid;
    }
    const found = sample[lo];
    if (found !== undefined && found.hash === hash && found.value === value) {
      found.count += count;
      return;
    }
    if (lo >= this.otherSampleSize) return;
    sample.splice(lo, 0, { value, hash, count });
    if (sample.length > this.otherSampleSize) sample.pop();
  }

  /** Adds another counter's counts into this one; throws a SketchError unless categories and sample size are identical. */
  merge(other: CategoryCounter): this {
    const same = this.categories.length === other.categories.length && this.categories.every((c, i) => c === other.categories[i]);
    if (!same) throw new SketchError('cannot merge category counters that track different categories');
    if (this.otherSampleSize !== other.otherSampleSize) throw new SketchError(`cannot merge category counters with other-sample sizes ${this.otherSampleSize} and ${other.otherSampleSize}`);
    for (let i = 0; i < this.tracked.length; i++) this.tracked[i]! += other.tracked[i] as number;
    this.other += other.other;
    this.missing += other.missing;
    this.invalid += other.invalid;
    for (const entry of other.sample) this.addToSample(entry.value, entry.hash, entry.count);
    return this;
  }

  /** [...counts of the tracked categories in order, other]: vectors aligned by position for chi-square, PSI or distances. */
  countsWithOther(): number[] {
    return [...this.tracked, this.other];
  }

  /** Tracked counts plus "other" under `otherKey` (default "(other)"), for chiSquareHomogeneity; throws if otherKey is tracked. */
  categoryCounts(otherKey = OTHER_CATEGORY): Map<string, number> {
    if (this.index.has(otherKey)) throw new SketchError(`${JSON.stringify(otherKey)} is a tracked category; pass another key for "other"`);
    const counts = new Map(this.categories.map((c, i) => [c, this.tracked[i] as number]));
    return counts.set(otherKey, this.other);
  }

  /** Count of one category (a tracked one; 0 for any other). */
  countOf(category: string): number {
    const at = this.index.get(category);
    return at === undefined ? 0 : (this.tracked[at] as number);
  }

  get counts(): { readonly tracked: number; readonly other: number; readonly missing: number; readonly invalid: number } {
    return { tracked: this.tracked.reduce((a, b) => a + b, 0), other: this.other, missing: this.missing, invalid: this.invalid };
  }

  /** Untracked values with exact counts: the otherSampleSize distinct ones with the smallest hashes (a uniform sample of distinct values). */
  otherSample(): (readonly [string, number])[] {
    return this.sample.map((e) => [e.value, e.count] as const);
  }

  /** Distinct untracked values: exact while fewer than otherSampleSize were seen, else the bottom-k estimate (k − 1) / h_k. */
  estimatedDistinctOther(): number {
    const k = this.otherSampleSize;
    if (this.sample.length < k || k === 0) return this.sample.length;
    return (k - 1) / (((this.sample[k - 1] as SampleEntry).hash + 1) / 2 ** 53);
  }

  toJSON(): CategoryCounterJSON {
    return {
      type: 'category-counter',
      version: CATEGORY_COUNTER_VERSION,
      categories: this.categories.slice(),
      counts: this.tracked.slice(),
      other: this.other,
      missing: this.missing,
      invalid: this.invalid,
      otherSampleSize: this.otherSampleSize,
      otherSample: this.otherSample(),
    };
  }

  /** Reads a counter back from toJSON's form; throws a SketchError on a malformed one. */
  static fromJSON(value: unknown): CategoryCounter {
    const json = requireObject(value, 'category counter');
    requireHeader(json, 'category-counter', CATEGORY_COUNTER_VERSION);
    const counter = new CategoryCounter(requireStringArray(json.categories, 'categories'), { otherSampleSize: requireCount(json.otherSampleSize, 'otherSampleSize') });
    requireCountArray(json.counts, counter.tracked.length, 'counts').forEach((c, i) => (counter.tracked[i] = c));
    counter.other = requireCount(json.other, 'other');
    counter.missing = requireCount(json.missing, 'missing');
    counter.invalid = requireCount(json.invalid, 'invalid');
    const sample = json.otherSample;
    if (!Array.isArray(sample) || sample.length > counter.otherSampleSize) throw new SketchError(`otherSample must be an array of at most ${counter.otherSampleSize} entries`);
    let sampled = 0;
    for (const entry of sample) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new SketchError('otherSample entries must be [value, count]');
      const [name, count] = entry as [string, unknown];
      if (counter.index.has(name)) throw new SketchError(`otherSample holds the tracked category ${JSON.stringify(name)}`);
      const c = requireCount(count, 'otherSample count');
      if (c === 0) throw new SketchError('otherSample counts must be positive');
      counter.addToSample(name, hash53(name), c);
      sampled += c;
    }
    if (counter.sample.length !== sample.length || sampled > counter.other) throw new SketchError('otherSample must list distinct values whose counts fit within other');
    return counter;
  }
}
