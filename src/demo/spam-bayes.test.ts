import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSpamBayesPredictor, trainSpamBayes } from './spam-bayes.js';
import moduleDefault, { createModel } from './spam-bayes-module.js';
import { loadOrTrainSpamBayes, SPAM_BAYES_FILE } from './train-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'spam-bayes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Worked by hand. Vocabulary (minDf 1, no subjects): cash, meeting, notes, prize, win (|V| = 5).
// Spam token counts: cash 3, win 1, prize 1 (total 5); ham: meeting 2, notes 1, cash 1 (total 4).
// With α = 1: P(cash|spam) = 4/10, P(cash|ham) = 2/9; P(meeting|spam) = 1/10, P(meeting|ham) = 3/9.
// The prior is even (2 and 2), so its log odds are 0.
const corpus = [
  { subject: '', body: 'cash cash win', label: 'spam' as const },
  { subject: '', body: 'cash prize', label: 'spam' as const },
  { subject: '', body: 'meeting notes', label: 'ham' as const },
  { subject: '', body: 'cash meeting', label: 'ham' as const },
];

describe('trainSpamBayes', () => {
  const weights = trainSpamBayes(corpus, { minDf: 1 });
  const predictor = createSpamBayesPredictor(weights);

  it('computes the posterior from Laplace-smoothed token counts', () => {
    expect([...weights.vocab].sort()).toEqual(['cash', 'meeting', 'notes', 'prize', 'win']);
    expect(weights.priorLogOdds).toBe(0);
    // cash and meeting: odds (4/10)/(2/9) · (1/10)/(3/9) = 1.8 · 0.3 = 0.54, so P(spam) = 0.54 / 1.54 = 27/77.
    const p = predictor.predict({ subject: '', body: 'cash meeting unknown' });
    expect(p.output.spam_probability).toBeCloseTo(27 / 77, 12);
    expect(p.output.label).toBe('ham');
    expect(p.confidence).toBeCloseTo(50 / 77, 12);
    // cash twice counts twice: odds 1.8² = 3.24, P = 3.24 / 4.24 = 81/106.
    const twice = predictor.predict({ subject: '', body: 'cash CASH' });
    expect(twice.output.spam_probability).toBeCloseTo(81 / 106, 12);
    expect(twice.output.label).toBe('spam');
    // The attribution of a token is its count times its log ratio, signed towards the label.
    expect(twice.attributions).toEqual([{ feature: 'body', token: 'cash', contribution: expect.closeTo(2 * Math.log(1.8), 12) }]);
    expect(p.attributions.map((a) => a.token)).toEqual(['meeting', 'cash']);
    expect(p.attributions[0]!.contribution).toBeCloseTo(-Math.log(0.3), 12);
  });

  it('keeps subject tokens apart from body tokens, and calls an even posterior ham', () => {
    // "cash" in the subject is s:cash, which no training message has: only the prior remains, 1/2.
    const p = predictor.predict({ subject: 'cash', body: '' });
    expect(p.output).toEqual({ label: 'ham', spam_probability: 0.5 });
    const withSubjects = trainSpamBayes([...corpus, { subject: 'cash', body: 'hello', label: 'spam' }], { minDf: 1 });
    expect(withSubjects.vocab).toContain('s:cash');
    expect(withSubjects.priorLogOdds).toBeCloseTo(Math.log(3.5 / 2.5), 12);
  });

  it('is deterministic, honours minDf, and refuses weights of another format or tokenizer', () => {
    expect(trainSpamBayes(corpus, { minDf: 1 })).toEqual(weights);
    expect(trainSpamBayes(corpus, { minDf: 2 }).vocab.sort()).toEqual(['cash', 'meeting']);
    expect(() => trainSpamBayes([])).toThrow(RangeError);
    expect(() => createSpamBayesPredictor({ ...weights, format: 'other' } as never)).toThrow(TypeError);
    expect(() => createSpamBayesPredictor({ ...weights, metadata: { ...weights.metadata, tokenizerVersion: 'tok-0' } })).toThrow(/tokenizer tok-0/);
  });
});

describe('spam-bayes-module', () => {
  it('is a factory, exported by name and as default, that predicts like the predictor and refuses bad files', () => {
    const weights = trainSpamBayes(corpus, { minDf: 1 });
    const weightsPath = join(dir, 'bayes.json');
    writeFileSync(weightsPath, JSON.stringify(weights));
    expect(moduleDefault).toBe(createModel);
    const model = createModel({ weightsPath });
    const ctx = { signal: new AbortController().signal, decisionId: 'd-1' };
    const input = { subject: '', body: 'cash meeting', from: 'x@example.com' };
    expect(model.predict(input, ctx)).toEqual(createSpamBayesPredictor(weights).predict(input));
    const aborted = new AbortController();
    aborted.abort(new Error('deadline'));
    expect(() => model.predict(input, { signal: aborted.signal, decisionId: 'd-2' })).toThrow('deadline');
    model.close();
    expect(() => model.predict(input, ctx)).toThrow(/closed/);
    writeFileSync(join(dir, 'bogus.json'), '{"format":"ballast-spam-logreg"}');
    expect(() => createModel({ weightsPath: join(dir, 'bogus.json') })).toThrow(TypeError);
    expect(() => createModel({} as never)).toThrow(/weightsPath/);
  });
});

describe('loadOrTrainSpamBayes', () => {
  it('trains on the given messages once, then loads the cache; a torn file is trained again', async () => {
    const cacheDir = join(dir, 'cache');
    const served = [{ ...corpus[0]!, id: 's1', body: 'cash win' }, { ...corpus[2]!, id: 's2', body: 'cash' }];
    const model = { train: corpus.map((m, i) => ({ ...m, id: `t${i}` })), served, split: { trainShare: 0.6 } } as never;
    const first = await loadOrTrainSpamBayes(cacheDir, model);
    expect(first.trainedNow).toBe(true);
    expect(first.weightsPath).toBe(join(cacheDir, SPAM_BAYES_FILE));
    // minDf 3 by default: only cash (in 3 messages) is known, and with one token P(cash|c) = 1 in both classes:
    // every message scores the even prior, ham on a tie, so the ham one of the two served is right.
    expect(first.weights.vocab).toEqual(['cash']);
    expect(first.heldOut).toEqual({ n: 2, accuracy: 0.5 });
    const second = await loadOrTrainSpamBayes(cacheDir, model);
    expect(second.trainedNow).toBe(false);
    expect(second.weights).toEqual(first.weights);
    expect(JSON.parse(readFileSync(first.weightsPath, 'utf8'))).toEqual(first.weights);
    writeFileSync(first.weightsPath, '{"torn');
    expect((await loadOrTrainSpamBayes(cacheDir, model)).trainedNow).toBe(true);
  });
});
