import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { auditEvent, ownershipOf } from '../../governance/index.js';
import { alertOwnershipView, firstNotifiedAt } from '../../monitoring/alerts/index.js';
import { monitorStateMessage, type HubStatus, type MonitoringHub } from '../../monitoring/hub/index.js';
import type { Service } from '../../pipeline/index.js';
import type { Store, StoredAlert, StoredEvaluation } from '../../store/index.js';
import type { Access } from '../auth.js';
import { actorOf, objectBody } from './key-routes.js';
import { limitOf } from './query.js';

const maxNoteLength = 2000;

interface Deps {
  readonly services: ReadonlyMap<string, Service>;
  readonly store: Store;
  readonly hub: MonitoringHub;
  readonly access: Access;
}

type ServiceParams = { Params: { service: string } };
type MonitorParams = { Params: { service: string; monitor: string }; Querystring: { version?: string; segment?: string; limit?: string } };
type EvaluateBody = { Params: { service: string }; Body: unknown };
type AlertQuery = { Querystring: { service?: string; state?: string; limit?: string } };

// `message` is the latest judged window's; `stateMessage` agrees with `state` (a state held by hysteresis says so).
const status = (s: HubStatus) => ({ monitor: s.monitor, version: s.version, segment: s.segment || null, state: s.state, since: s.since, message: s.message, stateMessage: monitorStateMessage(s), value: s.value, window: s.window });

const evaluation = (e: StoredEvaluation) => ({
  id: e.id,
  monitor: e.monitor,
  version: e.version,
  segment: e.segment || null,
  window: { start: e.windowStart, end: e.windowEnd },
  evaluatedAt: e.evaluatedAt,
  observed: e.observed,
  state: e.state,
  value: e.value,
  detail: e.body,
});

/** Monitors (current states, history, evaluation on demand) and alerts with their delivery log. */
export function registerMonitorRoutes(app: FastifyInstance, { services, store, hub, access }: Deps): void {
  const serviceNamed = (name: string) => {
    const service = services.get(name);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${name}'` });
    return service;
  };

  app.get<ServiceParams>('/v1/services/:service/monitors', async (request) => {
    const service = serviceNamed(request.params.service);
    const reference = hub.reference(service.name);
    return {
      service: service.name,
      reference: reference === undefined ? null : { id: reference.id },
      monitors: hub.listStatuses(service.name).map(status),
    };
  });

  // Monitor names may contain '/' (feature_drift/body): send it URL-encoded (feature_drift%2Fbody).
  app.get<MonitorParams>('/v1/services/:service/monitors/:monitor', async (request) => {
    const service = serviceNamed(request.params.service);
    const { monitor } = request.params;
    const history = await store.monitoring.listEvaluations({
      service: service.name,
      monitor,
      version: request.query.version,
      segment: request.query.segment,
      limit: limitOf(request.query.limit, 100),
    });
    const current = hub.listStatuses(service.name).filter((s) => s.monitor === monitor);
    if (history.length === 0 && current.length === 0) throw new BallastError('MONITOR_NOT_FOUND', { detail: `service ${service.name} has no evaluations of a monitor named '${monitor}'` });
    return { service: service.name, monitor, current: current.map(status), history: history.map(evaluation) };
  });

  app.post<EvaluateBody>('/v1/services/:service/monitors/evaluate', async (request) => {
    const service = serviceNamed(request.params.service);
    const body = request.body ?? {};
    const all = typeof body === 'object' && body !== null && (body as { windows?: unknown }).windows === 'all';
    if (typeof body !== 'object' || body === null || Array.isArray(body) || ((body as { windows?: unknown }).windows !== undefined && !all)) {
      throw new BallastError('REQUEST_INVALID', { detail: "the body is {} (windows with new traffic or waiting for labels) or { \"windows\": \"all\" }", issues: [{ pointer: '/windows', code: 'enum', message: "must be 'all' when present" }] });
    }
    const results = await hub.evaluate(service.name, all ? 'all' : undefined);
    return {
      service: service.name,
      evaluated: results.map((r) => ({ version: r.version, segment: r.segment ?? null, window: r.window, monitors: r.evaluations.length })),
      monitors: hub.listStatuses(service.name).map(status),
    };
  });

  app.get<AlertQuery>('/v1/alerts', async (request) => {
    const { state } = request.query;
    // A key granted on one service sees that service's alerts only.
    const service = request.query.service ?? request.principal?.service ?? undefined;
    if (service !== undefined) serviceNamed(service);
    await access.require(request, 'alerts:read', service);
    if (state !== undefined && state !== 'firing' && state !== 'resolved') {
      throw new BallastError('REQUEST_INVALID', { detail: 'state is firing or resolved', issues: [{ pointer: '/state', code: 'enum', message: `got '${state}'` }] });
    }
    const limit = limitOf(request.query.limit, 100);
    const alerts = state === 'firing' ? await store.alerts.listActive(service) : await store.alerts.list({ service, limit, ...(state === undefined ? {} : { state }) });
    return { alerts: alerts.slice(0, limit) };
  });

  /** An alert with who owns it: owners and runbook (its service's current ones), escalation (due from its first notification among `deliveries`), acknowledgement. */
  const withOwnership = (alert: StoredAlert, deliveries: ReadonlyArray<{ type: string; createdAt: string }>) => {
    const service = services.get(alert.service);
    return { ...alert, ...alertOwnershipView(alert, service === undefined ? undefined : ownershipOf(service), firstNotifiedAt(deliveries)) };
  };
  const alertNamed = async (id: string) => {
    const alert = await store.alerts.get(id);
    if (alert === undefined) throw new BallastError('ALERT_NOT_FOUND', { detail: `no alert with id '${id}'` });
    return alert;
  };

  app.get<{ Params: { id: string } }>('/v1/alerts/:id', async (request) => {
    const alert = await alertNamed(request.params.id);
    await access.require(request, 'alerts:read', alert.service);
    const deliveries = await store.alerts.listDeliveries(alert.id);
    return { ...withOwnership(alert, deliveries), deliveries };
  });

  // "I am on it": stops the alert's escalation. The first acknowledgement stands; a second answers it unchanged.
  app.post<{ Params: { id: string } }>('/v1/alerts/:id/ack', async (request) => {
    const body = request.body === undefined ? {} : objectBody(request.body, 'an acknowledgement');
    const note = body.note;
    if (note !== undefined && (typeof note !== 'string' || note.length > maxNoteLength)) {
      throw new BallastError('REQUEST_INVALID', { detail: `note is an optional string of at most ${maxNoteLength} characters`, issues: [{ pointer: '/note', code: 'type', message: `must be a string of at most ${maxNoteLength} characters` }] });
    }
    const alert = await alertNamed(request.params.id);
    await access.require(request, 'alerts:ack', alert.service);
    const actor = actorOf(request);
    const at = new Date().toISOString();
    const ack = { by: actor.principal, at, note: note === undefined || note.trim() === '' ? null : note.trim() };
    const audit = auditEvent({ actor, action: 'alert.acknowledged', resource: { kind: 'alert', id: alert.id }, service: alert.service, before: { state: alert.state, acknowledged: null }, after: { state: alert.state, acknowledged: ack }, detail: ack.note, requestId: request.id, at });
    const result = await store.alerts.acknowledge(alert.id, ack, audit);
    if (result === undefined) throw new BallastError('ALERT_NOT_FOUND', { detail: `no alert with id '${alert.id}'` });
    return { changed: result.changed, ...withOwnership(result.alert, await store.alerts.listDeliveries(alert.id)) };
  });
}
