// The naive Bayes cross-check as Ballast's `module` adapter loads it: a factory that reads the weights
// once and returns an in-process model with the spam model's input and output.
import { readFileSync } from 'node:fs';
import { createSpamBayesPredictor, type SpamBayesWeights } from './spam-bayes.js';
import type { SpamModel, SpamModelOptions } from './spam-model-module.js';

/** Reads the weights file (`options.weightsPath`, written by `trainSpamBayes`) and returns the model. */
export function createModel(options: SpamModelOptions): SpamModel {
  // The module adapter passes the config's `options` block unchecked.
  if (typeof options?.weightsPath !== 'string') throw new TypeError('createModel needs options.weightsPath: the path of spam-bayes.json');
  const predictor = createSpamBayesPredictor(JSON.parse(readFileSync(options.weightsPath, 'utf8')) as SpamBayesWeights);
  let closed = false;
  return {
    predict(input, ctx) {
      if (closed) throw new Error('the naive Bayes model is closed');
      ctx.signal.throwIfAborted();
      return predictor.predict(input ?? {});
    },
    close() {
      closed = true;
    },
  };
}

export default createModel;
