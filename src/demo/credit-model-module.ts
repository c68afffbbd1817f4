// The credit pre-check model as Ballast's `module` adapter loads it: a factory that reads the weights
// once and returns an in-process model.
import { readFileSync } from 'node:fs';
import { createCreditPredictor, type CreditInput, type CreditModelWeights, type CreditPrediction } from './credit-model.js';

export interface CreditModelOptions {
  /** Path of the JSON written from `trainCreditModel`. */
  readonly weightsPath: string;
}

export interface CreditModelCallContext {
  readonly signal: AbortSignal;
  readonly decisionId: string;
}

/** An in-process credit model; the input's protected attributes are accepted and not read. */
export interface CreditModel {
  predict(input: CreditInput, ctx: CreditModelCallContext): CreditPrediction;
  close(): void;
}

/** Reads the weights file and returns the model; throws if the file is missing or not credit-model weights. */
export function createModel(options: CreditModelOptions): CreditModel {
  // The module adapter passes the config's `options` block unchecked.
  if (typeof options?.weightsPath !== 'string') throw new TypeError('createModel needs options.weightsPath: the path of the credit model JSON');
  const weights = JSON.parse(readFileSync(options.weightsPath, 'utf8')) as CreditModelWeights;
  const predictor = createCreditPredictor(weights);
  let closed = false;
  return {
    predict(input, ctx) {
      if (closed) throw new Error('the credit model is closed');
      ctx.signal.throwIfAborted();
      return predictor.predict(input);
    },
    close() {
      closed = true;
    },
  };
}

export default createModel;
