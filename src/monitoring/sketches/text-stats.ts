// Length, token-count and vocabulary statistics of a text feature; merge-exact and bounded in memory.
import { hash53 } from './hash.js';
import { requireCount, requireHeader, requireObject, requireString } from './json-checks.js';
import { NumericHistogram, type NumericHistogramJSON } from './numeric-histogram.js';
import { SketchError } from './sketch-error.js';

export const TEXT_STATS_VERSION = 1;

export interface TextStatsConfig {
  /** Edges over the length in Unicode code points. */
  readonly lengthEdges: readonly number[];
  /** Edges over the number of tokens. */
  readonly tokenEdges: readonly number[];
  /** Lower-case tokens the reference knows; when given, tokens outside it are counted. */
  readonly vocabulary?: ReadonlySet<string>;
}

export interface TextStatsJSON {
  readonly type: 'text-stats';
  readonly version: typeof TEXT_STATS_VERSION;
  readonly length: NumericHistogramJSON;
  readonly tokenCount: NumericHistogramJSON;
  /** Strings with no token (empty or only whitespace and punctuation). */
  readonly empty: number;
  readonly missing: number;
  /** Values that are not strings. */
  readonly invalid: number;
  readonly tokens: number;
  /** Tokens outside the vocabulary (0 without one). */
  readonly outOfVocabulary: number;
  /** Size and hash of the vocabulary, so sketches over different vocabularies refuse to merge; null without one. */
  readonly vocabulary: string | null;
  /**
   * Per-text sums over texts with o out-of-vocabulary tokens among t tokens, as decimal integers: Σo², Σt², Σo·t (the
   * variance of the out-of-vocabulary rate with texts as independent units). Absent in sketches written before they were kept.
   */
  readonly perText?: { readonly oovSquares: string; readonly tokenSquares: string; readonly products: string };
}

/** Per-text sums of squares and products of out-of-vocabulary and token counts (exact integers). */
export interface TextMoments {
  readonly oovSquares: bigint;
  readonly tokenSquares: bigint;
  readonly products: bigint;
}

/** A token is a maximal run of letters, combining marks and digits in the lower-cased text. */
const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;

/** Number of Unicode code points (a surrogate pair counts once). */
export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

/** The tokens of a text as TextStats counts them (lower-cased runs of letters, marks and digits). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

const fingerprints = new WeakMap<ReadonlySet<string>, string>();

/** "size:hash" of a vocabulary, independent of insertion order; cached per Set. */
export function vocabularyFingerprint(vocabulary: ReadonlySet<string>): string {
  let fingerprint = fingerprints.get(vocabulary);
  if (fingerprint === undefined) {
    const words = [...vocabulary].sort();
    fingerprint = `${words.length}:${hash53(words.join('\u0000')).toString(16)}`;
    fingerprints.set(vocabulary, fingerprint);
  }
  return fingerprint;
}

/** Statistics of one text feature: histograms of length and token count, empty/missing/invalid counts and out-of-vocabulary tokens. */
export class TextStats {
  private readonly length: NumericHistogram;
  private readonly tokenCount: NumericHistogram;
  private readonly vocabulary: ReadonlySet<string> | undefined;
  private readonly fingerprint: string | null;
  private empty = 0;
  private missing = 0;
  private invalid = 0;
  private tokens = 0;
  private outOfVocabulary = 0;
  /** Σo², Σt², Σo·t over texts; null when merged with (or read from) a sketch that did not keep them. */
  private perText: { oovSquares: bigint; tokenSquares: bigint; products: bigint } | null = { oovSquares: 0n, tokenSquares: 0n, products: 0n };

  constructor(config: TextStatsConfig) {
    this.length = new NumericHistogram(config.lengthEdges);
    this.tokenCount = new NumericHistogram(config.tokenEdges);
    this.vocabulary = config.vocabulary;
    this.fingerprint = config.vocabulary === undefined ? null : vocabularyFingerprint(config.vocabulary);
  }

