import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SketchError } from './sketch-error.js';
import { assertMergeLaw, shapeOf } from './testing/merge-law.js';
import { TextStats, codePointLength, textLength, tokenize, tokenizedEnd } from './text-stats.js';

const vocabulary = new Set(['hello', 'world', 'the', 'a']);
const config = { lengthEdges: [0, 5, 20, 100], tokenEdges: [0, 1, 3, 10], vocabulary };

describe('TextStats', () => {
  it('measures code points, tokens, empty texts and out-of-vocabulary tokens', () => {
    expect(codePointLength('a😀b')).toBe(3);
    expect(tokenize('Hello, WORLD! café-au-lait 42')).toEqual(['hello', 'world', 'café', 'au', 'lait', '42']);
    const t = new TextStats(config);
    for (const v of ['Hello, World!', '', '   ', 'hello stranger', null, undefined, 7]) t.update(v);
    expect(t.counts).toEqual({ texts: 4, empty: 2, missing: 2, invalid: 1, tokens: 4, outOfVocabulary: 1, truncated: 0 });
    expect(t.outOfVocabularyRate()).toBe(0.25);
    // Lengths 13, 0, 3, 14 over [0, 5, 20, 100]; token counts 2, 0, 0, 2 over [0, 1, 3, 10].
    expect(t.lengthHistogram.binCounts()).toEqual([2, 2, 0]);
    expect(t.tokenCountHistogram.binCounts()).toEqual([2, 2, 0]);
    expect(new TextStats({ ...config, vocabulary: undefined }).outOfVocabularyRate()).toBeNaN();
  });

  it('obeys the merge law', () => {
    const values = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', ' ', 'hello world', 'the unknown', null, undefined, 3));
    assertMergeLaw({ values, create: () => new TextStats(config), update: (t, v) => t.update(v), fromJSON: (json) => TextStats.fromJSON(json, vocabulary), numRuns: 150 });
  });

  it('refuses to mix vocabularies', () => {
    const other = new TextStats({ ...config, vocabulary: new Set(['hello']) });
    expect(() => new TextStats(config).merge(other)).toThrow(SketchError);
    const json = new TextStats(config).toJSON();
    expect(() => TextStats.fromJSON(json)).toThrow(/vocabulary/);
    // Insertion order does not matter, only the words.
    expect(TextStats.fromJSON(json, new Set([...vocabulary].reverse()))).toBeInstanceOf(TextStats);
  });

  it('keeps the same JSON shape after 1,000 and 1,000,000 updates', () => {
    const t = new TextStats(config);
    const texts = ['hello world', 'a much longer text with several unknown words in it', '', 'the'];
    let i = 0;
    for (; i < 1000; i++) t.update(texts[i % 4]);
    const small = t.toJSON();
    for (; i < 1_000_000; i++) t.update(texts[i % 4]);
    const large = t.toJSON();
    expect(shapeOf(large)).toEqual(shapeOf(small));
    expect(JSON.stringify(large).length - JSON.stringify(small).length).toBeLessThanOrEqual(40 * 3);
  });
});

