// The demo's credit pre-check model: L2-regularised logistic regression predicting P(good risk) from
// one-hot categoricals and standardised numerics, fitted by Newton's method (IRLS), by hand like the
// spam model, so the demo has a real model with no dependencies.
//
// The protected attributes and what they are derived from (personal_status, age, foreign_worker) are not
// features. That does not make the model fair: the other columns carry them by proxy (employment length
// and housing track age, for one), and the training labels carry whatever the 1994 decisions did. The
// fairness monitors judge what the model's answers do to each group; leaving the columns out only means
// the model cannot read them directly.
import type { CreditCategoricalColumn, CreditNumericColumn, CreditRecord } from './credit-data.js';

/** Bump when training or features change what `trainCreditModel` produces. */
export const CREDIT_MODEL_VERSION = 'credit-logreg-1';
const FEATURES = 'one-hot categoricals (levels seen in training), numerics standardised by the training mean and sd';

/** Columns the model may not read: the protected attributes and what they are derived from. */
export const creditExcludedColumns = ['personal_status', 'age', 'foreign_worker'] as const;

export const creditNumericFeatures = ['duration', 'credit_amount', 'installment_commitment', 'residence_since', 'existing_credits', 'num_dependents'] as const satisfies readonly CreditNumericColumn[];
export const creditCategoricalFeatures = [
  'checking_status',
  'credit_history',
  'purpose',
  'savings_status',
  'employment',
  'other_parties',
  'property_magnitude',
  'other_payment_plans',
  'housing',
  'job',
  'own_telephone',
] as const satisfies readonly CreditCategoricalColumn[];

export type CreditNumericFeature = (typeof creditNumericFeatures)[number];
export type CreditCategoricalFeature = (typeof creditCategoricalFeatures)[number];

/** What the model reads from an applicant; other keys (the protected attributes among them) are ignored. */
export type CreditInput = { readonly [K in CreditNumericFeature]: number } & { readonly [K in CreditCategoricalFeature]: string };

/** A training or evaluation example (a CreditRow is one). */
export type LabelledCreditInput = CreditInput & Pick<CreditRecord, 'class'>;

export interface CreditTrainOptions {
  /** Coefficient λ of (λ/2)·‖w‖² added to the mean log-loss; the bias is not penalised. */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Newton stops when the largest step of a parameter is below it. */
  readonly tolerance?: number;
}

export type CreditHyperParameters = Required<CreditTrainOptions>;

export const defaultCreditHyperParameters: Readonly<CreditHyperParameters> = Object.freeze({ l2: 0.01, maxIterations: 50, tolerance: 1e-10 });

/** A trained model as a JSON-serialisable object. */
export interface CreditModelWeights {
  readonly format: 'ballast-credit-logreg';
  readonly version: string;
  readonly bias: number;
  readonly numeric: readonly { readonly name: CreditNumericFeature; readonly mean: number; readonly sd: number; readonly weight: number }[];
  /** `share`: the level's frequency in training, the baseline attributions are measured from. */
  readonly categorical: readonly { readonly name: CreditCategoricalFeature; readonly levels: readonly { readonly value: string; readonly weight: number; readonly share: number }[] }[];
  readonly metadata: CreditModelMetadata;
}

export interface CreditModelMetadata {
  readonly features: string;
  readonly excluded: readonly string[];
  readonly hyperParameters: CreditHyperParameters;
  readonly training: { readonly n: number; readonly good: number; readonly bad: number };
  readonly iterations: number;
  /** Mean regularised log-loss on the training set at the end. */
  readonly trainLoss: number;
}

export interface CreditAttribution {
  readonly feature: string;
  /** Log-odds against the training average for this feature, positive when it pushed towards the predicted label. */
  readonly contribution: number;
}

/** `approve`: the model thinks a good risk more likely than not. */
export type CreditLabel = 'approve' | 'decline';

export interface CreditPrediction {
  readonly output: { readonly label: CreditLabel; readonly good_probability: number };
  /** max(p, 1 − p). */
  readonly confidence: number;
  /** Every feature, largest |contribution| first. */
  readonly attributions: CreditAttribution[];
}

export interface CreditEvaluation {
  readonly n: number;
  readonly accuracy: number;
  /** The accuracy of always answering the majority class of these rows. */
  readonly majorityAccuracy: number;
  readonly brier: number;
  readonly logLoss: number;
  /** Positive is `approve` (good). */
  readonly confusion: { readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number };
}

/** A layout of the design matrix: column j of a row, bias excluded. */
interface Design {
  readonly numeric: { name: CreditNumericFeature; mean: number; sd: number }[];
  readonly categorical: { name: CreditCategoricalFeature; levels: string[]; index: Map<string, number>; offset: number }[];
  readonly dim: number;
}

