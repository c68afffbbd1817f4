import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { Service } from '../../pipeline/index.js';
import type { Access } from '../auth.js';

interface Deps {
  readonly services: ReadonlyMap<string, Service>;
  readonly access: Access;
}

/** A service as the API shows it: what it accepts and how it decides, never secrets. */
function describe(service: Service, detailed: boolean) {
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
    contract: config.contract,
    policy: { thresholds: service.policy.thresholds, rules: (config.policy?.rules ?? []).map((r) => ({ name: r.name, stage: r.stage, when: r.when, action: r.action, reason: r.reason ?? r.name })) },
  };
}

export function registerServiceRoutes(app: FastifyInstance, { services, access }: Deps): void {
  app.get('/v1/services', async (request) => ({ services: [...services.values()].filter((s) => access.allows(request, 'services:read', s.name)).map((s) => describe(s, false)) }));

  app.get<{ Params: { service: string } }>('/v1/services/:service', async (request) => {
    const service = services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    return describe(service, true);
  });
}
