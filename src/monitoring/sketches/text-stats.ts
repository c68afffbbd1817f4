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
  /**
   * At most this many UTF-16 code units of a text are tokenized (its prefix, cut back to the start of a token
   * the cap would split); the text's length still counts whole. Undefined: every text whole (sketches stored
   * before the cap existed).
   */
  readonly maxChars?: number;
}

/** The cap new references put on the tokenized prefix of a text: the sketch's cost is bounded whatever the length. */
export const DEFAULT_TEXT_MAX_CHARS = 2048;

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
  /** The cap on the tokenized prefix (code units); absent or null: texts were tokenized whole. */
  readonly maxChars?: number | null;
  /** Texts longer than the cap (their tokens are those of the prefix). Absent: 0. */
  readonly truncated?: number;
}

/** Per-text sums of squares and products of out-of-vocabulary and token counts (exact integers). */
export interface TextMoments {
  readonly oovSquares: bigint;
  readonly tokenSquares: bigint;
  readonly products: bigint;
}

/**
 * A token is a maximal run of letters, combining marks and digits in the lower-cased text. Tokens never
 * span an ASCII character outside [0-9A-Za-z], so a text is read as segments between such characters:
 * a segment of ASCII letters and digits is one token, hashed as it is scanned (no string is made); a
 * segment holding other characters is lower-cased on its own and split with this expression.
 */
const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * A code unit or UTF-8 byte below 128 → its lower-case form when it is a letter or digit, 0 when it separates
 * tokens; a byte of 128 or more (part of a non-ASCII character in UTF-8) → NON_ASCII.
 */
const ASCII_TOKEN = new Uint8Array(256);
const NON_ASCII = 1;
for (let c = 48; c <= 57; c++) ASCII_TOKEN[c] = c;
for (let c = 97; c <= 122; c++) ASCII_TOKEN[c] = c;
for (let c = 65; c <= 90; c++) ASCII_TOKEN[c] = c + 32;
for (let c = 128; c < 256; c++) ASCII_TOKEN[c] = NON_ASCII;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The murmur3 finaliser: spreads FNV-1a's low bits over the table's slots. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The vocabulary's ASCII words in an open-addressing table keyed by the FNV-1a hash of their code units. A
 * lookup compares the word with the text in place, so the answer is exact; a miss costs one probe or two.
 */
class AsciiVocabulary {
  // Slot → hash and word index + 1 (0: empty); the words' bytes side by side. Typed arrays only: a lookup touches
  // two or three cache lines, never a heap string.
  /** [hash, word index + 1] per slot, side by side: one probe reads one cache line. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private readonly chars: Uint8Array;

  constructor(vocabulary: ReadonlySet<string>) {
    const ascii = [...vocabulary].filter((w) => w.length > 0 && [...w].every((ch) => ch.charCodeAt(0) < 128 && ASCII_TOKEN[ch.charCodeAt(0)] === ch.charCodeAt(0)));
    let size = 16;
    while (size < ascii.length * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
    this.offsets = new Int32Array(ascii.length);
    this.lengths = new Int32Array(ascii.length);
    this.chars = new Uint8Array(ascii.reduce((n, w) => n + w.length, 0));
    let offset = 0;
    ascii.forEach((word, index) => {
      let h = FNV_OFFSET;
      for (let i = 0; i < word.length; i++) {
        const c = word.charCodeAt(i);
        this.chars[offset + i] = c;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      this.offsets[index] = offset;
      this.lengths[index] = word.length;
      offset += word.length;
      let slot = mix(h) & this.mask;
      while (this.slots[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
      this.slots[2 * slot] = h;
      this.slots[2 * slot + 1] = index + 1;
    });
  }

  /** Whether bytes[start, end) (ASCII letters and digits whose lower-case FNV-1a hash is `h`) is a word of the vocabulary. */
  has(bytes: Uint8Array, start: number, end: number, h: number): boolean {
    const length = end - start;
    const { slots, mask, offsets, lengths, chars } = this;
    for (let slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[2 * slot + 1]!;
      if (index === 0) return false;
      if (slots[2 * slot] !== h || lengths[index - 1] !== length) continue;
      const offset = offsets[index - 1]!;
      let i = 0;
      while (i < length && ASCII_TOKEN[bytes[start + i]!] === chars[offset + i]) i++;
      if (i === length) return true;
    }
  }
}

const tables = new WeakMap<ReadonlySet<string>, AsciiVocabulary>();

function asciiVocabulary(vocabulary: ReadonlySet<string>): AsciiVocabulary {
  let table = tables.get(vocabulary);
  if (table === undefined) {
    table = new AsciiVocabulary(vocabulary);
    tables.set(vocabulary, table);
  }
  return table;
}

const separates = (c: number): boolean => c < 128 && ASCII_TOKEN[c] === 0;

/** The scratch buffer update() encodes a text's prefix into (grown as needed; update is synchronous, so one serves all). */
let scratch = Buffer.allocUnsafe(16_384);
let scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
/** Bytes the last utf8Of wrote. */
let written = 0;

function utf8Of(text: string): Uint8Array {
  // At most three bytes per UTF-16 code unit.
  if (scratch.length < text.length * 3) {
    scratch = Buffer.allocUnsafe(Math.max(text.length * 3, scratch.length * 2));
    scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
  }
  written = scratch.write(text, 0, 'utf8');
  return scratchBytes;
}

/**
 * Where the tokenized prefix of `text` ends under a cap of `maxChars` code units: the whole text when it fits;
 * else the cap, moved back to before a token (or a surrogate pair) it would split, unless the token is longer
 * than 64 code units (then it is cut).
 */