describe('TextStats without materialising tokens', () => {
  // What the sketch counted before it scanned by hand: the regular expression over the lower-cased text.
  const regexTokens = (text: string) => text.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
  const countsOf = (texts: readonly unknown[], words: ReadonlySet<string>, maxChars?: number) => {
    const t = new TextStats({ lengthEdges: [0, 10, 100, 10_000], tokenEdges: [0, 2, 20, 2000], vocabulary: words, ...(maxChars === undefined ? {} : { maxChars }) });
    for (const x of texts) t.update(x);
    return t;
  };
  // ASCII, Latin-1 and Latin Extended letters, combining marks, digits of other scripts, CJK, emoji (surrogate pairs),
  // Turkish dotted capital I (lower-cases to two code units), and separators of every kind.
  const pieces = ['Hello', 'WORLD', 'the', 'a', 'é', 'É', 'café', 'Ünïcödé', 'e\u0301', '٣', '日本語', '😀', '👍🏽', 'İstanbul', 'ǅ', ' ', '  ', ',', '.', '-', "'", '\n', '\t', '!', '_', '~', 'x1', '42', 'ÀB'];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((p) => p.join(''));
  const words = new Set(['hello', 'world', 'the', 'a', 'café', 'é', '42', 'x1', 'i̇stanbul', '日本語', 'ünïcödé']);

  it('counts tokens and out-of-vocabulary tokens exactly as the regular expression over the whole lower-cased text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(text, fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 12 }), (texts) => {
        const t = countsOf(texts, words);
        const tokens = texts.flatMap(regexTokens);
        expect(t.counts.tokens).toBe(tokens.length);
        expect(t.counts.outOfVocabulary).toBe(tokens.filter((w) => !words.has(w)).length);
        expect(t.counts.empty).toBe(texts.filter((x) => regexTokens(x).length === 0).length);
        expect(texts.flatMap((x) => tokenize(x))).toEqual(tokens);
        // Lengths in code points, binned as codePointLength bins them.
        const byLength = countsOf([], words);
        for (const x of texts) byLength.lengthHistogram.update(codePointLength(x));
        expect(t.lengthHistogram.binCounts()).toEqual(byLength.lengthHistogram.binCounts());
        for (const x of texts) expect(textLength(x)).toBe(codePointLength(x));
      }),
      { numRuns: 400 },
    );
  });

  it('looks words up exactly in a large vocabulary (every one- to three-letter word, none of their four-letter extensions)', () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const vocabulary = new Set<string>();
    for (const a of letters) {
      vocabulary.add(a);
      for (const b of letters) {
        vocabulary.add(a + b);
        for (const c of 'aeiou') vocabulary.add(a + b + c);
      }
    }
    const probe = fc.array(fc.stringMatching(/^[A-Za-z0-9]{1,5}$/), { minLength: 1, maxLength: 30 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(probe, (t) => {
        const tokens = regexTokens(t);
        expect(countsOf([t], vocabulary).counts.outOfVocabulary).toBe(tokens.filter((w) => !vocabulary.has(w)).length);
      }),
      { numRuns: 300 },
    );
  });

  it('tokenizes at most maxChars code units, never splitting a token or a surrogate pair, and counts the truncated texts', () => {
    const long = `${'hello world '.repeat(500)}tail words here`;
    const t = countsOf([long, 'short hello'], words, 1000);
    const end = tokenizedEnd(long, 1000);
    // 1000 falls inside "hello" (12-character period: 996 starts a word): the prefix ends before it.
    expect(end).toBe(996);
    expect(t.counts).toMatchObject({ tokens: 166 + 2, outOfVocabulary: 1, truncated: 1 }); // 'short' is not a word of the vocabulary
    expect(tokenize(long, 1000)).toEqual(regexTokens(long.slice(0, 996)));
    // The whole length still counts.
    expect(textLength(long, 1000)).toBe(long.length);
    expect(tokenizedEnd(`${'a'.repeat(999)}😀b`, 1000)).toBe(999);
    // A token longer than 64 code units across the cap is cut at the cap rather than dropped.
    expect(tokenizedEnd('x'.repeat(5000), 1000)).toBe(1000);
    expect(tokenizedEnd('short', 1000)).toBe(5);
    expect(tokenizedEnd('x'.repeat(5000), undefined)).toBe(5000);
  });

  it('keeps the cap in its JSON and refuses to merge across caps', () => {
    const capped = countsOf(['a '.repeat(100), 'b'], words, 64);
    const back = TextStats.fromJSON(JSON.parse(JSON.stringify(capped.toJSON())), words);
    expect(back.maxChars).toBe(64);
    expect(back.counts).toEqual(capped.counts);
    expect(back.counts.truncated).toBe(1);
    expect(() => capped.merge(countsOf([], words))).toThrow(/different caps/);
    expect(() => countsOf([], words, 63)).toThrow(SketchError);
    // A sketch stored before the cap existed reads as uncapped.
    const old = countsOf(['a b'], words).toJSON();
    expect('maxChars' in old).toBe(false);
    expect(TextStats.fromJSON(old, words).maxChars).toBeUndefined();
    expect(() => TextStats.fromJSON({ ...old, truncated: 2 }, words)).toThrow(/cap/);
  });

  it('obeys the merge law with a cap', () => {
    const values = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constantFrom('hello world '.repeat(20), '', null, 3));
    assertMergeLaw({ values, create: () => new TextStats({ ...config, maxChars: 64 }), update: (t, v) => t.update(v), fromJSON: (json) => TextStats.fromJSON(json, vocabulary), numRuns: 150 });
  });
});
