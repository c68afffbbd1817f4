// The demo's second service, `credit-precheck`, as a user would write it in ballast.yaml: a pre-check
// of a loan application on the German Credit attributes, answering approve or decline.
import { fileURLToPath } from 'node:url';
import { ageBands, type CreditProtected, type CreditRow } from './credit-data.js';
import type { CreditInput } from './credit-model.js';

/** The service's name in the config file. */
export const CREDIT_SERVICE = 'credit-precheck';
/** Who owns the credit pre-check (risk: high, so it must name them), and the runbook its alerts point to. */
export const CREDIT_OWNERS = ['team-credit-risk', 'demo-release'] as const;
export const CREDIT_RUNBOOK = 'docs/runbooks/credit-precheck.md';
/** The version the demo trains on the training rows and serves. */
export const CREDIT_FIRST_VERSION = 'credit-logreg-v1';

/** The values each categorical column takes in the data set: the contract's expected categories. */
export const creditCategories = {
  checking_status: ['<0', '0<=X<200', '>=200', 'no checking'],
  credit_history: ['no credits/all paid', 'all paid', 'existing paid', 'delayed previously', 'critical/other existing credit'],
  purpose: ['new car', 'used car', 'furniture/equipment', 'radio/tv', 'domestic appliance', 'repairs', 'education', 'retraining', 'business', 'other'],
  savings_status: ['<100', '100<=X<500', '500<=X<1000', '>=1000', 'no known savings'],
  employment: ['unemployed', '<1', '1<=X<4', '4<=X<7', '>=7'],
  other_parties: ['none', 'co applicant', 'guarantor'],
  property_magnitude: ['real estate', 'life insurance', 'car', 'no known property'],
  other_payment_plans: ['bank', 'stores', 'none'],
  housing: ['rent', 'own', 'for free'],
  job: ['unemp/unskilled non res', 'unskilled resident', 'skilled', 'high qualif/self emp/mgmt'],
  own_telephone: ['none', 'yes'],
} as const;

/** The range of each numeric column in the data set: the contract's expected min and max. */
export const creditRanges = {
  duration: { min: 4, max: 72 },
  credit_amount: { min: 250, max: 18_424 },
  installment_commitment: { min: 1, max: 4 },
  residence_since: { min: 1, max: 4 },
  existing_credits: { min: 1, max: 4 },
  num_dependents: { min: 1, max: 2 },
} as const;

/** The protected attributes and their groups; in the input for the fairness monitors, not read by the model. */
export const creditProtectedValues = {
  sex: ['female', 'male'],
  age_band: ageBands,
  foreign_worker: ['yes', 'no'],
} as const;

/** Above this amount (Deutsche Mark; the data set's largest is 18,424) an application is high stakes. */
export const CREDIT_LARGE_AMOUNT = 10_000;

export const creditModelCard = {
  intendedUse: 'Pre-check a consumer loan application: approve when a good risk is likely; a person decides every uncertain case and confirms declines',
  limits: [
    'Trained on 1,000 applications to one German bank in the 1970s–90s (Statlog German Credit): not today’s applicants or products',
    'Does not read sex, age or foreign-worker status, but other attributes stand in for them: the fairness monitors judge what it does to each group',
    'Amounts are Deutsche Mark',
  ],
} as const;

/** A model entry of the service running the credit model module over a weights file. */
export function creditModelEntry(weightsPath: string, description: string, options: { readonly modulePath?: string; readonly registry?: Readonly<Record<string, unknown>> } = {}): Record<string, unknown> {
  return {
    description,
    timeoutMs: 1000,
    adapter: {
      kind: 'module',
      // Built, this file is dist/demo/credit-config.js and the module its sibling; tests pass the built path.
      path: options.modulePath ?? fileURLToPath(new URL('./credit-model-module.js', import.meta.url)),
      export: 'createModel',
      options: { weightsPath },
    },
    artifacts: [{ name: 'weights', path: weightsPath }],
    card: creditModelCard,
    ...options.registry,
  };
}

export interface CreditConfigOptions {
  /** The module file (default: credit-model-module.js beside this file, right once built). */
  readonly modulePath?: string;
  /** Registry fields of the first version (training data, evaluation). */
  readonly registry?: Readonly<Record<string, unknown>>;
  /** Merged over the monitoring block (window, timestamp, alerts: the demo's to choose). */
  readonly monitoring?: Readonly<Record<string, unknown>>;
}

/** The service's input for a row: the model's 17 attributes and the 3 protected ones (raw age and personal_status are not sent). */
export function creditRequestInput(row: CreditRow): CreditRequestInput {
  const names = [...Object.keys(creditRanges), ...Object.keys(creditCategories), ...Object.keys(creditProtectedValues)] as (keyof CreditRow)[];
  return Object.fromEntries(names.map((name) => [name, row[name]])) as unknown as CreditRequestInput;
}

