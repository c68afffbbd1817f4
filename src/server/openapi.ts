import { errorCodes } from '../errors/index.js';
import { decisionOutcomes, stageNames, type Service } from '../pipeline/index.js';
import { DEFAULT_REFERENCE_NAME, referenceNamePattern } from '../monitoring/reference/index.js';
import { rolePermissions, roles } from '../governance/index.js';
import { callerFeedbackKinds, principalKinds } from '../store/index.js';
import { ruleOf } from './route-permissions.js';
import { safeChangePaths, safeChangeSchemas } from './openapi-safe-change.js';
import { reviewPaths, reviewSchemas } from './openapi-review.js';
import { ownershipPaths, ownershipSchemas } from './openapi-ownership.js';
import { datasetPaths } from './openapi-dataset.js';
import { modelRouteDocs } from './routes/model-routes.js';

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });

const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const keyView = { $ref: '#/components/schemas/ApiKey' };

const serviceParam = { name: 'service', in: 'path', required: true, schema: { type: 'string' } };
const breakerAction = (target: 'open' | 'close') => ({
  post: {
    operationId: target === 'open' ? 'openBreaker' : 'closeBreaker',
    summary: target === 'open'
      ? "Open a model version's breaker by hand: its traffic goes down the fallback chain until an operator closes it; audited as breaker.opened"
      : "Close a model version's breaker by hand (it starts again with an empty window); audited as breaker.closed",
    parameters: [serviceParam, { name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1 } } } } } },
    responses: {
      200: json({ type: 'object', properties: { changed: { type: 'boolean', description: 'false when the breaker already was in that state' }, breaker: { $ref: '#/components/schemas/Breaker' } } }, 'The breaker after the action'),
      400: problemResponse('No reason, or the version has no breaker'),
      404: problemResponse('SERVICE_NOT_FOUND or VERSION_NOT_FOUND'),
    },
  },
});

/** Circuit breakers (resilience). */
const breakerPaths = {
  '/v1/services/{service}/breakers': {
    get: {
      operationId: 'listBreakers',
      summary: "The breaker of each model version (state, window counts, rates, configuration) and the service's kept history of state changes, newest first",
      parameters: [serviceParam],
      responses: {
        200: json({ type: 'object', properties: { service: { type: 'string' }, breakers: { type: 'array', items: { $ref: '#/components/schemas/Breaker' } }, history: { type: 'array', items: { $ref: '#/components/schemas/BreakerTransition' } } } }, 'Breakers and history'),
        404: problemResponse('No such service'),
      },
    },
  },
  '/v1/services/{service}/breakers/{version}/open': breakerAction('open'),
  '/v1/services/{service}/breakers/{version}/close': breakerAction('close'),
};

const breakerSchemas = {
  Breaker: {
    type: 'object',
    required: ['version', 'kind', 'enabled'],
    properties: {
      version: { type: 'string' },
      kind: { enum: ['errors'] },
      enabled: { type: 'boolean' },
      state: { enum: ['closed', 'open', 'half_open'] },
      since: { type: 'string', format: 'date-time' },
      openUntil: { type: 'string', format: 'date-time', description: 'When an open breaker lets probes through (absent when forced open)' },
      calls: { type: 'integer', description: 'Calls in the window (closed), probes recorded (half-open), or those that opened it (open)' },
      failures: { type: 'integer' },
      slowCalls: { type: 'integer' },
      failureRate: { type: 'number' },
      slowCallRate: { type: 'number' },
      probesInFlight: { type: 'integer' },
      config: { type: 'object' },
    },
  },
  BreakerTransition: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      service: { type: 'string' },
      version: { type: 'string' },
      kind: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      reason: { type: 'string' },
      figures: { type: 'object', description: 'calls, failureRate, slowCallRate at the change' },
      actor: { type: ['string', 'null'], description: 'The principal who forced it; null when the breaker itself changed' },
    },
  },
};

