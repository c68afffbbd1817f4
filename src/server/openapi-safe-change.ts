// OpenAPI paths and schemas of safe change: live configuration and revisions (the registry, rollouts and
// approvals add theirs here).
const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const numberParam = { name: 'number', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };

const applyOptions = {
  reason: { type: 'string', description: 'Why; kept with the revision and in the audit event' },
  dryRun: { type: 'boolean', description: 'Plan only: validate, compile and show the changes without applying them' },
  expectRevision: { type: 'integer', description: 'Refuse with CONFIG_CONFLICT unless the running revision is still this one (the one the plan was made against)' },
};

const applyResult = json({ $ref: '#/components/schemas/ApplyResult' }, 'The plan, and the revision running after the call');

const serviceParam = { name: 'service', in: 'path', required: true, schema: { type: 'string' } };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
const reasonBody = { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1 } } } } } };
const rollout = { $ref: '#/components/schemas/Rollout' };

const rolloutAction = (action: string, summary: string) => ({
  post: {
    operationId: `${action}Rollout`,
    summary,
    parameters: [serviceParam],
    requestBody: reasonBody,
    responses: { 200: json(rollout, 'The rollout after the action'), 404: problemResponse('SERVICE_NOT_FOUND or ROLLOUT_NOT_FOUND'), 409: problemResponse('ROLLOUT_STATE_INVALID or GATE_NOT_MET') },
  },
});

