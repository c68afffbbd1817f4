// The `contract:` block of a service's config: its TypeScript shape and the JSON Schema the config
// loader validates YAML against. Defaults live in `contractDefaults` and nowhere else.

export const fieldKinds = ['numeric', 'categorical', 'text'] as const;
/** How a field feeds the model; monitors pick their statistics by kind. */
export type FieldKind = (typeof fieldKinds)[number];

export const redactModes = ['hash', 'mask', 'drop'] as const;
/** How a pii field is replaced before anything is stored or logged. */
export type RedactMode = (typeof redactModes)[number];

/** A category value; JSON scalars only, so that equality is unambiguous. */
export type Category = string | number | boolean;

/** What the model assumes about a field's values; quality checks flag (never reject) departures. */
export interface ExpectedValues {
  readonly min?: number;
  readonly max?: number;
  readonly categories?: readonly Category[];
}

/** Annotations on one top-level property of the input or output. */
export interface FieldAnnotation {
  readonly kind?: FieldKind;
  /** Personal data: redacted (see `redact`) before anything is stored or logged. */
  readonly pii?: boolean;
  /** Only with `pii: true`; `hash` when omitted. */
  readonly redact?: RedactMode;
  /** A protected attribute for fairness monitoring. */
  readonly protected?: boolean;
  readonly expected?: ExpectedValues;
}

/** A JSON Schema 2020-12 document (`{}` accepts anything). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One side (input or output) of a contract. */
export interface ContractSideConfig {
  readonly schema: JsonSchema;
  /** Keys are top-level property names of `schema`. */
  readonly fields?: Readonly<Record<string, FieldAnnotation>>;
}

/** A service's contract as written in config. */
export interface ContractConfig {
  /** Positive integer; `contractDefaults.version` when omitted. */
  readonly version?: number;
  /** The input schema must describe an object (`type: object`). */
  readonly input: ContractSideConfig;
  readonly output: ContractSideConfig;
  /** The request `context` is free-form (no schema); its annotations mark pii keys to redact like input fields. */
  readonly context?: { readonly fields?: Readonly<Record<string, FieldAnnotation>> };
}

/** The defaults of the contract block, in one place. */
export const contractDefaults = { version: 1 } as const;

const expectedValuesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    min: { type: 'number' },
    max: { type: 'number' },
    categories: { type: 'array', minItems: 1, uniqueItems: true, items: { type: ['string', 'number', 'boolean'] } },
  },
} as const;

const fieldAnnotationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { enum: fieldKinds },
    pii: { type: 'boolean' },
    redact: { enum: redactModes },
    protected: { type: 'boolean' },
    expected: expectedValuesSchema,
  },
} as const;

const sideSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schema'],
  properties: {
    schema: { type: 'object' },
    fields: { type: 'object', additionalProperties: fieldAnnotationSchema },
  },
} as const;

/** JSON Schema 2020-12 of the `contract:` block (the schemas inside it are checked when compiled). */
export const contractConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['input', 'output'],
  properties: {
    version: { type: 'integer', minimum: 1, default: contractDefaults.version },
    input: sideSchema,
    output: sideSchema,
    context: {
      type: 'object',
      additionalProperties: false,
      properties: { fields: { type: 'object', additionalProperties: fieldAnnotationSchema } },
    },
  },
} as const;
