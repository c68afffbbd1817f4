// OpenAPI paths and schemas of the review queue (appeals add theirs here).
import { reviewKinds, reviewStates, reviewVerdicts } from '../store/index.js';

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^rvw_' } };
const item = { $ref: '#/components/schemas/ReviewItem' };
const leaseErrors = { 404: problemResponse('REVIEW_NOT_FOUND'), 409: problemResponse('REVIEW_LEASE_LOST: the caller does not hold an unexpired lease on the item') };

export const reviewPaths = {
  '/v1/reviews': {
    get: {
      operationId: 'listReviews',
      summary: 'Review items, oldest first, without inputs (a key of one service sees that service only)',
      parameters: [
        { name: 'service', in: 'query', schema: { type: 'string' } },
        { name: 'state', in: 'query', schema: { enum: reviewStates } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'The last id of the previous page' },
      ],
      responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } }, next: { type: ['string', 'null'] } } }, 'A page of items'), 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/reviews/stats': {
    get: {
      operationId: 'reviewStats',
      summary: 'The queue now (per state, overdue, SLA breaches) and, over the window of human decisions, override rate, queue times, appeals overturned, and per reviewer: decisions, agreement with the model, time to decide',
      parameters: [
        { name: 'service', in: 'query', schema: { type: 'string' } },
        { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
      ],
      responses: { 200: json({ $ref: '#/components/schemas/ReviewStats' }, 'The figures'), 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/reviews/next': {
    post: {
      operationId: 'claimNextReview',
      summary:
        "Take the next item under a lease: highest priority first, then oldest; never one another reviewer holds, one you decided before, or (unless you hold the escalation role) an escalated one. Shows the input, the explanation and the model's suggestion (hidden until you decide when the service's review.hideSuggestion is set).",
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { services: { type: 'array', items: { type: 'string' } } } } } } },
      responses: { 200: json(item, 'The item, leased to you until lease.until'), 204: { description: 'Nothing to take' }, 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/reviews/{id}': {
    get: {
      operationId: 'getReview',
      summary: "An item's status and, once decided, its outcome; with reviews:read also the input, explanation and every human decision",
      parameters: [idParam],
      responses: { 200: json(item, 'The item'), 404: problemResponse('REVIEW_NOT_FOUND') },
    },
  },
  '/v1/reviews/{id}/decision': {
    post: {
      operationId: 'decideReview',
      summary:
        'Record your decision on the item you hold: accept (the model answer stands), override (a label and a rationale) or escalate (a rationale). High-stakes items need the distinct reviewers of their quorum to agree; disagreement escalates. A settling decision is recorded as feedback (kind override, or appeal for an appeal) and sent to the service’s review webhook. Audited.',
      parameters: [idParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { enum: reviewVerdicts }, label: { description: "The override's answer, in the service's output shape" }, rationale: { type: 'string', maxLength: 10000 } } } } } },
      responses: { 200: json(item, 'The item after the decision'), 400: problemResponse('REQUEST_INVALID (with pointers)'), ...leaseErrors },
    },
  },
  '/v1/decisions/{id}/appeals': {
    post: {
      operationId: 'fileAppeal',
      summary:
        "Appeal a decision, by or for its data subject, with a statement: opens an item of the review queue (kind appeal) due within the service's review.appeals.sla, which no reviewer who decided on this decision before may take. Its re-decision is feedback of kind appeal, sent to the service's review webhook as appeal.decided. Audited as appeal.filed.",
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['statement'], additionalProperties: false, properties: { statement: { type: 'string', minLength: 1, maxLength: 10000 }, filedBy: { enum: ['subject', 'representative'], default: 'subject' }, reference: { type: 'string', maxLength: 200, description: 'Your case or ticket number (not the subject’s identity)' } } } } } },
      responses: { 201: json(item, 'The appeal, open'), 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('DECISION_NOT_FOUND'), 409: problemResponse('APPEAL_PENDING') },
    },
    get: {
      operationId: 'listAppeals',
      summary: 'The appeals of a decision, oldest first, with their outcomes',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: json({ type: 'object', properties: { decisionId: { type: 'string' }, appeals: { type: 'array', items: item } } }, 'Appeals'), 404: problemResponse('DECISION_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/advisory': {
    get: {
      operationId: 'advisoryReport',
      summary:
        "Advisory mode's answer: over the settled reviews of decisions made in advisory mode (policy.advisory), model–human agreement by confidence band with 95% Wilson intervals, and the lowest confidence threshold at which the decisions at or above it disagree with reviewers at most maxErrorRate (by the interval's upper end, with at least minDecisions of them)",
      parameters: [
        { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'maxErrorRate', in: 'query', schema: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.05 } },
        { name: 'minDecisions', in: 'query', schema: { type: 'integer', minimum: 1, default: 30 } },
      ],
      responses: { 200: json({ type: 'object', properties: { decisions: { type: 'integer' }, agreement: { type: ['number', 'null'] }, bands: { type: 'array', items: { type: 'object' } }, recommendation: { type: ['object', 'null'] }, summary: { type: 'string' } } }, 'The report'), 400: problemResponse('REQUEST_INVALID'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/fairness': {
    get: {
      operationId: 'fairnessReport',
      summary:
        "Fairness of the service's decisions over a window (default: its fairness.window up to now), per protected field: per group the decisions, selection rate, true- and false-positive rates (on labelled decisions; labels are ground truth or people's answers, the newest) with 95% Wilson intervals and the ratio to the most selected group; across groups the selection-rate difference and ratio (four-fifths rule), equalized-odds and equal-opportunity differences (Fairlearn's definitions); the bounds broken; state alert / ok / unknown (too few decisions per group)",
      parameters: [
        { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'version', in: 'query', schema: { type: 'string' } },
      ],
      responses: { 200: json({ type: 'object', properties: { state: { enum: ['unknown', 'ok', 'alert'] }, decisions: { type: 'integer' }, fields: { type: 'array', items: { type: 'object' } } } }, 'The report'), 400: problemResponse('REQUEST_INVALID (no fairness block, a bad window)'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
  },
  '/v1/reviews/{id}/renew': { post: { operationId: 'renewReview', summary: 'Extend your lease by the service’s lease time', parameters: [idParam], responses: { 200: json(item, 'The item'), ...leaseErrors } } },
  '/v1/reviews/{id}/release': { post: { operationId: 'releaseReview', summary: 'Give the item back to the queue undecided', parameters: [idParam], responses: { 200: json(item, 'The item'), ...leaseErrors } } },
};

export const reviewSchemas = {
  ReviewItem: {
    type: 'object',
    required: ['id', 'kind', 'decisionId', 'service', 'state', 'priority', 'createdAt', 'dueAt', 'requiredReviews', 'reasons', 'outcome'],
    properties: {
      id: { type: 'string' },
      kind: { enum: reviewKinds },
      decisionId: { type: 'string' },
      service: { type: 'string' },
      version: { type: ['string', 'null'] },
      state: { enum: reviewStates },
      priority: { type: 'integer', description: '10 high stakes, 0 otherwise' },
      createdAt: { type: 'string', format: 'date-time' },
      dueAt: { type: 'string', format: 'date-time' },
      requiredReviews: { type: 'integer' },
      reasons: { type: 'array', items: { type: 'object' } },
      escalationRole: { type: ['string', 'null'] },
      slaBreachedAt: { type: ['string', 'null'], format: 'date-time' },
      lease: { type: ['object', 'null'], properties: { holder: { type: 'string' }, until: { type: 'string', format: 'date-time' } } },
      detail: { description: "An appeal's: statement, filedBy, filedByPrincipal, reference, appealOf, originalOutcome, appealed (AppealedAnswer)" },
      outcome: {
        type: ['object', 'null'],
        properties: {
          verdict: { enum: ['accept', 'override'], description: "accept: the answer under review stands (the model's; an appeal's: the answer appealed)" },
          output: {},
          decidedAt: { type: 'string', format: 'date-time' },
          reviewers: { type: 'array', items: { type: 'string' } },
          rationale: { type: 'string' },
          feedbackId: { type: ['string', 'null'] },
          appealed: { $ref: '#/components/schemas/AppealedAnswer' },
          overturned: { type: 'boolean', description: "An appeal's: whether the final answer differs from the answer appealed" },
        },
      },
      decisions: { type: 'array', items: { type: 'object' }, description: 'With reviews:read only' },
      decision: { type: 'object', description: "With reviews:read only: input, context and (unless hidden) output, confidence, explanation" },
    },
  },
  AppealedAnswer: {
    type: 'object',
    description: "The answer an appeal contests: the latest human answer on the decision, else the model's",
    required: ['output', 'by', 'feedbackId'],
    properties: { output: {}, by: { enum: ['model', 'override', 'appeal'] }, feedbackId: { type: ['string', 'null'] } },
  },
  ReviewStats: { type: 'object', description: 'See docs/review.md#statistics' },
};
