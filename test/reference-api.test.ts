import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalibrationTable } from '../src/monitoring/monitors/calibration-table.js';
import { loadReferenceProfile, referenceSketchKey } from '../src/monitoring/reference/index.js';
import { buildReferenceProfile, type SketchEvent } from '../src/monitoring/sketches/index.js';
import type { StoredReference } from '../src/store/index.js';
import { monitoringLabels } from '../src/server/monitoring-runtime.js';
import type { Service } from '../src/pipeline/index.js';
import { startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let ballast: TestBallast;
let base: string;
beforeAll(async () => {
  // The monitors read the predicted label from the first categorical output field; so does a window's reference.
  const yaml = testConfigYaml().replace('            score: { type: number }\n', '            score: { type: number }\n        fields:\n          label: { kind: categorical }\n');
  expect(yaml).toContain('label: { kind: categorical }');
  ballast = await startTestBallast(yaml);
  await ballast.server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(ballast.server.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await ballast.close();
});

async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; type: string; body: Json; location?: string }> {
  const response = await request(`${base}${url}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const location = response.headers.location;
  return { status: response.statusCode, type: String(response.headers['content-type']), body: (await response.body.json()) as Json, ...(typeof location === 'string' ? { location } : {}) };
}

const inputs = [
  { text: 'good customer', amount: 500, country: 'DE', email: 'a@example.com', certainty: 0.93 },
  { text: 'bad history', amount: 1200, country: 'FR', email: 'b@example.com', certainty: 0.85 },
  { text: 'good good', amount: 2500, country: 'DE', certainty: 0.97 },
  { text: 'bad bad', amount: 80, country: 'NL', certainty: 0.91 },
  { text: 'hmm', amount: 700, certainty: 0.5 },
  { text: 'good', amount: 40000, country: 'DE', email: 'c@example.com', certainty: 0.99 },
  { text: 'sanctioned', amount: 500, country: 'XX' },
  { text: 'Grüße aus Köln', amount: 0, country: 'DE', certainty: 0.88 },
];
const truths = ['approve', 'approve', 'approve', 'deny', 'deny', { label: 'approve' }, undefined, 'deny'];

describe('reference profiles over HTTP', () => {
  let since: string;
  let until: string;
  const ids: string[] = [];

  beforeAll(async () => {
    since = new Date(Date.now() - 1).toISOString();
    for (const [i, input] of inputs.entries()) {
      const decision = await call('POST', '/v1/services/loans/decisions', { input });
      expect(decision.status).toBe(200);
      ids.push(decision.body.id as string);
      const truth = truths[i];
      if (truth !== undefined) expect((await call('POST', `/v1/decisions/${decision.body.id}/feedback`, { value: truth })).status).toBe(201);
    }
    // A correction supersedes the first label of decision 1 (approve → deny).
    const first = await call('GET', `/v1/decisions/${ids[1]}`);
    expect((await call('POST', `/v1/decisions/${ids[1]}/feedback`, { value: 'deny', supersedes: first.body.feedback[0].id })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 2));
    until = new Date().toISOString();
  });

  it('builds a profile from a window of the decision log, equal to buildReferenceProfile over the stored decisions', async () => {
    const built = await call('POST', '/v1/services/loans/references', { since, until });
    expect(built.status).toBe(201);
    expect(built.location).toBe('/v1/services/loans/references/default');
    const profile = built.body as StoredReference & { skipped: unknown };
    expect(profile).toMatchObject({ service: 'loans', name: 'default', rows: inputs.length, source: { kind: 'window', since, until, decisions: inputs.length } });
    expect(profile.id).toMatch(/^ref_[0-9A-Z]{26}$/);
    expect(profile.skipped).toStrictEqual([{ name: 'email', reason: 'pii: never sketched' }]);

    // Independently: every decision as stored, through the one-shot builder.
    const stored = await Promise.all(ids.map(async (id) => (await call('GET', `/v1/decisions/${id}?view=raw`)).body));
    const events: SketchEvent[] = stored.map((d) => ({ input: d.input, outputLabel: d.output?.label, confidence: d.confidence }));
    // The vocabulary: tokens seen at least twice in the window (Good–Turing, see reference-builder.ts), counted here by hand.
    const tokenCounts = new Map<string, number>();
    for (const d of stored) for (const t of String(d.input.text).toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []) tokenCounts.set(t, (tokenCounts.get(t) ?? 0) + 1);
    const vocabulary = [...tokenCounts].filter(([, n]) => n >= 2).map(([t]) => t).sort();
    expect(vocabulary.length).toBeGreaterThan(0);
    expect(vocabulary.length).toBeLessThan(tokenCounts.size);
    const expected = buildReferenceProfile(
      events,
      [
        { name: 'text', kind: 'text', vocabulary: new Set(vocabulary) },
        { name: 'amount', kind: 'numeric' },
        { name: 'country', kind: 'categorical' },
      ],
      { key: referenceSketchKey('loans') },
    );
    expect(JSON.stringify(profile.sketch)).toBe(JSON.stringify(expected.sketch.toJSON()));
    expect((profile.vocabularies as Record<string, string[]>).text).toStrictEqual(vocabulary);

    // Labels from feedback (the correction wins), predictions from the outputs, confidences from the decisions.
    const actual = ['approve', 'deny', 'approve', 'deny', 'deny', 'approve', undefined, 'deny'];
    let labelled = 0;
    let correct = 0;
    const calibration = new CalibrationTable();
    stored.forEach((d, i) => {
      const predicted = d.output?.label as string | undefined;
      if (actual[i] === undefined || predicted === undefined) return;
      labelled++;
      if (predicted === actual[i]) correct++;
      calibration.update(d.confidence as number, predicted === actual[i], predicted);
    });
    expect(labelled).toBeGreaterThan(4);
    expect(profile.accuracy).toStrictEqual({ labelled, correct, accuracy: correct / labelled });
    expect(profile.calibration).toStrictEqual(calibration.toJSON());

    const got = await call('GET', '/v1/services/loans/references/default');
    expect(got.status).toBe(200);
    const { skipped: _skipped, ...record } = profile;
    expect(got.body).toStrictEqual(record);
    const loaded = loadReferenceProfile(got.body as StoredReference);
    expect(loaded.config.features.map((f) => `${f.name}:${f.kind}`)).toStrictEqual(['text:text', 'amount:numeric', 'country:categorical']);
    expect(loaded.sketch.numeric('amount').counts.finite).toBe(inputs.length);
  });

  it('keeps every build; the newest of a name is the one served, and the list says which', async () => {
    const narrow = await call('POST', '/v1/services/loans/references', { name: 'last-week', since, until });
    expect(narrow.status).toBe(201);
    const later = ids[4]!;
    const from = (await call('GET', `/v1/decisions/${later}`)).body.createdAt as string;
    const rebuilt = await call('POST', '/v1/services/loans/references', { name: 'last-week', since: from, until });
    expect(rebuilt.status).toBe(201);
    expect(rebuilt.body.rows).toBeLessThan(inputs.length);
    const got = await call('GET', '/v1/services/loans/references/last-week');
    expect(got.body.id).toBe(rebuilt.body.id);
    expect(got.body.rows).toBe(rebuilt.body.rows);
    const list = await call('GET', '/v1/services/loans/references');
    expect(list.status).toBe(200);
    const entries = (list.body.references as Json[]).filter((r) => r.name === 'last-week');
    expect(entries.map((r) => [r.id, r.latest])).toStrictEqual([
      [rebuilt.body.id, true],
      [narrow.body.id, false],
    ]);
    expect(entries[0]).not.toHaveProperty('sketch');
    expect(Object.keys(entries[0]!).sort()).toStrictEqual(['createdAt', 'id', 'latest', 'name', 'rows', 'service', 'source']);
  });

  it('answers problems with catalogue codes: an empty window, an unknown reference or service, a malformed body', async () => {
    const empty = await call('POST', '/v1/services/loans/references', { since: '2001-01-01T00:00:00Z', until: '2001-01-02T00:00:00Z' });
    expect(empty.status).toBe(422);
    expect(empty.type).toContain('application/problem+json');
    expect(empty.body).toMatchObject({ code: 'REFERENCE_WINDOW_EMPTY', detail: 'loans has no decisions from 2001-01-01T00:00:00.000Z until 2001-01-02T00:00:00.000Z' });
    const missing = await call('GET', '/v1/services/loans/references/nope');
    expect([missing.status, missing.body.code]).toStrictEqual([404, 'REFERENCE_NOT_FOUND']);
    for (const [method, url, body] of [
      ['GET', '/v1/services/nope/references', undefined],
      ['GET', '/v1/services/nope/references/default', undefined],
      ['POST', '/v1/services/nope/references', { since, until }],
    ] as const) {
      const r = await call(method, url, body);
      expect([r.status, r.body.code], url).toStrictEqual([404, 'SERVICE_NOT_FOUND']);
    }
    const bad = await call('POST', '/v1/services/loans/references', { name: 'no spaces', since: 'yesterday', until: '2001-01-01', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('REQUEST_INVALID');
    expect((bad.body.issues as Json[]).map((i) => `${i.pointer} ${i.code}`).sort()).toStrictEqual(['/colour additionalProperties', '/name pattern', '/since format', '/until format']);
    const backwards = await call('POST', '/v1/services/loans/references', { since: until, until: since });
    expect(backwards.body.issues).toStrictEqual([{ pointer: '/until', code: 'range', message: 'must be after since' }]);
    const openapi = (await call('GET', '/v1/openapi.json')).body;
    expect(Object.keys(openapi.paths['/v1/services/{service}/references']).sort()).toStrictEqual(['get', 'post']);
    expect(openapi.paths['/v1/services/{service}/references/{name}'].get.operationId).toBe('getReference');
    expect(openapi.components.schemas.ReferenceRequest.required).toStrictEqual(['since', 'until']);
    const noBody = await request(`${base}/v1/services/loans/references`, { method: 'POST' });
    expect(noBody.statusCode).toBe(415);
    await noBody.body.dump();
    expect((await call('GET', '/v1/services/loans/references/nope')).status).toBe(404);
  });
});

describe('monitoringLabels', () => {
  const service = (monitoring: unknown, outputFields: [string, { kind?: string }][]) => ({ name: 's', config: { monitoring }, contract: { outputFields: new Map(outputFields) } }) as unknown as Service;

  it('reads labels where the monitors do: the configured pointer, else the first categorical output field, else a scalar', () => {
    const configured = monitoringLabels(service({ outputLabel: '/verdict/name' }, [['label', { kind: 'categorical' }]]));
    expect(configured.outputLabel({ verdict: { name: 'ok' }, label: 'x' })).toBe('ok');
    expect(configured.feedbackLabel({ verdict: { name: 'bad' } })).toBe('bad');
    expect(configured.feedbackLabel('bare')).toBe('bare');
    const annotated = monitoringLabels(service(undefined, [['score', { kind: 'numeric' }], ['a/b', { kind: 'categorical' }]]));
    expect(annotated.outputLabel({ 'a/b': 3, score: 1 })).toBe('3');
    expect(annotated.outputLabel(null)).toBeNull();
    const bare = monitoringLabels(service(undefined, []));
    expect(bare.outputLabel('spam')).toBe('spam');
    expect(bare.outputLabel(true)).toBe('true');
    expect(bare.outputLabel({ label: 'spam' })).toBeNull();
    expect(bare.feedbackLabel({ label: 'spam' })).toBeNull();
  });
});
