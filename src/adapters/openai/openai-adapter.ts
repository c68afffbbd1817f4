// The `openai` adapter: any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama,
// llama.cpp, LiteLLM). The output contract becomes a strict JSON-schema response format, and the
// confidence comes from token logprobs (see logprob-confidence.ts for the rule).

import { BallastError } from '../../errors/index.js';
import { compileTextTemplate, type Template } from '../json-template.js';
import type { AdapterDefinition, ModelAdapter } from '../model-adapter.js';
import { contextOptions, createUpstreamClient } from '../upstream-client.js';
import { readChatCompletion } from './chat-completion.js';

/** The `adapter:` block of an OpenAI-compatible model version. */
export type OpenAIAdapterConfig = {
  readonly kind: 'openai';
  /** API base, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string;
  readonly model: string;
  /** Name of the secret (in the adapter context) sent as `Authorization: Bearer`. */
  readonly apiKeySecret?: string;
  readonly system?: string;
  /** User message template; `{{/pointer}}` takes the input value there (JSON-encoded unless a string); default: the input as JSON. */
  readonly prompt?: string;
  /** Default 0: a decision should not depend on sampling luck. */
  readonly temperature?: number;
  /** Sent as `max_tokens`, which OpenAI-compatible servers broadly accept. */
  readonly maxTokens?: number;
  /** Ask for token logprobs to compute a confidence (default true). */
  readonly logprobs?: boolean;
};

/** The `openai` adapter kind. */
export const openaiAdapter: AdapterDefinition<OpenAIAdapterConfig> = {
  kind: 'openai',
  configSchema: {
    title: 'openai adapter',
    type: 'object',
    required: ['kind', 'baseUrl', 'model'],
    additionalProperties: false,
    properties: {
      kind: { const: 'openai' },
      baseUrl: { type: 'string', pattern: '^https?://', description: 'API base URL, e.g. http://127.0.0.1:8000/v1.' },
      model: { type: 'string', minLength: 1 },
      apiKeySecret: { type: 'string', minLength: 1, description: 'Name of the secret holding the API key.' },
      system: { type: 'string' },
      prompt: { type: 'string', description: 'User message; "{{/pointer}}" takes the input value there.' },
      temperature: { type: 'number', minimum: 0, maximum: 2, default: 0 },
      maxTokens: { type: 'integer', minimum: 1 },
      logprobs: { type: 'boolean', default: true },
    },
  },
  async create(config, context) {
    const headers: Record<string, string> = {};
    if (config.apiKeySecret !== undefined) {
      const key = context.secrets[config.apiKeySecret];
      if (key === undefined || key === '') throw new BallastError('CONFIG_INVALID', { detail: `The openai adapter needs the secret '${config.apiKeySecret}', which is not set.` });
      headers.authorization = `Bearer ${key}`;
    }
    const prompt: Template<string> = config.prompt === undefined ? (input) => JSON.stringify(input) : compileTextTemplate(config.prompt);
    const logprobs = config.logprobs ?? true;
    const outputSchema = context.outputSchema;
    const fixed = {
      model: config.model,
      temperature: config.temperature ?? 0,
      ...(config.maxTokens === undefined ? {} : { max_tokens: config.maxTokens }),
      ...(logprobs ? { logprobs: true } : {}),
      ...(outputSchema === undefined ? {} : { response_format: { type: 'json_schema', json_schema: { name: 'output', strict: true, schema: outputSchema } } }),
    };
    const client = createUpstreamClient({ name: `openai upstream (${config.model})`, baseUrl: config.baseUrl, headers, ...contextOptions(context) });
    const adapter: ModelAdapter = {
      kind: 'openai',
      capabilities: { confidence: logprobs, attributions: false, readiness: true },
      async invoke(input, options) {
        const messages = [...(config.system === undefined ? [] : [{ role: 'system', content: config.system }]), { role: 'user', content: prompt(input) }];
        const answer = await client.sendJson({ method: 'POST', path: '/chat/completions', body: { ...fixed, messages }, signal: options.signal });
        const read = readChatCompletion(answer, { outputSchema, confidence: logprobs });
        if (!read.ok) throw client.malformed(`it ${read.reason}`);
        return read.value;
      },
      // Ready when the models list answers and, if it lists ids, lists ours; any failure reads as not ready.
      async ready(signal) {
        try {
          const list = await client.sendJson({ method: 'GET', path: '/models', signal });
          const data = list !== null && typeof list === 'object' && 'data' in list && Array.isArray(list.data) ? (list.data as unknown[]) : undefined;
          return data === undefined || data.some((item) => item !== null && typeof item === 'object' && 'id' in item && item.id === config.model);
        } catch {
          return false;
        }
      },
      close: () => client.close(),
    };
    return adapter;
  },
};
