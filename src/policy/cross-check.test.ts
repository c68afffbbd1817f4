import { describe, expect, it } from 'vitest';
import type { Issue } from '../errors/index.js';
import { pointerTokens as parsePointer, valueAtTokens as valueAt } from '../contracts/index.js';
import { compileCrossChecks, sameValue, type CrossCheckConfig } from './cross-check.js';
import { decideOutcome } from './decide.js';

function checker(agree: CrossCheckConfig['agree']) {
  const issues: Issue[] = [];
  const [compiled] = compileCrossChecks([{ name: 'c', version: 'v2', agree }], issues);
  expect(issues).toEqual([]);
  return compiled!;
}

describe('agreement per field type', () => {
  it('equal: same label, same JSON whatever the key order; a different value or a missing field disagrees', () => {
    const c = checker({ '/label': 'equal', '/tags': 'equal' });
    expect(c.compare({ label: 'spam', tags: { a: 1, b: [1, 2] } }, { tags: { b: [1, 2], a: 1 }, label: 'spam' }).agree).toBe(true);
    expect(c.compare({ label: 'spam', tags: {} }, { label: 'ham', tags: {} })).toEqual({
      agree: false,
      fields: [
        { field: '/label', agree: false, served: 'spam', checker: 'ham' },
        { field: '/tags', agree: true, served: {}, checker: {} },
      ],
    });
    expect(c.compare({ label: 'spam', tags: [1, 2] }, { label: 'spam', tags: [2, 1] }).agree).toBe(false);
    expect(c.compare({ label: 'spam' }, { label: 'spam', tags: null }).agree).toBe(false);
    // Absent on both sides agrees: neither model says anything about it.
    expect(c.compare({ label: 'spam' }, { label: 'spam' }).agree).toBe(true);
    // 1 and "1" are different answers.
    expect(checker({ '/n': 'equal' }).compare({ n: 1 }, { n: '1' }).agree).toBe(false);
  });

  it('within: numbers at most the tolerance apart (inclusive), never a non-number', () => {
    const c = checker({ '/score': { within: 0.2 } });
    expect(c.compare({ score: 0.3 }, { score: 0.1 }).agree).toBe(true); // 0.19999999999999998 or 0.2 in binary
    expect(c.compare({ score: 0.1 }, { score: 0.3 }).agree).toBe(true);
    expect(c.compare({ score: 0.31 }, { score: 0.1 }).agree).toBe(false);
    expect(c.compare({ score: 5 }, { score: 5 }).agree).toBe(true);
    expect(c.compare({ score: '0.3' }, { score: 0.3 }).agree).toBe(false);
    expect(c.compare({ score: null }, { score: null }).agree).toBe(false);
    expect(checker({ '/score': { within: 0 } }).compare({ score: 2 }, { score: 2.000001 }).agree).toBe(false);
  });

  it('json: the field is JSON text (an LLM answer); the value at the inner pointer is compared', () => {
    const c = checker({ '/text': { json: '/category' } });
    expect(c.compare({ text: '{"category":"billing","why":"asks about an invoice"}' }, { text: '{ "why": "invoice", "category": "billing" }' }).agree).toBe(true);
    expect(c.compare({ text: '{"category":"billing"}' }, { text: '{"category":"refund"}' }).agree).toBe(false);
    const broken = c.compare({ text: '{"category":"billing"}' }, { text: 'Sure! The category is billing.' });
    expect(broken.agree).toBe(false);
    expect(broken.fields[0]?.note).toBe("the checker's /text is not JSON text");
    // An adapter that already parsed the JSON gives an object: compared the same way.
    expect(c.compare({ text: { category: 'billing' } }, { text: '{"category":"billing"}' }).agree).toBe(true);
    const scored = checker({ '/text': { json: '/risk', within: 0.1 } });
    expect(scored.compare({ text: '{"risk":0.5}' }, { text: '{"risk":0.58}' }).agree).toBe(true);
    expect(scored.compare({ text: '{"risk":0.5}' }, { text: '{"risk":0.65}' }).agree).toBe(false);
  });

  it('nested pointers with escapes and array indexes', () => {
    expect(parsePointer('/a~1b/c~0d/0')).toEqual(['a/b', 'c~d', '0']);
    expect(valueAt({ 'a/b': { 'c~d': ['x'] } }, parsePointer('/a~1b/c~0d/0')!)).toBe('x');
    expect(valueAt({ a: [1] }, ['a', '01'])).toBeUndefined();
    expect(valueAt({ a: 1 }, ['toString'])).toBeUndefined();
    const c = checker({ '/classes/0/name': 'equal' });
    expect(c.compare({ classes: [{ name: 'a' }, { name: 'b' }] }, { classes: [{ name: 'a' }] }).agree).toBe(true);
  });

  it('sameValue on its own', () => {
    expect(sameValue(undefined, undefined)).toBe(true);
    expect(sameValue(undefined, null)).toBe(false);
    expect(sameValue(Number.NaN, Number.NaN, 1)).toBe(false);
  });
});

describe('what a disagreement does to the outcome', () => {
  const base = { policy: { thresholds: { auto: 0.8 }, missingConfidence: 'review', reviewOnQualityFlags: false, onModelError: 'review' } as const, confidence: 0.95, preFired: [], postFired: [], qualityFlags: [] };
  it('review and reject raise the outcome; flag and unavailable only inform; an agreement adds nothing', () => {
    const verdict = (over: object) => decideOutcome({ ...base, crossChecks: [{ name: 'c', verdict: 'disagree', onDisagree: 'review', fields: ['/label'], ...over }] });
    expect(verdict({}).outcome).toBe('review');
    expect(verdict({ onDisagree: 'reject' }).outcome).toBe('rejected');
    expect(verdict({ onDisagree: 'flag' })).toMatchObject({ outcome: 'auto', reasons: [{ kind: 'threshold' }, { kind: 'cross_check', effect: 'none' }] });
    expect(verdict({ verdict: 'unavailable', error: { code: 'UPSTREAM_TIMEOUT', message: 'late' } }).reasons[1]).toMatchObject({ code: 'checker_unavailable', effect: 'none' });
    expect(verdict({ verdict: 'agree' }).reasons).toHaveLength(1);
    expect(verdict({}).reasons[0]).toMatchObject({ kind: 'cross_check', code: 'disagreement', checker: 'c', message: 'checker c disagrees with the model on /label: a human decides' });
  });
});
