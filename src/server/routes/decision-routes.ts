import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { DecisionPipeline, Service } from '../../pipeline/index.js';
import type { Admission } from '../admission.js';
import { newId, type Store, type StoredDecision, type StoredFeedback } from '../../store/index.js';
import { auditEvent } from '../../governance/index.js';
import type { Access } from '../auth.js';
import { readDecisionRequest, readFeedbackRequest } from '../envelopes.js';
import { actorOf } from './key-routes.js';

interface Deps {
  readonly pipeline: DecisionPipeline;
  readonly services: ReadonlyMap<string, Service>;
  readonly admission: Admission;
  readonly store: Store;
  readonly access: Access;
  /** Called with each durable feedback row, its decision and all the decision's feedback (monitoring). */
  readonly onFeedback?: (feedback: StoredFeedback, decision: StoredDecision, all: readonly StoredFeedback[]) => void;
}

type ServiceParams = { Params: { service: string } };
type DecisionParams = { Params: { id: string } };

/** The request path alone: what a decision worker serves itself (see decision-server.ts). */
export function registerDecideRoute(app: FastifyInstance, { pipeline, services, admission }: Pick<Deps, 'pipeline' | 'services' | 'admission'>): void {
  app.post<ServiceParams>('/v1/services/:service/decisions', async (request, reply) => {
    const arrivedAt = performance.now();
    const decisionRequest = readDecisionRequest(request.params.service, request.body);
    const service = services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    // Admission before any work: a refused request never reaches the model or the store.
    const admitted = await admission.admit(service, { caller: request.principal?.keyId ?? `ip:${request.ip}`, priority: decisionRequest.priority ?? 'normal' });
    for (const [name, value] of Object.entries(admitted.headers)) void reply.header(name, value);
    if (!admitted.ok) throw admitted.error;
    let failed = true;
    try {
      const decision = await pipeline.decide(decisionRequest, { arrivedAt });
      failed = false;
      return decision;
    } finally {
      admitted.permit.release(performance.now() - admitted.startedAt, failed);
    }
  });
}

/** Decisions and their feedback: the request path and what joins to it afterwards. */
export function registerDecisionRoutes(app: FastifyInstance, { pipeline, services, admission, store, access, onFeedback }: Deps): void {
  registerDecideRoute(app, { pipeline, services, admission });

  app.get<DecisionParams & { Querystring: { view?: string } }>('/v1/decisions/:id', async (request) => {
    const view = request.query.view ?? 'redacted';
    if (view !== 'raw' && view !== 'redacted') throw new BallastError('REQUEST_INVALID', { detail: "view must be 'redacted' (the default) or 'raw'", issues: [{ pointer: '/view', code: 'enum', message: `got '${view}'` }] });
    const decision = await store.decisions.get(request.params.id);
    if (decision === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision with id '${request.params.id}'` });
    await access.require(request, 'decisions:read', decision.service);
    // Raw inputs only when asked for (and allowed): every raw read is an audit event.
    if (view === 'raw') await access.require(request, 'decisions:read-raw', decision.service);
    const feedback = await store.feedback.listForDecision(decision.id);
    if (view === 'redacted') {
      // Roles below auditor see what was decided and why, not what was sent.
      const { input: _input, context: _context, ...rest } = decision;
      return { ...rest, feedback, withheld: ['input', 'context'] };
    }
    // Reading raw inputs is data access: it is audited like a change.
    await store.audit.append(auditEvent({ actor: actorOf(request), action: 'decision.read_raw', resource: { kind: 'decision', id: decision.id }, service: decision.service, requestId: request.id }));
    return { ...decision, feedback };
  });

  app.post<DecisionParams>('/v1/decisions/:id/feedback', async (request, reply) => {
    const body = readFeedbackRequest(request.body);
    const decision = await store.decisions.get(request.params.id);
    if (decision === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision with id '${request.params.id}'` });
    await access.require(request, 'feedback:create', decision.service);
    if (body.supersedes !== undefined) {
      const earlier = await store.feedback.listForDecision(decision.id);
      if (!earlier.some((f) => f.id === body.supersedes)) {
        throw new BallastError('REQUEST_INVALID', {
          detail: 'supersedes must name earlier feedback on the same decision',
          issues: [{ pointer: '/supersedes', code: 'unknown_feedback', message: `no feedback '${body.supersedes}' on decision ${decision.id}` }],
        });
      }
    }
    const feedback: StoredFeedback = {
      id: newId('fb'),
      decisionId: decision.id,
      kind: body.kind,
      value: body.value,
      source: body.source ?? null,
      note: body.note ?? null,
      supersedes: body.supersedes ?? null,
      createdAt: new Date().toISOString(),
    };
    // Who sent it, in the same transaction; the body leaves the value and note out (the digest covers them).
    const { value: _value, note: _note, ...shown } = feedback;
    await store.feedback.append(feedback, auditEvent({ actor: actorOf(request), action: 'feedback.received', resource: { kind: 'feedback', id: feedback.id }, service: decision.service, after: feedback, redact: () => shown, requestId: request.id, at: feedback.createdAt }));
    if (onFeedback !== undefined) {
      try {
        onFeedback(feedback, decision, await store.feedback.listForDecision(decision.id));
      } catch (error) {
        // The feedback is durable and acknowledged; monitoring recovers it from the log after a restart.
        request.log.error({ err: error }, 'monitoring could not count feedback');
      }
    }
    void reply.status(201).header('location', `/v1/decisions/${decision.id}`);
    return feedback;
  });
}
