// The `kserve-v2` adapter: model servers that speak the Open Inference Protocol over REST (KServe,
// Triton, MLServer, Seldon). Input fields become tensors; answer tensors become output fields.
//
// Output mapping, per output field `{ tensor, index?, map? }` (tensor data is row-major; a row is
// the last dimension, and a tensor of rank 0 or 1 is one row):
// - without `map`: the field is element `index` (default 0) of the tensor, e.g. a label tensor
//   `label: BYTES [1]` gives `"spam"`;
// - with `map`: the tensor holds scores per class; the field is `map[argmax(row index)]` (default
//   row 0, first class on ties), and the row must have exactly `map.length` elements.
// Confidence `{ tensor, reduce?, index? }`: `max` (default) is the largest value of row `index`, i.e.
// the probability of the argmax class of a probability tensor; `index` is element `index` of a
// tensor that already holds it. Either must be in [0, 1]: a model that emits logits must apply
// softmax itself, because Ballast cannot tell logits from scores.

import { BallastError } from '../../errors/index.js';
import { isJsonPointer, parseJsonPointer, resolveJsonPointer, type JsonPointer } from '../json-pointer.js';
import type { AdapterDefinition, ModelAdapter, ModelResult } from '../model-adapter.js';
import { checkConfidence, type Checked } from '../model-result.js';
import { contextOptions, createUpstreamClient } from '../upstream-client.js';
import { argmax, encodeTensor, readTensor, tensorDatatypes, tensorRow, type Tensor, type TensorDatatype } from './tensors.js';

/** One input tensor, filled from the input value at `from`. */
export type KServeV2InputConfig = { readonly name: string; readonly datatype: TensorDatatype; readonly shape?: readonly number[]; readonly from: string };
/** One output field, read from a tensor (see the mapping above). */
export type KServeV2OutputConfig = { readonly tensor: string; readonly index?: number; readonly map?: readonly string[] };
/** Where the confidence comes from (see the mapping above). */
export type KServeV2ConfidenceConfig = { readonly tensor: string; readonly reduce?: 'max' | 'index'; readonly index?: number };

/** The `adapter:` block of a model served over the Open Inference Protocol. */
export type KServeV2AdapterConfig = {
  readonly kind: 'kserve-v2';
  /** Server base URL, e.g. `http://127.0.0.1:8080`; `/v2/models/...` is appended. */
  readonly url: string;
  readonly model: string;
  readonly version?: string;
  readonly inputs: readonly KServeV2InputConfig[];
  /** Output field name → where its value comes from. */
  readonly outputs: Readonly<Record<string, KServeV2OutputConfig>>;
  readonly confidence?: KServeV2ConfidenceConfig;
};

const indexSchema = { type: 'integer', minimum: 0, default: 0 };

/** The `kserve-v2` adapter kind. */
export const kserveV2Adapter: AdapterDefinition<KServeV2AdapterConfig> = {
  kind: 'kserve-v2',
  configSchema: {
    title: 'kserve-v2 adapter',
    type: 'object',
    required: ['kind', 'url', 'model', 'inputs', 'outputs'],
    additionalProperties: false,
    properties: {
      kind: { const: 'kserve-v2' },
      url: { type: 'string', pattern: '^https?://', description: 'Inference server base URL.' },
      model: { type: 'string', minLength: 1 },
      version: { type: 'string', minLength: 1 },
      inputs: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['name', 'datatype', 'from'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            datatype: { enum: [...tensorDatatypes] },
            shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
            from: { type: 'string', pattern: '^(/([^~]|~[01])*)*$', description: 'JSON pointer into the input.' },
          },
        },
      },
      outputs: {
        type: 'object',
        minProperties: 1,
        additionalProperties: {
          type: 'object',
          required: ['tensor'],
          additionalProperties: false,
          properties: { tensor: { type: 'string', minLength: 1 }, index: indexSchema, map: { type: 'array', minItems: 1, items: { type: 'string' } } },
        },
      },
      confidence: {
        type: 'object',
        required: ['tensor'],
        additionalProperties: false,
        properties: { tensor: { type: 'string', minLength: 1 }, reduce: { enum: ['max', 'index'], default: 'max' }, index: indexSchema },
      },
    },
  },
  async create(config, context) {
    const inputs = config.inputs.map((input) => ({ ...input, pointer: inputPointer(input.from) }));
    const modelPath = `/v2/models/${encodeURIComponent(config.model)}${config.version === undefined ? '' : `/versions/${encodeURIComponent(config.version)}`}`;
    const tensorNames = [...new Set([...Object.values(config.outputs).map((output) => output.tensor), ...(config.confidence ? [config.confidence.tensor] : [])])];
    const client = createUpstreamClient({ name: `kserve-v2 server (model ${config.model})`, baseUrl: config.url, ...contextOptions(context) });

    const adapter: ModelAdapter = {
      kind: 'kserve-v2',
      capabilities: { confidence: config.confidence !== undefined, attributions: false, readiness: true },
      async invoke(input, options) {
        const request = { id: options.decisionId, inputs: inputs.map((spec) => inputTensor(input, spec)), outputs: tensorNames.map((name) => ({ name })) };
        const answer = await client.sendJson({ method: 'POST', path: `${modelPath}/infer`, body: request, signal: options.signal });
        const read = readAnswer(answer, options.decisionId, config);
        if (!read.ok) throw client.malformed(`it ${read.reason}`);
        return read.value;
      },
      // 200 means ready (Triton answers with an empty body); a body that says `ready: false` does not.
      async ready(signal) {
        try {
          const reply = await client.send({ method: 'GET', path: `${modelPath}/ready`, signal });
          if (reply.status !== 200) return false;
          return reply.text.trim() === '' || (JSON.parse(reply.text) as { ready?: unknown }).ready !== false;
        } catch {
          return false;
        }
      },
      close: () => client.close(),
    };
    return adapter;
  },
};