/** What a caller sends to `credit-precheck`. */
export type CreditRequestInput = CreditInput & CreditProtected;

const categorical = (values: readonly string[], extra: Record<string, unknown> = {}) => ({ kind: 'categorical', expected: { categories: [...values] }, ...extra });
const numeric = (range: { readonly min: number; readonly max: number }) => ({ kind: 'numeric', expected: { min: range.min, max: range.max } });

/** The `credit-precheck` service block for `services:` in the config file. */
export function creditServiceConfig(weightsPath: string, options: CreditConfigOptions = {}): Record<string, unknown> {
  const categoricalNames = Object.keys(creditCategories) as (keyof typeof creditCategories)[];
  const numericNames = Object.keys(creditRanges) as (keyof typeof creditRanges)[];
  const protectedNames = Object.keys(creditProtectedValues) as (keyof typeof creditProtectedValues)[];
  return {
    description: 'Pre-checks a loan application: approve or decline. Model: logistic regression on the Statlog German Credit attributes, trained by the Ballast demo; it does not read the protected attributes.',
    owners: [...CREDIT_OWNERS],
    // The on-call and escalation routes are the demo's receivers, added where they run (demo-command).
    ownership: { runbook: CREDIT_RUNBOOK },
    contract: {
      version: 1,
      input: {
        schema: {
          type: 'object',
          required: [...numericNames, ...categoricalNames, ...protectedNames],
          additionalProperties: false,
          properties: {
            ...Object.fromEntries(numericNames.map((name) => [name, { type: 'integer', minimum: 0, maximum: name === 'credit_amount' ? 1_000_000 : 1000 }])),
            // Free strings, not enums: an unseen value is flagged by the expected categories and reviewed, not refused.
            ...Object.fromEntries(categoricalNames.map((name) => [name, { type: 'string', minLength: 1, maxLength: 100 }])),
            // Enums: a fairness group must be one of a known few, or the groups cannot be compared.
            ...Object.fromEntries(protectedNames.map((name) => [name, { enum: [...creditProtectedValues[name]] }])),
          },
        },
        // No field is pii: the data set holds no names, addresses or identifiers.
        fields: {
          ...Object.fromEntries(numericNames.map((name) => [name, numeric(creditRanges[name])])),
          ...Object.fromEntries(categoricalNames.map((name) => [name, categorical(creditCategories[name])])),
          ...Object.fromEntries(protectedNames.map((name) => [name, categorical(creditProtectedValues[name], { protected: true })])),
        },
      },
      output: {
        schema: {
          type: 'object',
          required: ['label', 'good_probability'],
          additionalProperties: false,
          properties: {
            label: { enum: ['approve', 'decline'] },
            good_probability: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
        fields: {
          label: { kind: 'categorical', expected: { categories: ['approve', 'decline'] } },
          good_probability: { kind: 'numeric', expected: { min: 0, max: 1 } },
        },
      },
    },
    policy: {
      // Confident answers are automatic. No reject threshold: an unsure model must not decline anyone on
      // its own, so whatever is below `auto` goes to a person.
      thresholds: { auto: 0.8 },
      onModelError: 'review',
      // An input outside what the model was trained on (an unseen category, an amount beyond the range) is a person's call.
      reviewOnQualityFlags: true,
      rules: [
        {
          name: 'large-amount',
          stage: 'pre',
          when: `input.credit_amount > ${CREDIT_LARGE_AMOUNT}`,
          action: 'review',
          stakes: 'high',
          reason: `A loan above ${CREDIT_LARGE_AMOUNT.toLocaleString('en')} is decided by two reviewers, whatever the model says`,
        },
        {
          name: 'decline-needs-confidence',
          stage: 'post',
          when: 'output.label == "decline" && (confidence == null || confidence < 0.9)',
          action: 'review',
          reason: 'A decline is an adverse action: the model declines on its own only when at least 90% sure; below that a person decides',
        },
      ],
    },
    models: {
      [CREDIT_FIRST_VERSION]: creditModelEntry(weightsPath, 'L2 logistic regression on one-hot categoricals and standardised numerics, trained on 70% of the applicants', options),
    },
    live: CREDIT_FIRST_VERSION,
    // Credit decisions about people: a new version needs a passed analysis and approvals (gates by tier).
    risk: 'high',
    monitoring: {
      // Every monitor also runs per group of each protected attribute (foreign_worker=no is 37 of 1,000:
      // its windows mostly stay below minSamples and say so rather than guess).
      segments: [...protectedNames],
      outputLabel: '/label',
      // Bad risks are the minority; precision and recall are about finding them.
      performance: { positiveLabel: 'decline' },
      ...options.monitoring,
    },
    // Selection rates and error rates across the protected groups; favourable is an approval.
    fairness: {
      favourable: { pointer: '/label', equals: 'approve' },
      fields: [...protectedNames],
    },
  };
}
