// A fake Open Inference Protocol (KServe V2) server over REST: health, server and model metadata,
// model readiness and inference, checking requests against the model's tensor metadata like
// Triton and MLServer do, with the protocol's error envelope `{ "error": "..." }`.

import { startFakeServer, type FakeAnswer, type FakeServer, type ReceivedRequest } from './fake-server.js';

/** A tensor in the protocol's JSON form (data flattened row-major). */
export interface FakeTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

/** Tensor metadata; -1 marks a variable dimension. */
export interface FakeTensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** A model the fake serves. */
export interface FakeKServeModel {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly FakeTensorMetadata[];
  readonly outputs: readonly FakeTensorMetadata[];
  /** Computes every output tensor from the (already checked) input tensors. */
  infer(inputs: ReadonlyMap<string, FakeTensor>): FakeTensor[];
}

/** A running fake inference server; `url` is its base URL. */
export interface FakeKServeV2 extends FakeServer {
  /** Marks a model (not) ready; a model that is not ready refuses inference too. */
  setReady(model: string, ready: boolean): void;
}

/** A binary spam classifier: `text` BYTES [-1] in; `label` BYTES [-1] and `probabilities` FP32 [-1, 2] ([ham, spam]) out. */
export const fakeSpamClassifier: FakeKServeModel = {
  name: 'spam-classifier',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  outputs: [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
  infer(inputs) {
    const texts = (inputs.get('text')?.data ?? []).map(String);
    const spam = texts.map((text) => (/\bfree\b/i.test(text) ? 0.875 : 0.25));
    return [
      { name: 'label', datatype: 'BYTES', shape: [texts.length], data: spam.map((p) => (p > 0.5 ? 'spam' : 'ham')) },
      { name: 'probabilities', datatype: 'FP32', shape: [texts.length, 2], data: spam.flatMap((p) => [1 - p, p]) },
    ];
  },
};

/** Rewrites a model's output tensors for the `violate` behaviour. */
export type FakeTensorViolation = (outputs: readonly FakeTensor[]) => FakeTensor[];

/** Options of the fake inference server. */
export interface FakeKServeV2Options {
  /** How inference answers change under the `violate` behaviour (default: `kserveV2Violation`). */
  readonly violation?: FakeTensorViolation;
}

/**
 * The default `violate` rewrite: every BYTES output tensor (the spam classifier's `label`) says
 * "maybe", a label no label enum accepts. Outputs read through a `map` of class scores cannot name
 * an unknown label; pass your own `violation` for those.
 */
export const kserveV2Violation: FakeTensorViolation = (outputs) => outputs.map((tensor) => (tensor.datatype === 'BYTES' ? { ...tensor, data: tensor.data.map(() => 'maybe') } : tensor));

const modelRoute = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const unchanged: FakeTensorViolation = (outputs) => [...outputs];

/** Starts the fake inference server on loopback, serving the given models (default: the spam classifier). */
export async function startFakeKServeV2(models: readonly FakeKServeModel[] = [fakeSpamClassifier], options: FakeKServeV2Options = {}): Promise<FakeKServeV2> {
  const notReady = new Set<string>();
  const violation = options.violation ?? kserveV2Violation;
  // Under `violate` only the tensors of a successful inference change: health, metadata, readiness and refusals answer as always.
  const route = (request: ReceivedRequest, rewrite: FakeTensorViolation): FakeAnswer => {
    const path = request.path.split('?')[0] ?? '';
    if (request.method === 'GET' && path === '/v2/health/live') return ok({ live: true });
    if (request.method === 'GET' && path === '/v2/health/ready') return ok({ ready: notReady.size === 0 });
    if (request.method === 'GET' && path === '/v2') return ok({ name: 'fake-kserve-v2', version: '2.0.0', extensions: [] });
    const matched = modelRoute.exec(path);
    if (matched === null) return error(404, `Not Found: ${path}`);
    const [, name, version, action] = matched;
    const model = models.find((m) => m.name === decodeURIComponent(name ?? ''));
    if (model === undefined) return error(404, `Request for unknown model: '${name}' is not found`);
    if (version !== undefined && !model.versions.includes(decodeURIComponent(version))) return error(404, `Request for unknown model: '${name}' version ${version} is not found`);
    const ready = !notReady.has(model.name);
    if (action === undefined && request.method === 'GET') return ok({ name: model.name, versions: model.versions, platform: model.platform, inputs: model.inputs, outputs: model.outputs });
    if (action === '/ready' && request.method === 'GET') return ready ? ok({ name: model.name, ready: true }) : error(400, `Model ${model.name} is not ready`);
    if (action === '/infer' && request.method === 'POST') {
      if (!ready) return error(400, `Model ${model.name} is not ready`);
      return infer(model, version ?? model.versions.at(-1), request, rewrite);
    }
    return error(405, `Method ${request.method} not allowed on ${path}`);
  };
  const server = await startFakeServer({
    answer: (request) => route(request, unchanged),
    violation: (request) => route(request, violation),
    errorBody: (_status, message) => ({ error: message }),
    wrongShape: { model_name: 'spam-classifier', outputs: 'not-an-array' },
  });
  return Object.assign(server, {
    setReady(model: string, ready: boolean) {
      if (ready) notReady.delete(model);
      else notReady.add(model);
    },
  });
}

function infer(model: FakeKServeModel, version: string | undefined, request: ReceivedRequest, rewrite: FakeTensorViolation): FakeAnswer {
  const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
  if (!Array.isArray(body.inputs)) return error(400, "Unable to parse 'inputs': expected an array");
  const inputs = new Map<string, FakeTensor>();
  for (const raw of body.inputs as unknown[]) {
    const tensor = raw as Partial<FakeTensor>;
    const meta = model.inputs.find((m) => m.name === tensor.name);
    if (meta === undefined) return error(400, `unexpected inference input '${String(tensor.name)}' for model '${model.name}'`);
    const problem = checkTensor(tensor, meta);
    if (problem !== undefined) return error(400, problem);
    inputs.set(meta.name, { ...(tensor as FakeTensor), data: (tensor.data as unknown[]).flat(Infinity) });
  }
  const missing = model.inputs.find((m) => !inputs.has(m.name));
  if (missing !== undefined) return error(400, `expected ${model.inputs.length} inputs but got ${inputs.size} inputs for model '${model.name}' (missing '${missing.name}')`);
  let outputs = rewrite(model.infer(inputs));
  if (Array.isArray(body.outputs)) {
    const wanted = (body.outputs as { name?: unknown }[]).map((o) => o.name);
    const unknown = wanted.find((name) => !outputs.some((o) => o.name === name));
    if (unknown !== undefined) return error(400, `unexpected inference output '${String(unknown)}' for model '${model.name}'`);
    outputs = outputs.filter((o) => wanted.includes(o.name));
  }
  return ok({ model_name: model.name, ...(version === undefined ? {} : { model_version: version }), ...(typeof body.id === 'string' ? { id: body.id } : {}), outputs });
}

function checkTensor(tensor: Partial<FakeTensor>, meta: FakeTensorMetadata): string | undefined {
  if (tensor.datatype !== meta.datatype) return `inference input '${meta.name}' data-type is '${String(tensor.datatype)}', but model expects '${meta.datatype}'`;
  const shape = tensor.shape;
  if (!Array.isArray(shape) || shape.length !== meta.shape.length || shape.some((size, axis) => meta.shape[axis] !== -1 && meta.shape[axis] !== size)) {
    return `unexpected shape for input '${meta.name}', model expects [${meta.shape.join(',')}], got [${String(shape)}]`;
  }
  const elements = shape.reduce((total: number, size: number) => total * size, 1);
  if (!Array.isArray(tensor.data) || tensor.data.flat(Infinity).length !== elements) return `input '${meta.name}' has ${String(tensor.data?.length)} elements, shape [${shape.join(',')}] needs ${elements}`;
  return undefined;
}

function ok(body: unknown): FakeAnswer {
  return { status: 200, body };
}

function error(status: number, message: string): FakeAnswer {
  return { status, body: { error: message } };
}