function inputPointer(text: string): JsonPointer {
  if (!isJsonPointer(text)) throw new BallastError('CONFIG_INVALID', { detail: `The kserve-v2 input pointer '${text}' is not a JSON pointer (RFC 6901).` });
  return parseJsonPointer(text);
}

function inputTensor(input: unknown, spec: KServeV2InputConfig & { pointer: JsonPointer }): Tensor {
  const found = resolveJsonPointer(input, spec.pointer);
  const encoded = found.found ? encodeTensor(found.value, spec) : { ok: false as const, reason: 'is missing' };
  if (encoded.ok) return encoded.value;
  // The input lacks what the model needs, or has the wrong type for its tensor: the caller's input is at fault.
  throw new BallastError('CONTRACT_INVALID_INPUT', {
    detail: `The input at '${spec.from}' ${encoded.reason}, so it cannot fill tensor '${spec.name}' (${spec.datatype}).`,
    issues: [{ pointer: spec.from, code: found.found ? 'type' : 'required', message: `${encoded.reason} (tensor '${spec.name}', ${spec.datatype})` }],
  });
}

function readAnswer(answer: unknown, requestId: string, config: KServeV2AdapterConfig): Checked<ModelResult> {
  const record = answer !== null && typeof answer === 'object' ? (answer as Record<string, unknown>) : {};
  if (!Array.isArray(record.outputs)) return { ok: false, reason: 'has no outputs array' };
  // The protocol requires the request id back; a different one means the answer belongs to another request.
  if (record.id !== undefined && record.id !== requestId) return { ok: false, reason: `answers request '${String(record.id)}', not '${requestId}'` };
  const tensors = new Map<string, Tensor>();
  for (const raw of record.outputs as unknown[]) {
    const tensor = readTensor(raw);
    if (!tensor.ok) return tensor;
    tensors.set(tensor.value.name, tensor.value);
  }
  const output: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(config.outputs)) {
    const value = outputValue(tensors.get(spec.tensor), spec);
    if (!value.ok) return { ok: false, reason: `${value.reason} (for output field '${field}')` };
    output[field] = value.value;
  }
  const facts = { upstreamModel: record.model_name, upstreamModelVersion: record.model_version, upstreamId: record.id };
  const meta = Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined));
  if (config.confidence === undefined) return { ok: true, value: { output, meta } };
  const confidence = confidenceValue(tensors.get(config.confidence.tensor), config.confidence);
  return confidence.ok ? { ok: true, value: { output, confidence: confidence.value, meta } } : confidence;
}

function outputValue(tensor: Tensor | undefined, spec: KServeV2OutputConfig): Checked<unknown> {
  if (tensor === undefined) return { ok: false, reason: `has no output tensor '${spec.tensor}'` };
  const index = spec.index ?? 0;
  if (spec.map === undefined) {
    return index < tensor.data.length ? { ok: true, value: tensor.data[index] } : { ok: false, reason: `has no element ${index} in tensor '${spec.tensor}'` };
  }
  const row = tensorRow(tensor, index);
  if (row === undefined || row.length !== spec.map.length) return { ok: false, reason: `has no row ${index} of ${spec.map.length} class scores in tensor '${spec.tensor}'` };
  const best = argmax(row);
  return best === undefined ? { ok: false, reason: `has a non-number score in tensor '${spec.tensor}'` } : { ok: true, value: spec.map[best] };
}

function confidenceValue(tensor: Tensor | undefined, spec: KServeV2ConfidenceConfig): Checked<number> {
  if (tensor === undefined) return { ok: false, reason: `has no confidence tensor '${spec.tensor}'` };
  const index = spec.index ?? 0;
  let value: unknown;
  if ((spec.reduce ?? 'max') === 'max') {
    const row = tensorRow(tensor, index);
    const best = row === undefined ? undefined : argmax(row);
    value = best === undefined ? undefined : row?.[best];
  } else {
    value = tensor.data[index];
  }
  const checked = checkConfidence(value);
  return checked.ok ? checked : { ok: false, reason: `${checked.reason} in tensor '${spec.tensor}'` };
}
