// Approvals of model versions and per-service kill switches over HTTP. The registry and the running
// revision reach these routes only as functions, so the routes know neither.
import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { evaluateGate, type Approvals, type GateInput, type KillSwitch } from '../../governance/index.js';
import { actorOf, objectBody } from './key-routes.js';

type MaybePromise<T> = T | Promise<T>;

export interface ApprovalRouteDeps {
  readonly approvals: Approvals;
  readonly killSwitch: KillSwitch;
  /** Whether a service of this name runs (kill-switch routes). */
  hasService(service: string): boolean;
  /** The registered version's digest and author; undefined when the service has no such version. */
  versionInfo(service: string, version: string): MaybePromise<{ readonly digest: string; readonly author: string } | undefined>;
  /** The configuration revision running now. */
  currentRevision(): number;
  /** What the gate judges, but the approvals (read here); undefined when the version is unknown. */
  gateInputs(service: string, version: string): MaybePromise<Omit<GateInput, 'approvals'> | undefined>;
}

type Params = { service: string; version: string };

function requiredReason(body: Record<string, unknown>, what: string): string {
  const reason = body.reason;
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new BallastError('REQUEST_INVALID', { detail: `say why ${what}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
  }
  return reason.trim();
}

function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new BallastError('REQUEST_INVALID', {
      detail: `unknown propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.join(', ')}`,
      issues: unknown.map((k) => ({ pointer: `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'additionalProperties', message: `unknown property '${k}' (allowed: ${allowed.join(', ')})` })),
    });
  }
}

/** Approvals (POST a decision, GET what counts with the gate's judgement) and the kill switch (POST, GET). */
export function registerApprovalRoutes(app: FastifyInstance, deps: ApprovalRouteDeps): void {
  async function versionOf(service: string, version: string) {
    const info = await deps.versionInfo(service, version);
    if (info === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${service} has no registered model version '${version}'` });
    return info;
  }

  function serviceOf(service: string): string {
    if (!deps.hasService(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
    return service;
  }

  app.post<{ Params: Params }>('/v1/services/:service/models/:version/approvals', async (request, reply) => {
    const { service, version } = request.params;
    const body = objectBody(request.body, 'an approval');
    onlyKeys(body, ['decision', 'reason']);
    const decision = body.decision;
    if (decision !== 'approve' && decision !== 'refuse') {
      throw new BallastError('REQUEST_INVALID', { detail: "decision must be 'approve' or 'refuse'", issues: [{ pointer: '/decision', code: 'enum', message: 'must be approve or refuse' }] });
    }
    const reason = requiredReason(body, `you ${decision} ${service}/${version}`);
    const info = await versionOf(service, version);
    const target = { service, version, digest: info.digest, revision: deps.currentRevision() };
    const approval = await deps.approvals.decide({ ...target, author: info.author }, { actor: actorOf(request), decision, reason, requestId: request.id });
    void reply.code(201);
    return { approval, valid: await deps.approvals.valid(target) };
  });

  app.get<{ Params: Params }>('/v1/services/:service/models/:version/approvals', async (request) => {
    const { service, version } = request.params;
    const info = await versionOf(service, version);
    const revision = deps.currentRevision();
    const target = { service, version, digest: info.digest, revision };
    const [valid, history, inputs] = await Promise.all([deps.approvals.valid(target), deps.approvals.history(target), deps.gateInputs(service, version)]);
    return { service, version, digest: info.digest, author: info.author, revision, valid, history, gate: inputs === undefined ? null : evaluateGate({ ...inputs, approvals: valid }) };
  });

  app.post<{ Params: { service: string } }>('/v1/services/:service/kill-switch', async (request) => {
    const service = serviceOf(request.params.service);
    const body = objectBody(request.body, 'a kill-switch change');
    onlyKeys(body, ['engaged', 'reason']);
    if (typeof body.engaged !== 'boolean') {
      throw new BallastError('REQUEST_INVALID', { detail: 'engaged must be true (send all traffic down the fallback chain) or false', issues: [{ pointer: '/engaged', code: 'type', message: 'must be a boolean' }] });
    }
    const reason = requiredReason(body, `the kill switch of ${service} should be ${body.engaged ? 'engaged' : 'released'}`);
    const options = { actor: actorOf(request), reason, requestId: request.id };
    return body.engaged ? deps.killSwitch.engage(service, options) : deps.killSwitch.release(service, options);
  });

  app.get<{ Params: { service: string } }>('/v1/services/:service/kill-switch', async (request) => {
    const service = serviceOf(request.params.service);
    const [state, history] = await Promise.all([deps.killSwitch.state(service), deps.killSwitch.history(service)]);
    return { ...state, history };
  });
}
