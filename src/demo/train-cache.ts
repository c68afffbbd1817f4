// Trains the demo's spam model once and keeps it on disk, so `ballast demo` starts in seconds the
// second time; a change to the code, the data or the hyper-parameters retrains it.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadSpamCorpus, spamDatasetVersion, splitByDate, SPAM_CORPUS_PARSER_VERSION, type SpamMessage } from './spam-corpus.js';
import {
  createSpamPredictor,
  resolveSpamHyperParameters,
  evaluateSpamModel,
  SPAM_MODEL_VERSION,
  TOKENIZER_VERSION,
  trainSpamModel,
  type SpamEvaluation,
  type SpamHyperParameters,
  type SpamModelWeights,
  type SpamTrainOptions,
} from './spam-model.js';
import { createSpamBayesPredictor, defaultSpamBayesHyperParameters, SPAM_BAYES_VERSION, trainSpamBayes, type SpamBayesWeights } from './spam-bayes.js';

export const SPAM_MODEL_FILE = 'spam-model.json';
export const SPAM_BAYES_FILE = 'spam-bayes.json';
export const OUT_OF_FOLD_FILE = 'out-of-fold-predictions.json';
/** Folds of the cross-validation that gives every training message a prediction from a model that did not see it. */
export const OUT_OF_FOLD_K = 5;

/** A training message's prediction by the model trained on the other folds. */
export interface OutOfFoldPrediction {
  readonly label: 'spam' | 'ham';
  readonly confidence: number;
}

export interface LoadOrTrainOptions {
  readonly cacheDir: string;
  /** Called with a short stage name: `loading corpus`, `training`, `loaded cached model`, `evaluating`. */
  readonly onProgress?: (stage: string) => void;
  readonly trainShare?: number;
  readonly hyperParameters?: Omit<SpamTrainOptions, 'cutDate'>;
}

export interface SpamSplitInfo {
  readonly cutDate: Date;
  readonly train: number;
  readonly served: number;
  readonly undated: number;
  readonly trainShare: number;
}

export interface TrainedSpamModel {
  readonly weightsPath: string;
  readonly weights: SpamModelWeights;
  /** Evaluation on the served (newer) messages. */
  readonly heldOut: SpamEvaluation;
  readonly trainedNow: boolean;
  /** Milliseconds spent training, when `trainedNow`. */
  readonly trainMs: number | null;
  readonly split: SpamSplitInfo;
  /** The newer messages, oldest first: the traffic the demo replays. */
  readonly served: SpamMessage[];
  /** The older messages the model was trained on: the reference monitors compare the traffic with. */
  readonly train: SpamMessage[];
  /**
   * Out-of-fold predictions for `train`, by message id: K-fold cross-validation with the same
   * hyper-parameters, so each prediction comes from a model that never saw the message. This is the
   * honest reference for calibration and CBPE (in-sample predictions are nearly all right).
   */
  readonly outOfFold: ReadonlyMap<string, OutOfFoldPrediction>;
}

/** The fold of a message: a stable hash of its id, so folds do not depend on the corpus order. */
function foldOf(id: string, k: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % k;
}

/** K-fold out-of-fold predictions for the training messages. */
export function outOfFoldPredictions(train: readonly SpamMessage[], hyper: SpamHyperParameters, k = OUT_OF_FOLD_K): Map<string, OutOfFoldPrediction> {
  const predictions = new Map<string, OutOfFoldPrediction>();
  for (let fold = 0; fold < k; fold++) {
    const fit = train.filter((m) => foldOf(m.id, k) !== fold);
    const held = train.filter((m) => foldOf(m.id, k) === fold);
    if (fit.length === 0 || held.length === 0) continue;
    const predictor = createSpamPredictor(trainSpamModel(fit, hyper));
    for (const m of held) {
      const p = predictor.predict({ subject: m.subject, body: m.body }, 0);
      predictions.set(m.id, { label: p.output.label, confidence: p.confidence });
    }
  }
  return predictions;
}

/** Identifies what a cached model was built from: code versions, dataset version, split and hyper-parameters. */
export function spamModelCacheKey(hyper: SpamHyperParameters, trainShare: number): string {
  const keyed = { SPAM_MODEL_VERSION, TOKENIZER_VERSION, SPAM_CORPUS_PARSER_VERSION, dataset: spamDatasetVersion(), trainShare, hyper };
  return createHash('sha256').update(JSON.stringify(keyed)).digest('hex').slice(0, 32);
}

