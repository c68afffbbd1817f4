// A fake OpenAI-compatible API: POST /v1/chat/completions (structured output, logprobs, refusals,
// finish_reason "length") and GET /v1/models, with OpenAI's error envelope `{ error: { message, type, param, code } }`.

import { startFakeServer, type FakeAnswer, type FakeServer, type ReceivedRequest } from './fake-server.js';

/** One token as the API reports it in `logprobs.content`. */
export interface FakeToken {
  readonly token: string;
  readonly logprob: number;
}

/** What the fake model says next; fields left out are derived (content from the requested schema, tokens from the content). */
export interface FakeChatReply {
  /** The answer; an object is JSON-encoded compactly. */
  readonly content?: string | Readonly<Record<string, unknown>>;
  /** Must spell the content exactly when given. */
  readonly tokens?: readonly FakeToken[];
  readonly refusal?: string;
  readonly finishReason?: 'stop' | 'length' | 'content_filter';
}

/** A running fake OpenAI API; `url` is its base URL (ending in /v1). */
export interface FakeOpenAI extends FakeServer {
  /** Sets the reply to every later completion (undefined: derive it from the request). */
  setReply(reply: FakeChatReply | undefined): void;
}

/** Options of the fake: which API key it demands and which model it serves. */
export interface FakeOpenAIOptions {
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  readonly apiKey?: string;
  readonly model?: string;
  /** The reply to completions under the `violate` behaviour (default: `openaiViolation`, content `{"label":42}`). */
  readonly violation?: FakeChatReply;
}

/** The default `violate` reply: well-formed JSON content whose label is a number, which no label enum accepts. */
export const openaiViolation: FakeChatReply = { content: { label: 42 } };

/** Starts the fake OpenAI API on loopback. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let reply: FakeChatReply | undefined;
  let sequence = 0;
  const model = options.model ?? 'fake-gpt';
  const violation = options.violation ?? openaiViolation;
  // Only completions change under `violate`: the key check, the models list and unknown URLs answer as always.
  const route = (request: ReceivedRequest, next: FakeChatReply | undefined): FakeAnswer => {
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return { status: 401, body: errorEnvelope(401, 'Incorrect API key provided.', 'invalid_api_key') };
    }
    if (request.method === 'GET' && request.path === '/v1/models') {
      return { status: 200, body: { object: 'list', data: [{ id: model, object: 'model', created: 1700000000, owned_by: 'fake' }] } };
    }
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
      return { status: 404, body: errorEnvelope(404, `Unknown request URL: ${request.method} ${request.path}.`, 'unknown_url') };
    }
    sequence += 1;
    return completion(request.body, next, `chatcmpl-fake${sequence}`, model);
  };
  const server = await startFakeServer(
    {
      answer: (request) => route(request, reply),
      violation: (request) => route(request, violation),
      errorBody: (status, message) => errorEnvelope(status, message, null),
      wrongShape: { object: 'chat.completion', choices: [] },
    },
    '/v1',
  );
  return Object.assign(server, {
    setReply(next: FakeChatReply | undefined) {
      reply = next;
    },
  });
}

function completion(body: unknown, reply: FakeChatReply | undefined, id: string, model: string): FakeAnswer {
  const request = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (typeof request.model !== 'string' || !Array.isArray(request.messages) || request.messages.length === 0) {
    return { status: 400, body: errorEnvelope(400, "'model' and a non-empty 'messages' are required.", null) };
  }
  const schema = (request.response_format as { json_schema?: { schema?: unknown } } | undefined)?.json_schema?.schema;
  const finishReason = reply?.finishReason ?? 'stop';
  const full = typeof reply?.content === 'string' ? reply.content : JSON.stringify(reply?.content ?? exampleOf(schema ?? { type: 'object', properties: { answer: { type: 'string' } } }));
  // A length stop cuts the answer off mid-way, as a real token limit does.
  const content = finishReason === 'length' ? full.slice(0, Math.floor(full.length / 2)) : full;
  const tokens = reply?.tokens ?? tokenize(content);
  const refused = reply?.refusal !== undefined;
  const logprobs = request.logprobs === true && !refused ? { content: tokens.map((t) => ({ ...t, bytes: [...Buffer.from(t.token, 'utf8')], top_logprobs: [] })), refusal: null } : null;
  const prompt = JSON.stringify(request.messages);
  return {
    status: 200,
    body: {
      id,
      object: 'chat.completion',
      created: 1700000000,
      model: request.model,
      system_fingerprint: `fp_${model}`,
      choices: [{ index: 0, message: { role: 'assistant', content: refused ? null : content, refusal: reply?.refusal ?? null }, logprobs, finish_reason: finishReason }],
      usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: tokens.length, total_tokens: Math.ceil(prompt.length / 4) + tokens.length },
    },
  };
}

/** The minimal value a JSON Schema accepts: first enum value, const, empty-ish scalars, required properties. */
export function exampleOf(schema: unknown): unknown {
  const s = (schema !== null && typeof schema === 'object' ? schema : {}) as Record<string, unknown>;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, exampleOf(value)]));
    }
    case 'array':
      return [];
    case 'string':
      return 'text';
    case 'number':
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** Splits text into punctuation runs and word pieces of at most 4 characters, like a BPE tokenizer would, roughly. */
export function tokenize(content: string): FakeToken[] {
  const pieces = content.match(/[{}[\]:,"\s]+|[^{}[\]:,"\s]{1,4}/g) ?? [];
  // Forced punctuation is near-certain; word pieces carry the model's doubt.
  return pieces.map((token) => ({ token, logprob: /^[{}[\]:,"\s]+$/.test(token) ? 0 : -0.05 }));
}

function errorEnvelope(status: number, message: string, code: string | null): unknown {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code } };
}