export const safeChangePaths = {
  '/v1/services/{service}/rollouts': {
    post: {
      operationId: 'startRollout',
      summary: "Start a rollout of a candidate version by a strategy (canary steps, shadow, experiment); the service's rollout: block gives the defaults. Audited as rollout.started.",
      parameters: [serviceParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['candidate', 'reason'], properties: { candidate: { type: 'string' }, reason: { type: 'string' }, strategy: { enum: ['canary', 'shadow', 'experiment'] }, steps: { type: 'array', items: { type: 'object', properties: { weight: { type: 'number' }, pause: { type: 'object' } } } }, share: { type: 'number' }, weight: { type: 'number' }, pause: { type: 'object' }, failureLimit: { type: 'integer' }, inconclusiveLimit: { type: 'integer' }, onInconclusive: { enum: ['pause', 'rollback'] }, analysis: { type: 'object' } } } } } },
      responses: { 200: json(rollout, 'The started rollout'), 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('SERVICE_NOT_FOUND'), 409: problemResponse('ROLLOUT_ACTIVE') },
    },
    get: {
      operationId: 'listRollouts',
      summary: "The service's rollouts, newest first",
      parameters: [serviceParam, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
      responses: { 200: json({ type: 'object', properties: { service: { type: 'string' }, rollouts: { type: 'array', items: rollout } } }, 'Rollouts'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/rollout': {
    get: {
      operationId: 'rolloutStatus',
      summary: 'The current (or last) rollout with its whole history: every step, every analysis verdict with its numbers, who did what',
      parameters: [serviceParam],
      responses: { 200: json({ type: 'object', properties: { rollout, events: { type: 'array', items: { type: 'object' } }, routing: { type: 'object' } } }, 'The rollout'), 404: problemResponse('SERVICE_NOT_FOUND or ROLLOUT_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/rollout/pause': rolloutAction('pause', 'Hold the rollout at its step; traffic stays as it is'),
  '/v1/services/{service}/rollout/resume': rolloutAction('resume', 'Go on from a pause'),
  '/v1/services/{service}/rollout/promote': rolloutAction('promote', "Send 100% to the candidate now: the service's gate is checked, and the candidate becomes live in a new revision"),
  '/v1/services/{service}/rollout/abort': rolloutAction('abort', 'Stop the rollout: 100% stable at once, the candidate back to registered'),
  '/v1/services/{service}/rollout/retry': rolloutAction('retry', 'Start the last aborted or rolled-back rollout again, as a new rollout (retryOf names the old one)'),
  '/v1/services/{service}/rollback': {
    post: {
      operationId: 'rollback',
      summary: 'Route 100% to the stable version for the next request: the rollout in progress is rolled back (the candidate marked rolled-back), or the last promotion undone. Audited.',
      parameters: [serviceParam],
      requestBody: reasonBody,
      responses: { 200: json({ type: 'object', properties: { rollout, routing: { type: 'object' }, tookMs: { type: 'number', description: 'Server time from the request to the routing change' } } }, 'The rolled-back rollout'), 404: problemResponse('ROLLOUT_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/models/{version}/approvals': {
    post: {
      operationId: 'decideApproval',
      summary: "Approve (or refuse) a version's promotion at the service's gate; bound to the version's digest and the running revision. Audited.",
      parameters: [serviceParam, versionParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['decision', 'reason'], properties: { decision: { enum: ['approve', 'refuse'] }, reason: { type: 'string', minLength: 1 } } } } } },
      responses: { 200: json({ type: 'object' }, 'The approval kept'), 201: json({ type: 'object' }, 'The approval kept'), 403: problemResponse('APPROVAL_NOT_ALLOWED'), 404: problemResponse('VERSION_NOT_FOUND') },
    },
    get: {
      operationId: 'listApprovals',
      summary: "The approvals that count now, every decision on the version, and the gate's judgement with each check",
      parameters: [serviceParam, versionParam],
      responses: { 200: json({ type: 'object' }, 'Approvals and gate'), 404: problemResponse('VERSION_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/kill-switch': {
    post: {
      operationId: 'setKillSwitch',
      summary: "Engage or release the service's kill switch: while engaged no model is called and every request goes down the fallback chain's rules, static answer or review. Kept and audited before it takes effect.",
      parameters: [serviceParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['engaged', 'reason'], properties: { engaged: { type: 'boolean' }, reason: { type: 'string', minLength: 1 } } } } } },
      responses: { 200: json({ type: 'object' }, 'The switch after the action'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
    get: {
      operationId: 'getKillSwitch',
      summary: "The service's kill switch and its history",
      parameters: [serviceParam],
      responses: { 200: json({ type: 'object' }, 'The switch'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/config': {
    post: {
      operationId: 'applyConfig',
      summary: 'Validate a whole configuration, plan it against the running revision and apply it without a restart, as the next revision (audited as config.applied). A bad file is refused whole.',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['config'], properties: { config: { type: 'string', description: 'The configuration as YAML text' }, source: { type: 'string', description: 'A name for it (the file name)' }, ...applyOptions } } } } },
      responses: {
        200: applyResult,
        400: problemResponse('CONFIG_INVALID (every problem with its path and line) or REQUEST_INVALID'),
        409: problemResponse('CONFIG_RESTART_REQUIRED (the change touches settings only a restart applies) or CONFIG_CONFLICT'),
        422: problemResponse('MODEL_ARTIFACT_UNREADABLE'),
      },
    },
  },
  '/v1/revisions': {
    get: {
      operationId: 'listRevisions',
      summary: 'The configuration revisions, newest first (without their text), and the running one',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1000 } },
        { name: 'before', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'Revisions numbered below this one (the next page)' },
      ],
      responses: { 200: json({ type: 'object', properties: { running: { type: 'integer' }, revisions: { type: 'array', items: { $ref: '#/components/schemas/Revision' } } } }, 'Revisions') },
    },
  },
  '/v1/revisions/{number}': {
    get: {
      operationId: 'getRevision',
      summary: 'One revision with its configuration text',
      parameters: [numberParam],
      responses: { 200: json({ allOf: [{ $ref: '#/components/schemas/Revision' }, { type: 'object', properties: { text: { type: 'string' }, running: { type: 'boolean' } } }] }, 'The revision'), 404: problemResponse('REVISION_NOT_FOUND') },
    },
  },
  '/v1/revisions/{number}/apply': {
    post: {
      operationId: 'reapplyRevision',
      summary: "Apply an old revision's configuration again, as a new revision (audited as config.reapplied)",
      parameters: [numberParam],
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: applyOptions } } } },
      responses: { 200: applyResult, 404: problemResponse('REVISION_NOT_FOUND'), 409: problemResponse('CONFIG_RESTART_REQUIRED or CONFIG_CONFLICT') },
    },
  },
};

export const safeChangeSchemas = {
  Rollout: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      service: { type: 'string' },
      stable: { type: 'string' },
      candidate: { type: 'string' },
      strategy: { enum: ['canary', 'shadow', 'experiment'] },
      state: { enum: ['running', 'paused', 'promoted', 'completed', 'aborted', 'rolled-back'] },
      step: { type: 'integer' },
      weight: { type: 'number' },
      spec: { type: 'object' },
      status: { type: 'object' },
    },
  },
  Revision: {
    type: 'object',
    required: ['number', 'digest', 'source', 'actor', 'at', 'reason'],
    properties: {
      number: { type: 'integer' },
      digest: { type: 'string', description: "SHA-256 of the configuration's canonical JSON" },
      source: { type: 'string' },
      actor: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      reason: { type: 'string' },
      basedOn: { type: ['integer', 'null'] },
    },
  },
  ApplyResult: {
    type: 'object',
    required: ['plan', 'revision', 'applied'],
    properties: {
      applied: { type: 'boolean', description: 'false for a dry run or when nothing changed' },
      revision: { type: 'integer', description: 'The revision running after the call' },
      plan: {
        type: 'object',
        properties: {
          changes: { type: 'array', items: { type: 'object', required: ['path', 'kind'], properties: { path: { type: 'string', description: 'JSON pointer into the configuration' }, kind: { enum: ['add', 'remove', 'change'] }, before: {}, after: {}, restart: { type: 'string' } } } },
          restartRequired: { type: 'array', items: { type: 'object' } },
        },
      },
    },
  },
};
