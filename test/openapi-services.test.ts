// The OpenAPI document of a config with two services: each service's decision path is typed by its
// own contract (input and output), so a generated client gets one typed method per service.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keywordModelPath, startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ticketsService = `  tickets:
    contract:
      input:
        schema:
          type: object
          required: [text, queue]
          additionalProperties: false
          properties:
            text: { type: string }
            queue: { enum: [billing, tech] }
        fields:
          text: { kind: text }
      output:
        schema:
          type: object
          required: [label]
          properties:
            label: { enum: [approve, deny] }
            score: { type: number }
    policy:
      thresholds: { auto: 0.8 }
    models:
      v1:
        adapter: { kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel }
    live: v1
`;

let ballast: TestBallast;
let doc: Json;
beforeAll(async () => {
  ballast = await startTestBallast(testConfigYaml() + ticketsService);
  doc = (await ballast.server.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
});
afterAll(async () => ballast.close());

/** Resolves a local `$ref` in the document. */
function resolve(ref: string): Json {
  return ref
    .slice(2)
    .split('/')
    .reduce<Json>((node, part) => node[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/** A validator for one component schema, with the document's components beside it. */
function validatorOf(component: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile({ components: doc.components, $ref: `#/components/schemas/${component}` });
}

describe('the OpenAPI document of a config with two services', () => {
  it('has a decision path per service whose request and answer use that service\'s contract', () => {
    for (const service of ['loans', 'tickets']) {
      const operation = doc.paths[`/v1/services/${service}/decisions`]?.post;
      expect(operation, service).toBeDefined();
      const request = operation.requestBody.content['application/json'].schema;
      expect(request).toStrictEqual({ $ref: `#/components/schemas/${service}.DecisionRequest` });
      expect(resolve(request.$ref).properties.input.$ref).toBe(`#/components/schemas/${service}.input`);
      expect(resolve(`#/components/schemas/${service}.input`)).toStrictEqual(ballast.runtime.services.get(service)!.config.contract.input.schema);
      const answer = operation.responses[200].content['application/json'].schema;
      expect(answer).toStrictEqual({ $ref: `#/components/schemas/${service}.Decision` });
      expect(resolve(answer.$ref).properties.output.anyOf).toContainEqual({ $ref: `#/components/schemas/${service}.output` });
      // The same access rule and security as the generic path.
      const generic = doc.paths['/v1/services/{service}/decisions'].post;
      expect(operation.security).toStrictEqual(generic.security);
      expect(operation['x-ballast-permission']).toStrictEqual(generic['x-ballast-permission']);
      expect(operation.responses[422]).toStrictEqual(generic.responses[422]);
      expect(operation.parameters).toBeUndefined();
    }
    expect(doc.paths['/v1/services/loans/decisions'].post.operationId).toBe('decideLoans');
    expect(doc.paths['/v1/services/tickets/decisions'].post.operationId).toBe('decideTickets');
  });

  it('keeps the generic path, and every operation id is unique and every $ref resolves', () => {
    expect(doc.paths['/v1/services/{service}/decisions'].post.operationId).toBe('decide');
    const ids = Object.values(doc.paths as Json).flatMap((item: Json) => Object.values(item).map((op: Json) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) expect(resolve(JSON.parse(`{${ref}}`).$ref), ref).toBeDefined();
  });

  it('validates each service\'s request by its own input contract', () => {
    const loans = validatorOf('loans.DecisionRequest');
    const tickets = validatorOf('tickets.DecisionRequest');
    expect(loans({ input: { text: 'good', amount: 500 }, subjectKey: 'c1' })).toBe(true);
    expect(loans({ input: { text: 'good' } })).toBe(false);
    expect(loans({ input: { text: 'good', amount: 500 }, colour: 'red' })).toBe(false);
    expect(tickets({ input: { text: 'my invoice', queue: 'billing' } })).toBe(true);
    expect(tickets({ input: { text: 'good', amount: 500 } })).toBe(false);
    expect(validatorOf('tickets.Decision')({ id: 'dec_1', service: 'tickets', version: 'v1', createdAt: '2026-01-01T00:00:00Z', outcome: 'auto', output: { label: 'maybe' }, confidence: 0.9, reasons: [], explanation: {}, timings: {} })).toBe(false);
  });

  it('the typed path is the one the server serves', async () => {
    const response = await ballast.server.app.inject({ method: 'POST', url: '/v1/services/tickets/decisions', payload: { input: { text: 'my invoice', queue: 'billing' } } });
    expect(response.statusCode).toBe(200);
    expect(validatorOf('tickets.Decision')(response.json())).toBe(true);
  });
});
