import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { ownershipOf } from '../../governance/index.js';
import type { Service } from '../../pipeline/index.js';
import { reviewConfigOf } from '../../review/index.js';
import type { Access } from '../auth.js';
import { resolveServiceMonitoring } from '../monitoring-runtime.js';

interface Deps {
  readonly services: ReadonlyMap<string, Service>;
  readonly access: Access;
}

/** Milliseconds as the config writes a duration (`4h`, `90m`, `45s`): the largest unit that divides it. */
export function durationText(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A webhook URL's origin, its path and query left out (`https://hooks.example/…`): they often carry a token. */
export function urlOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/…`;
  } catch {
    return '…';
  }
}

/**
 * Who owns what: the owners and risk tier, the runbook, the on-call and escalation routes (URLs and
 * the names of their secrets, never the values), the review SLA of the `review:` block, the live
 * version, and each alert rule with where it goes. `fullUrls` false shows each URL's origin only: a
 * caller that may not read the alerts (whose deliveries show them) does not see the paths, which often carry a token.
 */
export function ownershipView(service: Service, fullUrls = true) {
  const { config } = service;
  const owned = ownershipOf(service);
  const review = reviewConfigOf(service);
  const shown = (url: string) => (fullUrls ? url : urlOrigin(url));
  const route = (r: { url: string; secret: string; timeoutMs: number } | null) => (r === null ? null : { url: shown(r.url), secret: r.secret, timeoutMs: r.timeoutMs });
  return {
    owners: owned.owners,
    risk: config.risk ?? null,
    runbook: owned.runbook,
    onCall: route(owned.onCall),
    escalation: owned.escalation === null ? null : { after: owned.escalation.after, ...route(owned.escalation)! },
    review: { sla: durationText(review.slaMs), highStakesSla: durationText(review.highStakesSlaMs), escalateTo: review.escalateTo },
    live: config.live,
    alerts: resolveServiceMonitoring(service).alerts.map((rule) => {
      const target = rule.webhook ?? owned.onCall;
      return { rule: rule.name, monitors: rule.monitors, minState: rule.minState, to: rule.webhook === null ? 'on-call' : 'webhook', url: target === null ? null : shown(target.url) };
    }),
  };
}

/** A service as the API shows it: what it accepts and how it decides, never secrets. */
function describe(service: Service, detailed: boolean, fullUrls = false) {
  const { config } = service;
  const summary = {
    name: service.name,
    description: config.description ?? null,
    live: config.live,
    versions: [...service.versions.values()].map((v) => ({ name: v.name, kind: v.adapter.kind, timeoutMs: v.timeoutMs, description: v.description ?? null, capabilities: v.adapter.capabilities })),
    contractVersion: service.contract.version,
  };
  if (!detailed) return summary;
  return {
    ...summary,
    owners: config.owners ?? [],
    ownership: ownershipView(service, fullUrls),
    contract: config.contract,
    policy: { thresholds: service.policy.thresholds, rules: (config.policy?.rules ?? []).map((r) => ({ name: r.name, stage: r.stage, when: r.when, action: r.action, reason: r.reason ?? r.name })) },
  };
}

export function registerServiceRoutes(app: FastifyInstance, { services, access }: Deps): void {
  app.get('/v1/services', async (request) => ({ services: [...services.values()].filter((s) => access.allows(request, 'services:read', s.name)).map((s) => describe(s, false)) }));

  app.get<{ Params: { service: string } }>('/v1/services/:service', async (request) => {
    const service = services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    return describe(service, true, access.allows(request, 'alerts:read', service.name));
  });
}
