// The adapters' public face: the registry of kinds and the one function that builds an adapter.
// This is the only file that names the concrete kinds; everything else goes through the map.

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { BallastError, type Issue } from '../errors/index.js';
import { httpAdapter } from './http/http-adapter.js';
import { kserveV2Adapter } from './kserve-v2/kserve-v2-adapter.js';
import type { AdapterContext, AdapterDefinition, ModelAdapter } from './model-adapter.js';
import { moduleAdapter } from './module/module-adapter.js';
import { openaiAdapter } from './openai/openai-adapter.js';

export type { AdapterCapabilities, AdapterContext, AdapterDefinition, Attribution, InvokeOptions, ModelAdapter, ModelResult } from './model-adapter.js';
export type { ModuleAdapterConfig, ModuleModel, ModuleModelFactory, ModuleModelResult } from './module/module-adapter.js';
export type { HttpAdapterConfig } from './http/http-adapter.js';
export type { OpenAIAdapterConfig } from './openai/openai-adapter.js';
export type { KServeV2AdapterConfig, KServeV2ConfidenceConfig, KServeV2InputConfig, KServeV2OutputConfig } from './kserve-v2/kserve-v2-adapter.js';

/** Every adapter kind Ballast ships, by kind. */
export const adapterDefinitions: ReadonlyMap<string, AdapterDefinition> = new Map<string, AdapterDefinition>(
  [moduleAdapter, httpAdapter, openaiAdapter, kserveV2Adapter].map((definition): [string, AdapterDefinition] => [definition.kind, definition]),
);

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>();

/** Builds an adapter from its `adapter:` block: the kind picks the definition, whose schema the block must satisfy (else CONFIG_INVALID). */
export async function createAdapter(config: Readonly<{ kind: string } & Record<string, unknown>>, context: AdapterContext): Promise<ModelAdapter> {
  const definition = adapterDefinitions.get(config.kind);
  if (definition === undefined) {
    throw new BallastError('CONFIG_INVALID', {
      detail: `There is no adapter of kind '${config.kind}' (known: ${[...adapterDefinitions.keys()].join(', ')}).`,
      issues: [{ pointer: '/kind', code: 'enum', message: `must be one of ${[...adapterDefinitions.keys()].join(', ')}` }],
    });
  }
  const issues = checkConfig(definition, config);
  if (issues.length > 0) {
    throw new BallastError('CONFIG_INVALID', { detail: `The ${definition.kind} adapter's config is invalid: ${issues.map((issue) => `${issue.pointer || '/'} ${issue.message}`).join('; ')}.`, issues });
  }
  return definition.create(config, context);
}

// The pipeline validates whole config files too, but createAdapter is public, and each definition's
// create() relies on its config having passed the schema.
function checkConfig(definition: AdapterDefinition, config: unknown): Issue[] {
  let validate = validators.get(definition.kind);
  if (validate === undefined) {
    validate = ajv.compile(definition.configSchema);
    validators.set(definition.kind, validate);
  }
  if (validate(config)) return [];
  return (validate.errors ?? []).map((error) => ({ pointer: error.instancePath, code: error.keyword, message: error.message ?? 'is invalid' }));
}
// RFC 6901 pointers, compiled once and applied per request (also used to read monitoring fields).
export { formatJsonPointer, parseJsonPointer, resolveJsonPointer, type JsonPointer } from './json-pointer.js';
