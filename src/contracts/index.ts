// Contracts: compile and validate schemas, quality checks, redaction, strict JSON input.
export { canonicalJson } from './canonical-json.js';
export { checkQuality, qualityFlagCodes, type QualityFlag, type QualityFlagCode } from './check-quality.js';
export { compileContract, type CompileContractOptions, type Contract } from './compile-contract.js';
export {
  contractConfigSchema,
  contractDefaults,
  fieldKinds,
  redactModes,
  type Category,
  type ContractConfig,
  type ContractSideConfig,
  type ExpectedValues,
  type FieldAnnotation,
  type FieldKind,
  type JsonSchema,
  type RedactMode,
} from './contract-config.js';
export { inputLimitsDefaults, inputLimitsSchema, parseJsonInput, resolveInputLimits, type InputLimits } from './json-input.js';
export { appendPointer, escapePointerSegment, pointerFrom, pointerTokens, valueAtPointer, valueAtTokens } from './json-pointer.js';
export { createRedactionKey, hashPrefix, hashValue, maskedValue, redactRecord, redactionsOf } from './redact.js';
export { createSchemaValidator, type SchemaValidator, type SchemaValidatorOptions } from './schema-validator.js';
