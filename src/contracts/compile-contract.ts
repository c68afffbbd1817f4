// Compiles a contract once at config time; the hot path only calls the compiled functions.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { BallastError, type Issue, type Result } from '../errors/index.js';
import { checkQuality, type QualityFlag } from './check-quality.js';
import { contractConfigSchema, contractDefaults, type ContractConfig, type FieldAnnotation, type JsonSchema } from './contract-config.js';
import { checkFieldAnnotations } from './field-annotations.js';
import { appendPointer } from './json-pointer.js';
import { createRedactionKey, maskedValue, piiStringsOf, redactionsOf, redactRecord } from './redact.js';
import { createAjv, createSchemaValidator, schemaProblems, wrapValidateFunction, type SchemaValidator } from './schema-validator.js';

export interface CompileContractOptions {
  /** Secret for the keyed hash of pii fields (`redact: hash`); the CLI reads it from the environment. */
  readonly redactionKey: string;
}

/** A compiled contract: validation, quality checks and redaction for one service version. */
export interface Contract {
  readonly version: number;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  /** Input annotations by field name; every pii field has its `redact` filled in. */
  readonly inputFields: ReadonlyMap<string, FieldAnnotation>;
  readonly outputFields: ReadonlyMap<string, FieldAnnotation>;
  /** Checks a value against the input schema, listing every violation. */
  validateInput(value: unknown): Result<Record<string, unknown>>;
  /** Checks a model output against the output schema, listing every violation. */
  validateOutput(value: unknown): Result<unknown>;
  /** Flags (never rejects) input values that depart from the annotations; call after `validateInput`. */
  checkQuality(input: Readonly<Record<string, unknown>>): QualityFlag[];
  /** A copy of the input with pii fields redacted. */
  redactInput(input: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** A copy of the output with pii fields redacted (outputs that are not objects are returned as they are). */
  redactOutput(output: unknown): unknown;
  /** Context annotations by key (`contract.context.fields`). */
  readonly contextFields: ReadonlyMap<string, FieldAnnotation>;
  /** A copy of the request context with pii keys redacted. */
  redactContext(context: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /**
   * `text` (e.g. an upstream's error message, which may echo the request) with every pii value of
   * this input and context replaced by `***`.
   */
  scrubPii(text: string, input: Readonly<Record<string, unknown>>, context?: Readonly<Record<string, unknown>> | null): string;
}

let configValidator: SchemaValidator<ContractConfig> | undefined;

/** Compiles a contract block; an unusable one throws CONFIG_INVALID with pointers inside the block. */
export function compileContract(config: ContractConfig, options: CompileContractOptions): Contract {
  configValidator ??= createSchemaValidator<ContractConfig>(contractConfigSchema, { subject: 'the contract' });
  const shape = configValidator(config);
  if (!shape.ok) throw invalid(shape.issues);
  if (options.redactionKey === '') throw invalid([{ pointer: '', code: 'redaction_key', message: 'the redaction key must not be empty' }]);

  const ajv = createAjv();
  const input = schemaProblems(ajv, config.input.schema, '/input/schema');
  const output = schemaProblems(ajv, config.output.schema, '/output/schema');
  const issues: Issue[] = [...input.issues, ...output.issues];
  if (config.input.schema.type !== 'object') {
    issues.push({ pointer: '/input/schema/type', code: 'not_object', message: 'the input schema must have type object' });
  }
  issues.push(...checkFieldAnnotations(config.input, '/input'), ...checkFieldAnnotations(config.output, '/output'));
  if (issues.length > 0 || input.validate === undefined || output.validate === undefined) throw invalid(issues);

  return buildContract(config, input.validate, output.validate, options.redactionKey);
}

function buildContract(config: ContractConfig, validateIn: ValidateFunction, validateOut: ValidateFunction, redactionKey: string): Contract {
  const inputFields = normalizeFields(config.input.fields);
  const outputFields = normalizeFields(config.output.fields);
  const inputRedactions = redactionsOf(inputFields);
  const outputRedactions = redactionsOf(outputFields);
  const contextFields = normalizeFields(config.context?.fields);
  const contextRedactions = redactionsOf(contextFields);
  const key = createRedactionKey(redactionKey);
  const input = wrapValidateFunction<Record<string, unknown>>(config.input.schema, validateIn, { subject: 'the input', hideValue: isPiiPointer(inputFields) });
  const output = wrapValidateFunction<unknown>(config.output.schema, validateOut, { subject: 'the output', hideValue: isPiiPointer(outputFields) });
  return Object.freeze({
    version: config.version ?? contractDefaults.version,
    inputSchema: config.input.schema,
    outputSchema: config.output.schema,
    inputFields,
    outputFields,
    validateInput: input,
    validateOutput: output,
    checkQuality: (value: Readonly<Record<string, unknown>>) => checkQuality(value, inputFields),
    redactInput: (value: Readonly<Record<string, unknown>>) => redactRecord(value, inputRedactions, key),
    redactOutput: (value: unknown) => (isRecord(value) && outputRedactions.size > 0 ? redactRecord(value, outputRedactions, key) : value),
    contextFields,
    redactContext: (value: Readonly<Record<string, unknown>>) => redactRecord(value, contextRedactions, key),
    scrubPii(text: string, value: Readonly<Record<string, unknown>>, context?: Readonly<Record<string, unknown>> | null) {
      const secrets = [...piiStringsOf(value, inputRedactions), ...(context ? piiStringsOf(context, contextRedactions) : [])];
      let scrubbed = text;
      // Longest first, so a value that contains another is replaced whole.
      secrets.sort((a, b) => b.length - a.length);
      for (const secret of secrets) scrubbed = scrubbed.split(secret).join(maskedValue);
      // An excerpt cut short ("…") may end in the first characters of a value: those go too.
      if (scrubbed.endsWith('…')) {
        const body = scrubbed.slice(0, -1);
        for (const secret of secrets) {
          const k = [...Array(secret.length).keys()].reverse().find((n) => n >= 3 && body.endsWith(secret.slice(0, n)));
          if (k !== undefined) return `${body.slice(0, body.length - k)}${maskedValue}…`;
        }
      }
      return scrubbed;
    },
  });
}

function normalizeFields(fields: Readonly<Record<string, FieldAnnotation>> | undefined): ReadonlyMap<string, FieldAnnotation> {
  const map = new Map<string, FieldAnnotation>();
  for (const [name, annotation] of Object.entries(fields ?? {})) {
    const redact = annotation.pii === true ? { redact: annotation.redact ?? 'hash' } : {};
    map.set(name, Object.freeze({ ...annotation, ...redact }));
  }
  return map;
}

// Values under a pii field never appear in issue messages, which may be logged.
function isPiiPointer(fields: ReadonlyMap<string, FieldAnnotation>): (pointer: string) => boolean {
  const pii = new Set([...fields].filter(([, annotation]) => annotation.pii === true).map(([name]) => appendPointer('', name)));
  return (pointer) => [...pii].some((prefix) => pointer === prefix || pointer.startsWith(`${prefix}/`));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(issues: readonly Issue[]): BallastError {
  return new BallastError('CONFIG_INVALID', { detail: 'the contract is invalid', issues });
}
