// OpenAPI paths and schemas of ownership: who owns a service, and acknowledging its alerts.
const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const route = { type: 'object', required: ['url', 'secret', 'timeoutMs'], properties: { url: { type: 'string' }, secret: { type: 'string', description: 'The name of the environment variable holding the signing secret (never its value)' }, timeoutMs: { type: 'integer' } } };

/** What an alert says about who owns it (in GET /v1/alerts/{id}, the ack's answer and every webhook payload). */
const alertOwnershipProperties = {
  owners: { type: 'array', items: { type: 'string' }, description: "The service's owners (its current config)" },
  runbook: { type: ['string', 'null'], description: 'A URL or path: what the alert means and what to do' },
  escalation: nullable({
    type: 'object',
    required: ['after', 'escalatesAt', 'escalatedAt'],
    properties: {
      after: { type: ['string', 'null'], description: 'The delay as configured, e.g. 15m' },
      escalatesAt: { type: ['string', 'null'], format: 'date-time', description: 'The first notification (its first alert.firing delivery enqueued) + after: when it escalates unless acknowledged first; null until that notification' },
      escalatedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it escalated (once), or null' },
    },
  }),
  acknowledged: nullable({ type: 'object', required: ['by', 'at', 'note'], properties: { by: { type: 'string' }, at: { type: 'string', format: 'date-time' }, note: { type: ['string', 'null'] } } }),
};

export const ownershipSchemas = {
  AlertWithOwnership: {
    type: 'object',
    description: 'A stored alert (id, rule, service, monitor, version, segment, severity, state, firedAt, resolvedAt, summary, values) with who owns it',
    required: ['id', 'service', 'state', 'firedAt', 'owners', 'runbook', 'escalation', 'acknowledged'],
    properties: { id: { type: 'string' }, service: { type: 'string' }, state: { enum: ['firing', 'resolved'] }, firedAt: { type: 'string', format: 'date-time' }, ...alertOwnershipProperties },
  },
  ServiceOwnership: {
    type: 'object',
    description: 'Who owns what: owners, risk tier, runbook, the on-call and escalation routes, the review SLA (of the review block), the live version and where each alert rule goes',
    required: ['owners', 'risk', 'runbook', 'onCall', 'escalation', 'review', 'live', 'alerts'],
    properties: {
      owners: { type: 'array', items: { type: 'string' } },
      risk: { type: ['string', 'null'], enum: ['low', 'medium', 'high', null] },
      runbook: { type: ['string', 'null'] },
      onCall: nullable(route),
      escalation: nullable({ ...route, required: [...route.required, 'after'], properties: { ...route.properties, after: { type: 'string' } } }),
      review: { type: 'object', properties: { sla: { type: 'string' }, highStakesSla: { type: 'string' }, escalateTo: { type: 'string' } } },
      live: { type: 'string' },
      alerts: {
        type: 'array',
        items: { type: 'object', properties: { rule: { type: 'string' }, monitors: { type: 'array', items: { type: 'string' } }, minState: { type: 'string' }, to: { enum: ['webhook', 'on-call'] }, url: { type: ['string', 'null'] } } },
      },
    },
  },
};

export const ownershipPaths = {
  '/v1/alerts/{id}/ack': {
    post: {
      operationId: 'acknowledgeAlert',
      summary:
        "Acknowledge a firing alert (\"I am on it\"): it will not escalate. The first acknowledgement stands: acknowledging again answers 200 with it and changed: false. Audited as alert.acknowledged in the transaction that records it. Needs alerts:ack on the alert's service (operator, admin).",
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^alt_' } }],
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { note: { type: 'string', maxLength: 2000 } } } } } },
      responses: {
        200: json({ allOf: [{ $ref: '#/components/schemas/AlertWithOwnership' }, { type: 'object', required: ['changed'], properties: { changed: { type: 'boolean', description: 'false: it was acknowledged before' } } }] }, 'The alert, acknowledged'),
        400: problemResponse('REQUEST_INVALID'),
        404: problemResponse('ALERT_NOT_FOUND'),
        409: problemResponse('ALERT_RESOLVED: it resolved before anyone acknowledged it'),
      },
    },
  },
};