function buildDesign(train: readonly LabelledCreditInput[]): Design {
  const n = train.length;
  const numeric = creditNumericFeatures.map((name) => {
    const values = train.map((row) => numberOf(row[name], name));
    const mean = values.reduce((s, v) => s + v, 0) / n;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    // A constant column carries nothing; sd 1 keeps it at zero instead of dividing by zero.
    return { name, mean, sd: variance > 0 ? Math.sqrt(variance) : 1 };
  });
  let offset = numeric.length;
  const categorical = creditCategoricalFeatures.map((name) => {
    const levels = [...new Set(train.map((row) => row[name]))].sort();
    const entry = { name, levels, index: new Map(levels.map((level, i) => [level, offset + i])), offset };
    offset += levels.length;
    return entry;
  });
  return { numeric, categorical, dim: offset };
}

/** The row's features: numeric values by column, and the column of each categorical's level (−1: unseen). */
function encode(design: Design, row: CreditInput, x: Float64Array, active: Int32Array): void {
  design.numeric.forEach((f, j) => {
    const v = Number(row[f.name]);
    // A missing number counts as the training mean (the contract keeps them out; this keeps a stray one harmless).
    x[j] = Number.isFinite(v) ? (v - f.mean) / f.sd : 0;
  });
  design.categorical.forEach((f, k) => {
    active[k] = f.index.get(String(row[f.name])) ?? -1;
  });
}

/** Trains the model on labelled applicants; deterministic (Newton from zero, rows in the given order). */
export function trainCreditModel(train: readonly LabelledCreditInput[], options: CreditTrainOptions = {}): CreditModelWeights {
  if (train.length === 0) throw new RangeError('trainCreditModel needs at least one row');
  const hyper: CreditHyperParameters = { l2: options.l2 ?? defaultCreditHyperParameters.l2, maxIterations: options.maxIterations ?? defaultCreditHyperParameters.maxIterations, tolerance: options.tolerance ?? defaultCreditHyperParameters.tolerance };
  const design = buildDesign(train);
  const n = train.length;
  const p = design.dim + 1; // bias last
  // Dense rows: 55 columns × 700 rows is small, and Newton needs X'WX anyway.
  const X = train.map((row) => {
    const x = new Float64Array(p);
    const active = new Int32Array(design.categorical.length);
    encode(design, row, x, active);
    for (const j of active) if (j >= 0) x[j] = 1;
    x[design.dim] = 1;
    return x;
  });
  const y = train.map((row) => (row.class === 'good' ? 1 : 0));
  const beta = new Float64Array(p);
  const good = y.reduce<number>((s, v) => s + v, 0);
  beta[design.dim] = Math.log((good + 0.5) / (n - good + 0.5));
  let iterations = 0;
  for (; iterations < hyper.maxIterations; iterations++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      const mu = sigmoid(dot(beta, x));
      const r = mu - y[i]!;
      const w = mu * (1 - mu);
      for (let a = 0; a < p; a++) {
        const xa = x[a]!;
        if (xa === 0) continue;
        grad[a]! += r * xa;
        for (let b = 0; b <= a; b++) hess[a * p + b]! += w * xa * x[b]!;
      }
    }
    for (let a = 0; a < p; a++) {
      grad[a] = grad[a]! / n + (a < design.dim ? hyper.l2 * beta[a]! : 0);
      for (let b = 0; b <= a; b++) hess[a * p + b] = hess[a * p + b]! / n + (a === b ? (a < design.dim ? hyper.l2 : 1e-12) : 0);
    }
    const step = choleskySolve(hess, grad, p);
    let largest = 0;
    for (let a = 0; a < p; a++) {
      beta[a]! -= step[a]!;
      largest = Math.max(largest, Math.abs(step[a]!));
    }
    if (largest < hyper.tolerance) {
      iterations++;
      break;
    }
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = dot(beta, X[i]!);
    loss += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i]! * z;
  }
  let norm = 0;
  for (let a = 0; a < design.dim; a++) norm += beta[a]! ** 2;
  const shares = design.categorical.map((f) => {
    const counts = new Map<string, number>();
    for (const row of train) counts.set(row[f.name], (counts.get(row[f.name]) ?? 0) + 1);
    return counts;
  });
  return {
    format: 'ballast-credit-logreg',
    version: CREDIT_MODEL_VERSION,
    bias: beta[design.dim]!,
    numeric: design.numeric.map((f, j) => ({ name: f.name, mean: f.mean, sd: f.sd, weight: beta[j]! })),
    categorical: design.categorical.map((f, k) => ({ name: f.name, levels: f.levels.map((value, i) => ({ value, weight: beta[f.offset + i]!, share: shares[k]!.get(value)! / n })) })),
    metadata: { features: FEATURES, excluded: [...creditExcludedColumns], hyperParameters: hyper, training: { n, good, bad: n - good }, iterations, trainLoss: loss / n + 0.5 * hyper.l2 * norm },
  };
}

