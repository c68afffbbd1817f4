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

export const safeChangePaths = {
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
