// The demo's second, simpler spam model: multinomial naive Bayes with Laplace smoothing over the same
// tokens as the logistic regression (spam-model.ts). It serves as a cross-check of the live model: two
// models that agree on the mail they were trained on drift apart when the mail changes.
import { scanTokens, TOKENIZER_VERSION, type LabelledSpamInput, type SpamInput, type SpamPrediction } from './spam-model.js';

/** Bump when training or features change what `trainSpamBayes` produces (it keys the model cache). */
export const SPAM_BAYES_VERSION = 'spam-bayes-1';
const SUBJECT_PREFIX = 's:';
const FEATURES = 'token counts over subject (s: prefix) and body tokens; tokens outside the vocabulary ignored';

export interface SpamBayesOptions {
  /** Laplace (add-α) smoothing of the token counts per class. */
  readonly alpha?: number;
  /** A token enters the vocabulary if at least this many training messages contain it. */
  readonly minDf?: number;
  readonly maxVocab?: number;
}

export type SpamBayesHyperParameters = Required<SpamBayesOptions>;

export const defaultSpamBayesHyperParameters: Readonly<SpamBayesHyperParameters> = Object.freeze({ alpha: 1, minDf: 3, maxVocab: 20_000 });

/** A trained naive Bayes model as a JSON-serialisable object. */
export interface SpamBayesWeights {
  readonly format: 'ballast-spam-bayes';
  readonly version: string;
  /** Subject tokens carry the `s:` prefix. */
  readonly vocab: string[];
  /** log P(token | spam) − log P(token | ham), per vocabulary token. */
  readonly logRatio: number[];
  /** log P(spam) − log P(ham), from the class counts. */
  readonly priorLogOdds: number;
  readonly metadata: {
    readonly tokenizerVersion: string;
    readonly features: string;
    readonly hyperParameters: SpamBayesHyperParameters;
    readonly training: { readonly n: number; readonly spam: number; readonly ham: number };
    /** Set by the training cache: which code, data and hyper-parameters produced this file. */
    readonly cacheKey?: string;
  };
}

/** Calls `emit` for each token of a message: subject tokens prefixed, then body tokens. */
function eachToken(subject: string, body: string, emit: (token: string) => void): void {
  scanTokens(subject, (t) => emit(SUBJECT_PREFIX + t));
  scanTokens(body, emit);
}

/**
 * Trains multinomial naive Bayes: P(t | c) = (count(t, c) + α) / (Σ count(·, c) + α·|V|) over the
 * vocabulary V of tokens in at least minDf messages; the prior is the class share. Deterministic.
 */
export function trainSpamBayes(train: readonly LabelledSpamInput[], options: SpamBayesOptions = {}): SpamBayesWeights {
  if (train.length === 0) throw new RangeError('trainSpamBayes needs at least one message');
  const hyper: SpamBayesHyperParameters = { ...defaultSpamBayesHyperParameters, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const df = new Map<string, number>();
  const seen = new Set<string>();
  for (const m of train) {
    seen.clear();
    eachToken(m.subject, m.body, (t) => {
      if (seen.has(t)) return;
      seen.add(t);
      df.set(t, (df.get(t) ?? 0) + 1);
    });
  }
  const vocab = [...df]
    .filter(([, n]) => n >= hyper.minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, hyper.maxVocab)
    .map(([token]) => token);
  const index = new Map(vocab.map((t, i) => [t, i]));
  const counts = { spam: new Float64Array(vocab.length), ham: new Float64Array(vocab.length) };
  const totals = { spam: 0, ham: 0 };
  let spam = 0;
  for (const m of train) {
    if (m.label === 'spam') spam++;
    const row = counts[m.label];
    eachToken(m.subject, m.body, (t) => {
      const i = index.get(t);
      if (i === undefined) return;
      row[i]! += 1;
      totals[m.label] += 1;
    });
  }
  const ham = train.length - spam;
  const denominator = { spam: totals.spam + hyper.alpha * vocab.length, ham: totals.ham + hyper.alpha * vocab.length };
  const logRatio = vocab.map((_, i) => Math.log((counts.spam[i]! + hyper.alpha) / denominator.spam) - Math.log((counts.ham[i]! + hyper.alpha) / denominator.ham));
  // Add-½ keeps the prior finite when one class is absent from the training messages.
  const priorLogOdds = Math.log((spam + 0.5) / (ham + 0.5));
  return {
    format: 'ballast-spam-bayes',
    version: SPAM_BAYES_VERSION,
    vocab,
    logRatio,
    priorLogOdds,
    metadata: { tokenizerVersion: TOKENIZER_VERSION, features: FEATURES, hyperParameters: hyper, training: { n: train.length, spam, ham } },
  };
}

/** A naive Bayes model compiled for prediction. */
export interface SpamBayesPredictor {
  /** The posterior from the counts of known tokens; attributions are the top-10 tokens by |count × log ratio|. */
  predict(input: SpamInput): SpamPrediction;
}

/** Compiles naive Bayes weights; throws on weights of another format or tokenizer. */
export function createSpamBayesPredictor(model: SpamBayesWeights): SpamBayesPredictor {
  if (model.format !== 'ballast-spam-bayes' || model.vocab.length !== model.logRatio.length) throw new TypeError('not spam-bayes weights: format or vocab/logRatio length mismatch');
  const { tokenizerVersion, features } = model.metadata ?? {};
  if (tokenizerVersion !== TOKENIZER_VERSION || features !== FEATURES) throw new TypeError(`spam-bayes weights were made for tokenizer ${tokenizerVersion} with "${features}"; this code has ${TOKENIZER_VERSION} with "${FEATURES}"`);
  const index = new Map(model.vocab.map((t, i) => [t, i]));
  const ratio = Float64Array.from(model.logRatio);
  return {
    predict(input) {
      const counts = new Map<number, number>();
      eachToken(text(input.subject), text(input.body), (t) => {
        const i = index.get(t);
        if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
      });
      let z = model.priorLogOdds;
      for (const [i, n] of counts) z += n * ratio[i]!;
      const p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      // A tie is ham, as in the logistic regression.
      const sign = p > 0.5 ? 1 : -1;
      const attributions = [...counts]
        .map(([i, n]) => ({ i, contribution: sign * n * ratio[i]! }))
        .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.i - b.i)
        .slice(0, 10)
        .map(({ i, contribution }) => {
          const token = model.vocab[i]!;
          const subject = token.startsWith(SUBJECT_PREFIX);
          return { feature: subject ? ('subject' as const) : ('body' as const), token: subject ? token.slice(SUBJECT_PREFIX.length) : token, contribution };
        });
      return { output: { label: sign > 0 ? 'spam' : 'ham', spam_probability: p }, confidence: Math.max(p, 1 - p), attributions };
    },
  };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