/** A model compiled for prediction. */
export interface CreditPredictor {
  predict(input: CreditInput): CreditPrediction;
}

/** Compiles weights into a predictor; throws TypeError if they are not credit-model weights of this code's features. */
export function createCreditPredictor(model: CreditModelWeights): CreditPredictor {
  const raw = model as unknown as Partial<Record<string, unknown>> | null;
  if (raw?.format !== 'ballast-credit-logreg' || !Array.isArray(raw.numeric) || !Array.isArray(raw.categorical)) throw new TypeError('not credit-model weights: format, numeric or categorical missing');
  // Weights of other features would run without error and predict nonsense.
  const names = [...model.numeric.map((f) => f.name), ...model.categorical.map((f) => f.name)];
  const expected = [...creditNumericFeatures, ...creditCategoricalFeatures];
  if (model.metadata?.features !== FEATURES || names.join() !== expected.join()) throw new TypeError(`credit-model weights were made for features ${names.join(', ')} ("${model.metadata?.features}"); this code has ${expected.join(', ')} ("${FEATURES}")`);
  const levels = model.categorical.map((f) => new Map(f.levels.map((l) => [l.value, l.weight])));
  // The log-odds of the training average: attributions are measured from it, so they sum to z − base.
  const averages = model.categorical.map((f) => f.levels.reduce((s, l) => s + l.share * l.weight, 0));
  const base = model.bias + averages.reduce((s, v) => s + v, 0);
  return {
    predict(input) {
      const row = (input ?? {}) as Partial<Record<string, unknown>>;
      const parts: { feature: string; logit: number }[] = [];
      for (const f of model.numeric) {
        const v = Number(row[f.name]);
        parts.push({ feature: f.name, logit: Number.isFinite(v) ? (f.weight * (v - f.mean)) / f.sd : 0 });
      }
      model.categorical.forEach((f, k) => {
        // An unseen level has no weight of its own: it scores as zero, which is below or above the average.
        parts.push({ feature: f.name, logit: (levels[k]!.get(String(row[f.name])) ?? 0) - averages[k]! });
      });
      const z = parts.reduce((s, part) => s + part.logit, base);
      const p = sigmoid(z);
      // A tie is a decline: approve only when a good risk is more likely than not.
      const label: CreditLabel = p > 0.5 ? 'approve' : 'decline';
      const sign = label === 'approve' ? 1 : -1;
      const attributions = parts.map((part) => ({ feature: part.feature, contribution: sign * part.logit })).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.feature < b.feature ? -1 : 1));
      return { output: { label, good_probability: p }, confidence: Math.max(p, 1 - p), attributions };
    },
  };
}

/** Accuracy against the majority baseline, Brier score, log-loss and the confusion matrix (approve positive). */
export function evaluateCreditModel(model: CreditModelWeights, rows: readonly LabelledCreditInput[]): CreditEvaluation {
  const predictor = createCreditPredictor(model);
  const confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  let brier = 0;
  let logLoss = 0;
  let good = 0;
  for (const row of rows) {
    const p = predictor.predict(row).output.good_probability;
    const y = row.class === 'good' ? 1 : 0;
    good += y;
    brier += (p - y) ** 2;
    logLoss -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, y === 1 ? p : 1 - p)));
    if (p > 0.5) confusion[y === 1 ? 'tp' : 'fp'] += 1;
    else confusion[y === 1 ? 'fn' : 'tn'] += 1;
  }
  const n = rows.length;
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return { n, accuracy: ratio(confusion.tp + confusion.tn, n), majorityAccuracy: ratio(Math.max(good, n - good), n), brier: ratio(brier, n), logLoss: ratio(logLoss, n), confusion };
}

function numberOf(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`training row has ${name} ${JSON.stringify(value)}, not a finite number`);
  return value;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Solves H·x = g for a symmetric positive-definite H given by its lower triangle (row-major p×p). */
function choleskySolve(h: Float64Array, g: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = h[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError('trainCreditModel: the Hessian is not positive definite (is l2 zero?)');
        l[i * p + i] = Math.sqrt(s);
      } else {
        l[i * p + j] = s / l[j * p + j]!;
      }
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = g[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * z[k]!;
    z[i] = s / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  return x;
}
