// The `http` adapter: any model server that takes JSON and answers JSON. A request template says
// where input values go; JSON pointers say where output, confidence and attributions are in the answer.

import { BallastError } from '../../errors/index.js';
import { compileJsonTemplate, type Template } from '../json-template.js';
import { isJsonPointer, parseJsonPointer, resolveJsonPointer, type JsonPointer } from '../json-pointer.js';
import type { AdapterDefinition, ModelAdapter, ModelResult } from '../model-adapter.js';
import { checkAttributions, checkConfidence } from '../model-result.js';
import { contextOptions, createUpstreamClient, type UpstreamClient } from '../upstream-client.js';

/** The `adapter:` block of an http model version. */
export type HttpAdapterConfig = {
  readonly kind: 'http';
  /** Where to send each input (http or https). */
  readonly url: string;
  readonly method?: 'POST' | 'PUT';
  readonly headers?: Readonly<Record<string, string>>;
  /** `body`: a JSON template whose `"{{/pointer}}"` strings are replaced by input values (`"{{}}"` is the whole input); default: the input itself. */
  readonly request?: { readonly body?: unknown };
  /** JSON pointers into the answer; `output` defaults to '' (the whole answer). */
  readonly response?: { readonly output?: string; readonly confidence?: string; readonly attributions?: string };
};

// undici sets these itself (or refuses them); letting config set them would corrupt the framing.
const reservedHeaders = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);
const pointerSchema = { type: 'string', pattern: '^(/([^~]|~[01])*)*$', description: 'JSON pointer (RFC 6901) into the answer.' };

/** The `http` adapter kind. */
export const httpAdapter: AdapterDefinition<HttpAdapterConfig> = {
  kind: 'http',
  configSchema: {
    title: 'http adapter',
    type: 'object',
    required: ['kind', 'url'],
    additionalProperties: false,
    properties: {
      kind: { const: 'http' },
      url: { type: 'string', pattern: '^https?://', description: 'Model endpoint.' },
      method: { enum: ['POST', 'PUT'], default: 'POST' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      request: {
        type: 'object',
        additionalProperties: false,
        properties: { body: { description: 'JSON template; "{{/pointer}}" strings take the input value there, "{{}}" the whole input.' } },
      },
      response: {
        type: 'object',
        additionalProperties: false,
        properties: { output: { ...pointerSchema, default: '' }, confidence: pointerSchema, attributions: pointerSchema },
      },
    },
  },
  async create(config, context) {
    const method = config.method ?? 'POST';
    const body: Template<unknown> = config.request?.body === undefined ? (input) => input : compileJsonTemplate(config.request.body);
    const output = configPointer(config.response?.output ?? '', 'response.output');
    const confidence = config.response?.confidence === undefined ? undefined : configPointer(config.response.confidence, 'response.confidence');
    const attributions = config.response?.attributions === undefined ? undefined : configPointer(config.response.attributions, 'response.attributions');
    const client = createUpstreamClient({ name: 'http model', baseUrl: config.url, headers: checkHeaders(config.headers ?? {}), ...contextOptions(context) });
    const adapter: ModelAdapter = {
      kind: 'http',
      capabilities: { confidence: confidence !== undefined, attributions: attributions !== undefined, readiness: false },
      async invoke(input, options) {
        const answer = await client.sendJson({ method, path: '', body: body(input), signal: options.signal });
        return readAnswer(answer, client, { output, confidence, attributions });
      },
      close: () => client.close(),
    };
    return adapter;
  },
};

function readAnswer(answer: unknown, client: UpstreamClient, pointers: { output: JsonPointer; confidence?: JsonPointer | undefined; attributions?: JsonPointer | undefined }): ModelResult {
  const pick = (pointer: JsonPointer): unknown => {
    const found = resolveJsonPointer(answer, pointer);
    if (!found.found) throw client.malformed(`it has no value at '${pointer.text}'`);
    return found.value;
  };
  const result: { output: unknown; confidence?: number; attributions?: ModelResult['attributions'] } = { output: pick(pointers.output) };
  if (pointers.confidence !== undefined) {
    const checked = checkConfidence(pick(pointers.confidence));
    if (!checked.ok) throw client.malformed(`it ${checked.reason} at '${pointers.confidence.text}'`);
    result.confidence = checked.value;
  }
  if (pointers.attributions !== undefined) {
    const checked = checkAttributions(pick(pointers.attributions));
    if (!checked.ok) throw client.malformed(`it ${checked.reason} at '${pointers.attributions.text}'`);
    result.attributions = checked.value;
  }
  return result;
}

function configPointer(text: string, where: string): JsonPointer {
  if (!isJsonPointer(text)) throw new BallastError('CONFIG_INVALID', { detail: `The http adapter's ${where} '${text}' is not a JSON pointer (RFC 6901).` });
  return parseJsonPointer(text);
}

function checkHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const reserved = Object.keys(headers).find((name) => reservedHeaders.has(name.toLowerCase()));
  if (reserved !== undefined) throw new BallastError('CONFIG_INVALID', { detail: `The http adapter may not set the '${reserved}' header; the HTTP client manages it.` });
  // A line break in a header value would split the request (header injection).
  const broken = Object.entries(headers).find(([name, value]) => !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value));
  if (broken !== undefined) throw new BallastError('CONFIG_INVALID', { detail: `The http adapter's header '${broken[0]}' has an invalid name or a line break in its value.` });
  return headers;
}