/** Identity and audit routes (governance). */
const governancePaths = {
  '/v1/whoami': { get: { operationId: 'whoami', summary: 'The principal, key, role and scope this request acts as', responses: { 200: json({ type: 'object' }, 'The caller') } } },
  '/v1/principals': { get: { operationId: 'listPrincipals', summary: 'People and workloads that hold keys', responses: { 200: json({ type: 'object' }, 'Principals') } } },
  '/v1/keys': {
    get: { operationId: 'listKeys', summary: 'API keys (never their secrets)', parameters: [{ name: 'principal', in: 'query', schema: { type: 'string' } }], responses: { 200: json({ type: 'object', properties: { keys: { type: 'array', items: keyView } } }, 'Keys') } },
    post: {
      operationId: 'createKey',
      summary: 'Create a key; its secret (`token`) is in this answer only',
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/KeyRequest' } } } },
      responses: { 201: json({ allOf: [keyView, { type: 'object', properties: { token: { type: 'string' } } }] }, 'Created'), 400: problemResponse('Malformed request'), 404: problemResponse('No such service') },
    },
  },
  '/v1/keys/{id}': { get: { operationId: 'getKey', summary: 'One key', parameters: idParam, responses: { 200: json(keyView, 'The key'), 404: problemResponse('No such key') } } },
  '/v1/keys/{id}/revoke': { post: { operationId: 'revokeKey', summary: 'Revoke a key at once', parameters: idParam, responses: { 200: json(keyView, 'Revoked'), 404: problemResponse('No such key') } } },
  '/v1/keys/{id}/rotate': {
    post: {
      operationId: 'rotateKey',
      summary: 'A new key with the same principal, role and scope; the old one stays valid for `grace` (default 24h)',
      parameters: idParam,
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { grace: { type: 'string', examples: ['24h', '30m'] } } } } } },
      responses: { 201: json({ type: 'object' }, 'The new key with its token, and the previous key'), 400: problemResponse('The key is revoked or expired'), 404: problemResponse('No such key') },
    },
  },
  '/v1/audit/events': {
    get: {
      operationId: 'listAuditEvents',
      summary: 'Audit events, oldest first: who (principal, key, role) did what to which resource, with digests before and after',
      parameters: ['since', 'until', 'action', 'resource', 'principal', 'service', 'after', 'limit'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
      responses: { 200: json({ type: 'object' }, 'A page of events; `next` is the cursor for `after`'), 400: problemResponse('Bad query') },
    },
  },
  '/v1/audit/checkpoints': {
    get: { operationId: 'listAuditCheckpoints', summary: 'Signed checkpoints of the Merkle log (C2SP checkpoint notes), and the verifier key', responses: { 200: json({ type: 'object' }, 'Checkpoints') } },
    post: { operationId: 'createAuditCheckpoint', summary: 'Sign a checkpoint of the log as it is now', responses: { 201: json({ type: 'object' }, 'The checkpoint') } },
  },
  '/v1/audit/proofs/inclusion/{id}': {
    get: {
      operationId: 'auditInclusionProof',
      summary: 'An RFC 9162 inclusion proof that a decision, feedback or audit event is in the log unchanged, against the latest signed checkpoint (made on demand when none covers it yet)',
      parameters: idParam,
      responses: { 200: json({ type: 'object' }, 'Leaf, index, proof, signed checkpoint'), 404: problemResponse('AUDIT_ENTRY_NOT_FOUND: not in the log') },
    },
  },
  '/v1/audit/proofs/consistency': {
    get: {
      operationId: 'auditConsistencyProof',
      summary: 'An RFC 9162 consistency proof between two tree sizes',
      parameters: ['from', 'to'].map((name) => ({ name, in: 'query', required: true, schema: { type: 'integer' } })),
      responses: { 200: json({ type: 'object' }, 'The proof'), 400: problemResponse('Bad sizes') },
    },
  },
};

const holdView = { $ref: '#/components/schemas/LegalHold' };

