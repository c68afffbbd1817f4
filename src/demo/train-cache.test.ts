import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateSpamModel } from './spam-model.js';
import { loadOrTrainSpamModel, OUT_OF_FOLD_FILE, SPAM_MODEL_FILE } from './train-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'spam-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrTrainSpamModel', () => {
  it('trains once, then loads the cache, and retrains when the cache is stale', async () => {
    const cacheDir = join(dir, 'nested', 'cache');
    const stages: string[] = [];
    const first = await loadOrTrainSpamModel({ cacheDir, onProgress: (s) => stages.push(s) });
    expect(first.trainedNow).toBe(true);
    expect(stages).toEqual(['loading corpus', 'training', 'cross-validating (5 folds) for the monitoring reference', 'evaluating']);
    expect(first.weightsPath).toBe(join(cacheDir, SPAM_MODEL_FILE));
    expect(readdirSync(cacheDir).sort()).toEqual([OUT_OF_FOLD_FILE, SPAM_MODEL_FILE].sort());
    // Every training message has an out-of-fold prediction, and those are honest: the model that made
    // each never saw the message, so they are right less often than the final model on its own training data.
    expect(first.train.every((m) => first.outOfFold.has(m.id))).toBe(true);
    const outOfFold = first.train.filter((m) => first.outOfFold.get(m.id)!.label === m.label).length / first.train.length;
    const inSample = evaluateSpamModel(first.weights, first.train).accuracy;
    expect(outOfFold).toBeLessThan(inSample);
    expect(outOfFold).toBeGreaterThan(0.8);
    expect(first.split.train + first.split.served + first.split.undated).toBe(6046);
    expect(first.served).toHaveLength(first.split.served);
    expect(first.served.every((m) => m.date !== null && m.date > first.split.cutDate)).toBe(true);
    expect(first.heldOut).toEqual(evaluateSpamModel(first.weights, first.served));
    expect(first.weights.metadata.training.cutDate).toBe(first.split.cutDate.toISOString());

    const secondStages: string[] = [];
    const second = await loadOrTrainSpamModel({ cacheDir, onProgress: (s) => secondStages.push(s) });
    expect(second.trainedNow).toBe(false);
    expect(secondStages).toEqual(['loading corpus', 'loaded cached model', 'evaluating']);
    expect(second.outOfFold).toEqual(first.outOfFold);
    expect(second.weights).toEqual(first.weights);
    expect(second.heldOut).toEqual(first.heldOut);

    writeFileSync(first.weightsPath, '{"torn');
    const third = await loadOrTrainSpamModel({ cacheDir });
    expect(third.trainedNow).toBe(true);
    expect(third.weights).toEqual(first.weights);
    expect(readdirSync(cacheDir).sort()).toEqual([OUT_OF_FOLD_FILE, SPAM_MODEL_FILE].sort());
  });

  it('retrains when the cache key differs (other hyper-parameters, code or data)', async () => {
    const cacheDir = join(dir, 'hyper');
    const one = await loadOrTrainSpamModel({ cacheDir, hyperParameters: { epochs: 1 } });
    const two = await loadOrTrainSpamModel({ cacheDir, hyperParameters: { epochs: 2 } });
    expect(two.trainedNow).toBe(true);
    expect(two.weights.metadata.hyperParameters.epochs).toBe(2);
    expect(two.weights.metadata.cacheKey).not.toBe(one.weights.metadata.cacheKey);
    const onDisk = JSON.parse(readFileSync(two.weightsPath, 'utf8')) as { metadata: { cacheKey: string } };
    expect(onDisk.metadata.cacheKey).toBe(two.weights.metadata.cacheKey);
  });
});