export function tokenizedEnd(text: string, maxChars: number | undefined): number {
  if (maxChars === undefined || text.length <= maxChars) return text.length;
  let end = maxChars;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  if (end > 0 && !separates(text.charCodeAt(end - 1)) && !separates(text.charCodeAt(end))) {
    for (let i = end - 1; i >= 0 && i >= end - 64; i--) {
      if (separates(text.charCodeAt(i))) return i + 1;
    }
  }
  return end;
}

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

/** The tokens of a text as TextStats counts them (lower-cased runs of letters, marks and digits), of its prefix under `maxChars`. */
export function tokenize(text: string, maxChars?: number): string[] {
  const end = tokenizedEnd(text, maxChars);
  const tokens: string[] = [];
  let i = 0;
  while (i < end) {
    if (separates(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < end && !separates(text.charCodeAt(i))) i++;
    const lower = text.slice(start, i).toLowerCase();
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) tokens.push(m[0]);
  }
  return tokens;
}

/** A text's length as TextStats counts it: code points of the tokenized prefix (all of it without a cap), code units after it. */
export function textLength(text: string, maxChars?: number): number {
  const end = tokenizedEnd(text, maxChars);
  return end === text.length ? codePointLength(text) : codePointLength(text.slice(0, end)) + (text.length - end);
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
  private readonly table: AsciiVocabulary | undefined;
  private readonly fingerprint: string | null;
  /** The cap on the tokenized prefix; undefined: whole texts. */
  readonly maxChars: number | undefined;
  private truncated = 0;
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
    this.table = config.vocabulary === undefined ? undefined : asciiVocabulary(config.vocabulary);
    this.fingerprint = config.vocabulary === undefined ? null : vocabularyFingerprint(config.vocabulary);
    if (config.maxChars !== undefined && !(Number.isSafeInteger(config.maxChars) && config.maxChars >= 64)) throw new SketchError(`maxChars must be a whole number of at least 64, got ${String(config.maxChars)}`);
    this.maxChars = config.maxChars;
  }

  update(value: unknown): void {
    if (typeof value !== 'string') {
      if (value === null || value === undefined) this.missing++;
      else this.invalid++;
      return;
    }
    const vocabulary = this.vocabulary;
    const table = this.table;
    const end = tokenizedEnd(value, this.maxChars);
    // The prefix as UTF-8 in a scratch buffer: a byte loop is about twice as fast as charCodeAt, and UTF-8 never
    // encodes a non-ASCII character with an ASCII byte, so ASCII letters, digits and separators are seen as they are.
    const bytes = utf8Of(end === value.length ? value : value.slice(0, end));
    const n = written;
    let tokens = 0;
    let unknown = 0;
    // Surrogate pairs in the prefix (4-byte UTF-8 sequences): the length is in code points there.
    let pairs = 0;
    let i = 0;
    while (i < n) {
      let b = bytes[i]!;
      if (ASCII_TOKEN[b] === 0) {
        i++;
        continue;
      }
      const start = i;
      let h = FNV_OFFSET;
      let ascii = true;
      for (; i < n; i++) {
        b = bytes[i]!;
        const lower = ASCII_TOKEN[b]!;
        if (lower > NON_ASCII) h = Math.imul(h ^ lower, FNV_PRIME);
        else if (lower === 0) break;
        else {
          ascii = false;
          // The lead byte of a four-byte sequence: a character outside the BMP, two UTF-16 code units.
          if (b >= 0xf0) pairs++;
        }
      }
      if (ascii) {
        tokens++;
        if (table !== undefined && !table.has(bytes, start, i, h)) unknown++;
        continue;
      }
      // Other scripts: the segment's own text, lower-cased and split by the expression. A lone surrogate became
      // U+FFFD in UTF-8; neither is a letter, mark or digit, so the tokens are the same.
      const lower = scratch.toString('utf8', start, i).toLowerCase();
      TOKEN.lastIndex = 0;
      for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) {
        tokens++;
        if (vocabulary !== undefined && !vocabulary.has(m[0])) unknown++;
      }
    }
    if (end < value.length) this.truncated++;
    // Code points of the prefix, code units after it (astral characters past the cap are not looked for).
    this.length.update(value.length - pairs);
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
    if (this.maxChars !== other.maxChars) throw new SketchError(`cannot merge text statistics with different caps (${String(this.maxChars ?? 'none')} and ${String(other.maxChars ?? 'none')} code units)`);
    this.truncated += other.truncated;
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

  get counts(): { readonly texts: number; readonly empty: number; readonly missing: number; readonly invalid: number; readonly tokens: number; readonly outOfVocabulary: number; readonly truncated: number } {
    return { texts: this.length.counts.finite, empty: this.empty, missing: this.missing, invalid: this.invalid, tokens: this.tokens, outOfVocabulary: this.outOfVocabulary, truncated: this.truncated };
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
      ...(this.maxChars === undefined ? {} : { maxChars: this.maxChars, truncated: this.truncated }),
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
    const maxChars = json.maxChars === undefined || json.maxChars === null ? undefined : requireCount(json.maxChars, 'maxChars');
    const stats = new TextStats({ lengthEdges: length.edges, tokenEdges: tokenCount.edges, vocabulary, ...(maxChars === undefined ? {} : { maxChars }) });
    stats.truncated = json.truncated === undefined ? 0 : requireCount(json.truncated, 'truncated');
    if (maxChars === undefined && stats.truncated > 0) throw new SketchError('truncated texts need a cap (maxChars)');
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