/** Retention routes (governance). */
const retentionPaths = {
  '/v1/retention/purge': {
    post: { operationId: 'purgeRetention', summary: "Purge now: remove the raw input and context of every decision older than its service's `retention.inputs` term and not under a legal hold; digests stay, so the audit log verifies", responses: { 200: json({ type: 'object' }, 'Decisions purged per service') } },
  },
  '/v1/retention/holds': {
    get: { operationId: 'listLegalHolds', summary: 'Legal holds (`?active=true`: only those not released)', parameters: [{ name: 'active', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }], responses: { 200: json({ type: 'object', properties: { holds: { type: 'array', items: holdView } } }, 'Holds') } },
    post: {
      operationId: 'placeLegalHold',
      summary: 'Hold a service or one decision: no purge or erasure touches it until released',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { service: { type: 'string' }, decisionId: { type: 'string' }, reason: { type: 'string' } } } } } },
      responses: { 201: json(holdView, 'The hold'), 400: problemResponse('Neither or both of service and decisionId, or no reason'), 404: problemResponse('No such service or decision') },
    },
  },
  '/v1/retention/holds/{id}/release': {
    post: { operationId: 'releaseLegalHold', summary: 'Release a hold', parameters: idParam, responses: { 200: json(holdView, 'Released'), 404: problemResponse('HOLD_NOT_FOUND') } },
  },
  '/v1/subjects/erase': {
    post: {
      operationId: 'eraseSubject',
      summary: "Erase one data subject (GDPR Art. 17): the raw input and context of every decision with this subject key, except those under a legal hold; audited as subject.erased with the key's keyed hash",
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['subjectKey'], properties: { subjectKey: { type: 'string' } } } } } },
      responses: { 200: json({ type: 'object', properties: { subjectHash: { type: 'string' }, erased: { type: 'integer' } } }, 'How many decisions were erased'), 400: problemResponse('No subject key') },
    },
  },
};

const governanceSchemas = {
  LegalHold: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      service: { type: ['string', 'null'] },
      decisionId: { type: ['string', 'null'] },
      reason: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      createdBy: { type: 'string' },
      releasedAt: { type: ['string', 'null'], format: 'date-time' },
      releasedBy: { type: ['string', 'null'] },
    },
  },
  ApiKey: {
    type: 'object',
    properties: {
      id: { type: 'string', examples: ['bk_4k2m9x0qzt'] },
      principal: { type: 'string' },
      role: { enum: roles },
      service: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
      rotatedTo: { type: ['string', 'null'] },
      status: { enum: ['active', 'expired', 'revoked', 'rotated'] },
    },
  },
  KeyRequest: {
    type: 'object',
    required: ['principal', 'role'],
    additionalProperties: false,
    properties: {
      principal: { type: 'string' },
      role: { enum: roles },
      service: { type: ['string', 'null'], description: 'Only on this service (default: every service)' },
      expires: { type: 'string', examples: ['90d'] },
      kind: { enum: principalKinds, default: 'workload' },
      email: { type: 'string' },
    },
  },
};

/**
 * Adds to every operation what it needs (from route-permissions.ts): `security`, the permission
 * as `x-ballast-permission`, and the 401/403/429 answers.
 */
function withPermissions(paths: Record<string, Record<string, Record<string, unknown>>>) {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const rule = ruleOf(method.toUpperCase(), path.replace(/\{([^}]+)\}/g, ':$1'));
      if (rule === undefined || rule.access === 'public') {
        operation.security = [];
        continue;
      }
      operation.security = [{ apiKey: [] }, { bearer: [] }];
      operation['x-ballast-permission'] = rule.access === 'permission' ? { permission: rule.permission, scope: rule.scope, roles: roles.filter((r) => rolePermissions[r].includes(rule.permission)) } : 'authenticated';
      operation.responses = {
        ...(operation.responses as object),
        401: problemResponse('AUTH_REQUIRED or AUTH_INVALID_KEY: no key, or an unknown, revoked or expired one'),
        ...(rule.access === 'permission' ? { 403: problemResponse("AUTH_FORBIDDEN: the key's role does not allow this here") } : {}),
        429: problemResponse('AUTH_RATE_LIMITED: too many failed authentications from this address; see Retry-After'),
      };
    }
  }
  return paths;
}