  update(value: unknown): void {
    if (typeof value !== 'string') {
      if (value === null || value === undefined) this.missing++;
      else this.invalid++;
      return;
    }
    const vocabulary = this.vocabulary;
    let tokens = 0;
    let unknown = 0;
    const lower = value.toLowerCase();
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) {
      tokens++;
      if (vocabulary !== undefined && !vocabulary.has(m[0])) unknown++;
    }
    this.length.update(codePointLength(value));
    this.tokenCount.update(tokens);
    if (tokens === 0) this.empty++;
    this.tokens += tokens;
    this.outOfVocabulary += unknown;
    const moments = this.perText;
    if (moments !== null && tokens > 0) {
      // Exact while products stay below 2^53 (texts of up to 94 million tokens); BigInt keeps the sums exact beyond.
      moments.oovSquares += BigInt(unknown * unknown);
      moments.tokenSquares += BigInt(tokens * tokens);
      moments.products += BigInt(unknown * tokens);
    }
  }

  /** Adds another sketch's counts; throws a SketchError unless edges and vocabulary are identical. */
  merge(other: TextStats): this {
    if (this.fingerprint !== other.fingerprint) throw new SketchError('cannot merge text statistics over different vocabularies');
    this.length.merge(other.length);
    this.tokenCount.merge(other.tokenCount);
    this.empty += other.empty;
    this.missing += other.missing;
    this.invalid += other.invalid;
    this.tokens += other.tokens;
    this.outOfVocabulary += other.outOfVocabulary;
    if (this.perText === null || other.perText === null) this.perText = null;
    else {
      this.perText.oovSquares += other.perText.oovSquares;
      this.perText.tokenSquares += other.perText.tokenSquares;
      this.perText.products += other.perText.products;
    }
    return this;
  }

  /** Σo², Σt², Σo·t over texts (o out-of-vocabulary tokens among t); null when a merged or stored part did not keep them. */
  get textMoments(): TextMoments | null {
    return this.perText === null ? null : { ...this.perText };
  }

  /** Histogram of lengths in code points (read-only use: compare with the reference's). */
  get lengthHistogram(): NumericHistogram {
    return this.length;
  }

  get tokenCountHistogram(): NumericHistogram {
    return this.tokenCount;
  }

  get counts(): { readonly texts: number; readonly empty: number; readonly missing: number; readonly invalid: number; readonly tokens: number; readonly outOfVocabulary: number } {
    return { texts: this.length.counts.finite, empty: this.empty, missing: this.missing, invalid: this.invalid, tokens: this.tokens, outOfVocabulary: this.outOfVocabulary };
  }

  /** Share of tokens outside the vocabulary (NaN without a vocabulary or before any token). */
  outOfVocabularyRate(): number {
    return this.vocabulary === undefined || this.tokens === 0 ? NaN : this.outOfVocabulary / this.tokens;
  }

  toJSON(): TextStatsJSON {
    return {
      type: 'text-stats',
      version: TEXT_STATS_VERSION,
      length: this.length.toJSON(),
      tokenCount: this.tokenCount.toJSON(),
      empty: this.empty,
      missing: this.missing,
      invalid: this.invalid,
      tokens: this.tokens,
      outOfVocabulary: this.outOfVocabulary,
      vocabulary: this.fingerprint,
      ...(this.perText === null
        ? {}
        : { perText: { oovSquares: this.perText.oovSquares.toString(), tokenSquares: this.perText.tokenSquares.toString(), products: this.perText.products.toString() } }),
    };
  }

  /** Reads a sketch back; the vocabulary it was built with must be given again (only its fingerprint is stored). */
  static fromJSON(value: unknown, vocabulary?: ReadonlySet<string>): TextStats {
    const json = requireObject(value, 'text statistics');
    requireHeader(json, 'text-stats', TEXT_STATS_VERSION);
    const stored = json.vocabulary === null ? null : requireString(json.vocabulary, 'vocabulary');
    const given = vocabulary === undefined ? null : vocabularyFingerprint(vocabulary);
    if (stored !== given) throw new SketchError(`text statistics were built with vocabulary ${String(stored)} but ${String(given)} was given`);
    const length = NumericHistogram.fromJSON(json.length);
    const tokenCount = NumericHistogram.fromJSON(json.tokenCount);
    const stats = new TextStats({ lengthEdges: length.edges, tokenEdges: tokenCount.edges, vocabulary });
    stats.length.merge(length);
    stats.tokenCount.merge(tokenCount);
    stats.empty = requireCount(json.empty, 'empty');
    stats.missing = requireCount(json.missing, 'missing');
    stats.invalid = requireCount(json.invalid, 'invalid');
    stats.tokens = requireCount(json.tokens, 'tokens');
    stats.outOfVocabulary = requireCount(json.outOfVocabulary, 'outOfVocabulary');
    if (stats.outOfVocabulary > stats.tokens) throw new SketchError('outOfVocabulary must not exceed tokens');
    if (json.perText === undefined) {
      stats.perText = null;
    } else {
      const m = requireObject(json.perText, 'perText');
      const read = (name: string): bigint => {
        const v = m[name];
        if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) throw new SketchError(`perText.${name} must be a non-negative decimal integer`);
        return BigInt(v);
      };
      const moments = { oovSquares: read('oovSquares'), tokenSquares: read('tokenSquares'), products: read('products') };
      // Each text has o <= t, so o² <= o·t <= t²; and Σt² >= Σt (t >= 1 per counted text).
      if (moments.oovSquares > moments.products || moments.products > moments.tokenSquares || moments.tokenSquares < BigInt(stats.tokens)) {
        throw new SketchError('perText sums are inconsistent with each other and the token count');
      }
      stats.perText = moments;
    }
    return stats;
  }
}
