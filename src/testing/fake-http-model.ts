// A fake generic JSON model server (in the style of a FastAPI or Flask model service): POST
// /predict takes JSON and answers `{ label, score, explanation }`; errors are `{ detail }`.

import { startFakeServer, type FakeAnswer, type FakeServer, type ReceivedRequest } from './fake-server.js';

/** How the fake model answers a request body when it behaves. */
export type FakeModelReply = (body: unknown) => unknown;

/** A running fake JSON model; `url` is its predict endpoint. */
export interface FakeHttpModel extends FakeServer {
  /** Replaces the model (default: `keywordSpamModel`). */
  setReply(reply: FakeModelReply): void;
}

/** Options of the fake JSON model. */
export interface FakeHttpModelOptions {
  /** The answer under the `violate` behaviour (default: `httpModelViolation`, a label of the wrong type). */
  readonly violation?: FakeModelReply;
}

/** The default `violate` answer: a well-formed answer whose label is a number, which no label enum accepts. */
export const httpModelViolation: FakeModelReply = () => ({ label: 42, score: 0.9, explanation: [] });

/** The default model: spam when the text mentions "free", with one attribution per matched word. */
export const keywordSpamModel: FakeModelReply = (body) => {
  const text = body !== null && typeof body === 'object' && 'text' in body && typeof body.text === 'string' ? body.text : JSON.stringify(body);
  const spam = /\bfree\b/i.test(text);
  return {
    label: spam ? 'spam' : 'ham',
    score: spam ? 0.91 : 0.8,
    explanation: spam ? [{ feature: 'text', token: 'free', contribution: 2.3 }] : [],
  };
};

/** Starts the fake JSON model on loopback. */
export async function startFakeHttpModel(options: FakeHttpModelOptions = {}): Promise<FakeHttpModel> {
  let reply: FakeModelReply = keywordSpamModel;
  const violation = options.violation ?? httpModelViolation;
  // Requests the endpoint refuses are refused under `violate` too: only the model's answer changes.
  const predict = (request: ReceivedRequest, model: FakeModelReply): FakeAnswer => {
    if (request.path !== '/predict') return { status: 404, body: { detail: 'Not Found' } };
    if (request.method !== 'POST' && request.method !== 'PUT') return { status: 405, body: { detail: 'Method Not Allowed' } };
    if (request.headers['content-type'] !== 'application/json') return { status: 415, body: { detail: 'Unsupported Media Type' } };
    return { status: 200, body: model(request.body) };
  };
  const server = await startFakeServer(
    {
      answer: (request) => predict(request, reply),
      violation: (request) => predict(request, violation),
      errorBody: (_status, message) => ({ detail: message }),
      wrongShape: { unexpected: true },
    },
    '/predict',
  );
  return Object.assign(server, {
    setReply(next: FakeModelReply) {
      reply = next;
    },
  });
}