/** `spam-filter` → `decideSpamFilter`: an operation id a code generator turns into a method name. */
function decideOperationId(service: string, taken: Set<string>): string {
  const base = `decide${service.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')}`;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

/**
 * One path per service (`/v1/services/spam-filter/decisions`) whose request and answer are typed by
 * that service's contract: `input` is `<service>.input`, `output` is `<service>.output` (or null when
 * no output is given: review, rejected). A concrete path matches before the templated one (OpenAPI
 * 3.1, Path Templating Matching), so a generated client gets one typed method per service. The
 * operation keeps the generic one's permission, security and answers.
 */
function serviceDecisionPaths(services: ReadonlyMap<string, Service>, generic: Record<string, unknown>) {
  const paths: Record<string, { post: Record<string, unknown> }> = {};
  const schemas: Record<string, unknown> = {};
  const taken = new Set<string>(['decide']);
  for (const service of services.values()) {
    const name = service.name;
    const ref = (schema: string) => ({ $ref: `#/components/schemas/${name}.${schema}` });
    schemas[`${name}.DecisionRequest`] = {
      allOf: [{ $ref: '#/components/schemas/DecisionRequest' }],
      type: 'object',
      required: ['input'],
      properties: { input: { ...ref('input'), description: `The input of ${name}, validated by its input contract` } },
    };
    schemas[`${name}.Decision`] = {
      allOf: [{ $ref: '#/components/schemas/Decision' }],
      type: 'object',
      properties: { service: { const: name }, output: { anyOf: [ref('output'), { type: 'null' }], description: `The output by ${name}'s output contract; null when there is none (review without an answer, rejected)` } },
    };
    const responses = { ...(generic.responses as Record<string, unknown>) };
    responses[200] = json(ref('Decision'), 'The decision (any outcome: auto, review, fallback, rejected)');
    responses[404] = problemResponse('SERVICE_NOT_FOUND: the server no longer serves this service');
    const { parameters: _parameters, ...rest } = generic;
    paths[`/v1/services/${name}/decisions`] = {
      post: {
        ...rest,
        operationId: decideOperationId(name, taken),
        summary: `Make one decision of ${name}; answers once it is durably recorded`,
        requestBody: { required: true, content: { 'application/json': { schema: ref('DecisionRequest') } } },
        responses,
        'x-ballast-service': name,
      },
    };
  }
  return { paths, schemas };
}

/** The OpenAPI 3.1 document of the API, with each service's contract as component schemas and its own decision path. */
export function buildOpenApiDocument(options: { version: string; services: ReadonlyMap<string, Service> }) {
  const serviceSchemas: Record<string, unknown> = {};
  for (const service of options.services.values()) {
    serviceSchemas[`${service.name}.input`] = service.config.contract.input.schema;
    serviceSchemas[`${service.name}.output`] = service.config.contract.output.schema;
  }
  const paths = withPermissions(genericPaths());
  const perService = serviceDecisionPaths(options.services, paths['/v1/services/{service}/decisions']!.post!);
  Object.assign(serviceSchemas, perService.schemas);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Ballast API',
      version: options.version,
      description: 'Decisions through contracts, policy and a model, recorded durably and explained. Errors are RFC 9457 problem documents with a stable `code` (see docs/errors.md).',
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    paths: { ...paths, ...perService.paths },
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A Ballast API key (bk_…)' },
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer bk_…' },
      },
      schemas: {
        ...serviceSchemas,
        ...governanceSchemas,
        ...breakerSchemas,
        ...safeChangeSchemas,
        ...reviewSchemas,
        ...ownershipSchemas,
        ...commonSchemas,
      },
    },
  };
}