/** Returns the cached spam model of `cacheDir`, training and caching it first when missing or stale. */
export async function loadOrTrainSpamModel(options: LoadOrTrainOptions): Promise<TrainedSpamModel> {
  const progress = options.onProgress ?? (() => {});
  const trainShare = options.trainShare ?? 0.6;
  const hyper = resolveSpamHyperParameters(options.hyperParameters);
  const weightsPath = join(options.cacheDir, SPAM_MODEL_FILE);
  progress('loading corpus');
  const split = splitByDate(loadSpamCorpus(), trainShare);
  const cacheKey = spamModelCacheKey(hyper, trainShare);
  let weights = await readCached(weightsPath, cacheKey);
  let trainMs: number | null = null;
  if (weights === null) {
    progress('training');
    const started = performance.now();
    const trained = trainSpamModel(split.train, { ...hyper, cutDate: split.cutDate });
    trainMs = performance.now() - started;
    weights = { ...trained, metadata: { ...trained.metadata, cacheKey } };
    await writeAtomically(weightsPath, JSON.stringify(weights));
  } else {
    progress('loaded cached model');
  }
  const outOfFold = await loadOrComputeOutOfFold(join(options.cacheDir, OUT_OF_FOLD_FILE), cacheKey, () => {
    progress(`cross-validating (${OUT_OF_FOLD_K} folds) for the monitoring reference`);
    return outOfFoldPredictions(split.train, hyper);
  });
  progress('evaluating');
  const info = { cutDate: split.cutDate, train: split.train.length, served: split.served.length, undated: split.undated, trainShare };
  return { weightsPath, weights, heldOut: evaluateSpamModel(weights, split.served), trainedNow: trainMs !== null, trainMs, split: info, served: split.served, train: split.train, outOfFold };
}

export interface TrainedSpamBayes {
  readonly weightsPath: string;
  readonly weights: SpamBayesWeights;
  readonly trainedNow: boolean;
  readonly trainMs: number | null;
  /** Accuracy on the served (newer) messages. */
  readonly heldOut: { readonly n: number; readonly accuracy: number };
}

/**
 * Returns the cached naive Bayes cross-check of `cacheDir`, training it first (on the same older messages
 * as the logistic regression: `model.train`) when missing or stale.
 */
export async function loadOrTrainSpamBayes(cacheDir: string, model: Pick<TrainedSpamModel, 'train' | 'served' | 'split'>): Promise<TrainedSpamBayes> {
  const weightsPath = join(cacheDir, SPAM_BAYES_FILE);
  const keyed = { SPAM_BAYES_VERSION, TOKENIZER_VERSION, SPAM_CORPUS_PARSER_VERSION, dataset: spamDatasetVersion(), trainShare: model.split.trainShare, hyper: defaultSpamBayesHyperParameters };
  const cacheKey = createHash('sha256').update(JSON.stringify(keyed)).digest('hex').slice(0, 32);
  let weights = await readCached<SpamBayesWeights>(weightsPath, cacheKey);
  let trainMs: number | null = null;
  if (weights === null) {
    const started = performance.now();
    const trained = trainSpamBayes(model.train);
    trainMs = performance.now() - started;
    weights = { ...trained, metadata: { ...trained.metadata, cacheKey } };
    await writeAtomically(weightsPath, JSON.stringify(weights));
  }
  const predictor = createSpamBayesPredictor(weights);
  const right = model.served.filter((m) => predictor.predict(m).output.label === m.label).length;
  return { weightsPath, weights, trainedNow: trainMs !== null, trainMs, heldOut: { n: model.served.length, accuracy: model.served.length === 0 ? Number.NaN : right / model.served.length } };
}

async function loadOrComputeOutOfFold(path: string, cacheKey: string, compute: () => Map<string, OutOfFoldPrediction>): Promise<Map<string, OutOfFoldPrediction>> {
  try {
    const cached = JSON.parse(await readFile(path, 'utf8')) as { cacheKey?: string; predictions?: Record<string, OutOfFoldPrediction> };
    if (cached.cacheKey === cacheKey && cached.predictions !== undefined) return new Map(Object.entries(cached.predictions));
  } catch {
    // Missing, torn or stale: compute again.
  }
  const predictions = compute();
  await writeAtomically(path, JSON.stringify({ cacheKey, predictions: Object.fromEntries(predictions) }));
  return predictions;
}

async function readCached<T extends { readonly metadata?: { readonly cacheKey?: string } } = SpamModelWeights>(path: string, cacheKey: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const weights = JSON.parse(text) as T;
    return weights.metadata?.cacheKey === cacheKey ? weights : null;
  } catch {
    // A torn or hand-edited file is just a stale cache.
    return null;
  }
}

async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, content, 'utf8');
    // rename is atomic within a directory: readers see the old file or the new one, never half of one.
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