/** Every route's operations, with the decision path generic over `{service}`. */
function genericPaths(): Record<string, Record<string, Record<string, unknown>>> {
  return {
    ...governancePaths,
    ...retentionPaths,
    ...breakerPaths,
    ...safeChangePaths,
    ...reviewPaths,
    ...ownershipPaths,
    ...datasetPaths,
    ...modelRouteDocs,
    '/v1/services/{service}/decisions': {
      post: {
        operationId: 'decide',
        summary: 'Make one decision; answers once it is durably recorded',
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DecisionRequest' } } } },
        responses: {
          200: json({ $ref: '#/components/schemas/Decision' }, 'The decision (any outcome: auto, review, fallback, rejected)'),
          400: problemResponse('Malformed body, or body breaking a size, depth or length limit'),
          404: problemResponse('No such service'),
          413: problemResponse('Body too large'),
          415: problemResponse('Content type missing or not application/json'),
          422: problemResponse("Input violates the service's contract; `issues` lists every violation"),
          429: problemResponse("RATE_LIMITED: the caller's rate limit is spent; RateLimit and RateLimit-Policy say how it stands, Retry-After when to come back"),
          503: problemResponse('Busy (admission: concurrency limit, wait queue, event-loop delay or heap), draining, or the decision log is unavailable; see Retry-After'),
        },
      },
    },
    '/v1/decisions/{id}': {
      get: {
        operationId: 'getDecision',
        summary: 'A recorded decision with its explanation, timings and feedback; without its input and context (`withheld`) unless `view=raw`, which needs decisions:read-raw and is audited',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'view', in: 'query', schema: { enum: ['redacted', 'raw'], default: 'redacted' } },
        ],
        responses: { 200: json({ $ref: '#/components/schemas/StoredDecision' }, 'The decision'), 404: problemResponse('No such decision') },
      },
    },
    '/v1/decisions/{id}/feedback': {
      post: {
        operationId: 'postFeedback',
        summary: 'Record a ground-truth label or a business outcome (append-only)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/FeedbackRequest' } } } },
        responses: { 201: json({ $ref: '#/components/schemas/Feedback' }, 'Recorded'), 400: problemResponse('Malformed feedback'), 404: problemResponse('No such decision') },
      },
    },
    '/v1/services': { get: { operationId: 'listServices', summary: 'The services this server decides for', responses: { 200: json({ type: 'object' }, 'Services') } } },
    '/v1/services/{service}': {
      get: {
        operationId: 'getService',
        summary: "A service's contract, policy and versions, and who owns what (ownership: owners, risk, runbook, on-call and escalation routes, review SLA, live version, alert rules and where they go)",
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json({ type: 'object', properties: { ownership: { $ref: '#/components/schemas/ServiceOwnership' } } }, 'The service'), 404: problemResponse('No such service') },
      },
    },
    '/v1/services/{service}/references': {
      post: {
        operationId: 'buildReference',
        summary: "Build a reference profile (statistics, never rows) from a window of the service's decision log and store it",
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ReferenceRequest' } } } },
        responses: {
          201: json({ allOf: [{ $ref: '#/components/schemas/Reference' }, { type: 'object', properties: { skipped: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string' } } } } } }] }, 'Stored; Location names it'),
          400: problemResponse('Malformed request (issues point at name, since, until)'),
          404: problemResponse('No such service'),
          422: problemResponse('REFERENCE_WINDOW_EMPTY: no decisions in the window'),
        },
      },
      get: {
        operationId: 'listReferences',
        summary: "The service's stored reference profiles without their statistics, newest first per name",
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: json({ type: 'object', properties: { service: { type: 'string' }, references: { type: 'array', items: { $ref: '#/components/schemas/ReferenceSummary' } } } }, 'Reference profiles'),
          404: problemResponse('No such service'),
        },
      },
    },
    '/v1/services/{service}/references/{name}': {
      get: {
        operationId: 'getReference',
        summary: 'The newest reference profile of that name, with its statistics',
        parameters: [
          { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        ],
        responses: { 200: json({ $ref: '#/components/schemas/Reference' }, 'The profile'), 404: problemResponse('No such service (SERVICE_NOT_FOUND) or profile (REFERENCE_NOT_FOUND)') },
      },
    },
    '/v1/services/{service}/monitors': {
      get: {
        operationId: 'listMonitors',
        summary: 'The current state of every monitor of the service, per model version and segment (after hysteresis)',
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json({ type: 'object', properties: { service: { type: 'string' }, reference: { type: ['object', 'null'] }, monitors: { type: 'array', items: { $ref: '#/components/schemas/MonitorStatus' } } } }, 'Monitors'), 404: problemResponse('No such service') },
      },
    },
    '/v1/services/{service}/monitors/evaluate': {
      post: {
        operationId: 'evaluateMonitors',
        summary: 'Evaluate now: the windows with new traffic or waiting for labels, or every stored window',
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { windows: { const: 'all' } } } } } },
        responses: { 200: json({ type: 'object' }, 'The windows evaluated and the resulting states'), 400: problemResponse('Malformed request'), 404: problemResponse('No such service') },
      },
    },
    '/v1/services/{service}/monitors/{monitor}': {
      get: {
        operationId: 'getMonitorHistory',
        summary: "One monitor's current states and its history, newest first (names with '/' URL-encoded)",
        parameters: [
          { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'monitor', in: 'path', required: true, schema: { type: 'string' }, example: 'feature_drift%2Fbody' },
          { name: 'version', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'segment', in: 'query', required: false, schema: { type: 'string' }, description: "e.g. country=DE; empty for the unsegmented traffic" },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: json({ type: 'object' }, 'Current states and history'), 400: problemResponse('Bad limit'), 404: problemResponse('No such service (SERVICE_NOT_FOUND) or monitor (MONITOR_NOT_FOUND)') },
      },
    },
    '/v1/alerts': {
      get: {
        operationId: 'listAlerts',
        summary: 'Alerts raised by the alert rules of the services',
        parameters: [
          { name: 'service', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'state', in: 'query', required: false, schema: { enum: ['firing', 'resolved'] } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: json({ type: 'object' }, 'Alerts'), 400: problemResponse('Bad state or limit'), 404: problemResponse('No such service') },
      },
    },
    '/v1/alerts/{id}': {
      get: {
        operationId: 'getAlert',
        summary: 'One alert with who owns it (owners, runbook, escalation, acknowledgement), its webhook deliveries and every attempt of each',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json({ $ref: '#/components/schemas/AlertWithOwnership' }, 'The alert'), 404: problemResponse('No such alert') },
      },
    },
    '/healthz': { get: { operationId: 'health', summary: 'Liveness', responses: { 200: json({ type: 'object' }, 'Alive') } } },
    '/readyz': { get: { operationId: 'ready', summary: 'Readiness: the decision log is writable and the server is not draining', responses: { 200: json({ type: 'object' }, 'Ready'), 503: json({ type: 'object' }, 'Not ready') } } },
    '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus metrics (text exposition format)', responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1') } } },
  };
}

const commonSchemas = {
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code', 'retryable'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { enum: errorCodes },
      retryable: { type: 'boolean' },
      issues: { type: 'array', items: { $ref: '#/components/schemas/Issue' } },
    },
  },
  Issue: { type: 'object', required: ['pointer', 'code', 'message'], properties: { pointer: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
  DecisionRequest: {
    type: 'object',
    required: ['input'],
    additionalProperties: false,
    properties: {
      input: { description: "The model input; validated by the service's input contract (typed per service in `<service>.DecisionRequest`, at `/v1/services/<service>/decisions`)" },
      subjectKey: { type: 'string', maxLength: 1024 },
      context: { type: 'object' },
      priority: { enum: ['high', 'normal', 'low'], default: 'normal', description: 'Under overload, high is shed last and low first' },
    },
  },
  Decision: {
    type: 'object',
    required: ['id', 'service', 'version', 'createdAt', 'outcome', 'output', 'confidence', 'reasons', 'explanation', 'timings'],
    properties: {
      id: { type: 'string' },
      service: { type: 'string' },
      version: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      outcome: { enum: decisionOutcomes },
      output: {},
      confidence: { type: ['number', 'null'] },
      reasons: { type: 'array', items: { type: 'object', description: '{ kind, code, message, effect, rule?, field?, checker? }' } },
      explanation: {
        type: 'object',
        description: 'Why: revision, version, route, thresholds, reasons, rules, quality, attributions, and when they apply modelError, attempts, fallback, breakers, notices, routing and crossChecks (each checker that ran: name, kind, version, verdict agree | disagree | unavailable, fields compared, output, confidence, error, ms, action)',
      },
      timings: { type: 'object', propertyNames: { enum: stageNames }, additionalProperties: { type: 'number' } },
      review: {
        type: 'object',
        description: 'Outcome review: the review item opened with the decision. Poll GET /v1/reviews/{id} or wait for the review webhook.',
        properties: { id: { type: 'string' }, priority: { type: 'integer' }, dueAt: { type: 'string', format: 'date-time' }, requiredReviews: { type: 'integer' } },
      },
    },
  },
  StoredDecision: { type: 'object', description: 'The decision as recorded: redacted input, explanation, timings, feedback' },
  FeedbackRequest: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: { kind: { enum: callerFeedbackKinds, default: 'label' }, value: {}, source: { type: 'string' }, note: { type: 'string' }, supersedes: { type: 'string' } },
  },
  Feedback: { type: 'object' },
  ReferenceRequest: {
    type: 'object',
    required: ['since', 'until'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', pattern: referenceNamePattern, default: DEFAULT_REFERENCE_NAME, description: 'Monitors compare with the profile named default' },
      since: { type: 'string', format: 'date-time', description: 'Decisions created at or after this instant' },
      until: { type: 'string', format: 'date-time', description: 'and before this one' },
    },
  },
  MonitorStatus: {
    type: 'object',
    required: ['monitor', 'version', 'segment', 'state', 'since', 'message', 'stateMessage', 'value', 'window'],
    properties: {
      monitor: { type: 'string', examples: ['input_drift', 'feature_drift/body', 'accuracy'] },
      version: { type: 'string' },
      segment: { type: ['string', 'null'] },
      state: { enum: ['unknown', 'ok', 'warning', 'alert'] },
      since: { type: 'string', format: 'date-time' },
      message: { type: 'string', description: "The latest judged window's message." },
      stateMessage: { type: 'string', description: 'One sentence that agrees with state: the message when the latest window is at the state, else why hysteresis holds it.' },
      value: { type: ['number', 'null'] },
      window: { type: 'object', properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } } },
    },
  },
  ReferenceSummary: {
    type: 'object',
    required: ['id', 'service', 'name', 'createdAt', 'source', 'rows', 'latest'],
    properties: {
      id: { type: 'string' },
      service: { type: 'string' },
      name: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      source: { type: 'object', description: "{ kind: 'file', path, format, rows } or { kind: 'window', since, until, decisions }" },
      rows: { type: 'integer' },
      latest: { type: 'boolean', description: 'The newest of its name: the one in use' },
    },
  },
  Reference: {
    type: 'object',
    required: ['id', 'service', 'name', 'createdAt', 'source', 'rows', 'features', 'sketch', 'vocabularies', 'calibration', 'accuracy'],
    properties: {
      id: { type: 'string' },
      service: { type: 'string' },
      name: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      source: { type: 'object' },
      rows: { type: 'integer' },
      features: { type: 'array', items: { type: 'object' }, description: 'Sketch specs: numeric edges, tracked categories, text length and token-count edges' },
      sketch: { type: 'object', description: "The reference's own feature sketch set (JSON of FeatureSketchSet)" },
      vocabularies: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Per text feature, its most frequent lower-case tokens, sorted' },
      calibration: { type: ['object', 'null'], description: 'Labelled predictions per confidence bin' },
      accuracy: { type: ['object', 'null'], properties: { labelled: { type: 'integer' }, correct: { type: 'integer' }, accuracy: { type: 'number' } } },
    },
  },
};
