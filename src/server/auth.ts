// Authentication and authorization at the edge: every request is matched to its route's rule
// (route-permissions.ts), its key checked, its permission checked; denials are audited.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { BallastError } from '../errors/index.js';
import { auditEvent, can, type Authenticator, type FailedAuthLimiter, type Permission, type Principal } from '../governance/index.js';
import type { DecisionMetrics } from '../monitoring/metrics/index.js';
import type { Store } from '../store/index.js';
import { ruleOf } from './route-permissions.js';

/** How the server authenticates: with keys, or (loopback only, the CLI checks) not at all. */
export type ServerAuth =
  | { readonly mode: 'keys'; readonly authenticator: Authenticator; readonly limiter: FailedAuthLimiter }
  | { readonly mode: 'off' };

/** Who acts when authentication is off. */
export const anonymousPrincipal: Principal = { principal: 'anonymous', keyId: 'none', role: 'admin', service: null };

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as; set by the auth hook before any handler runs (public routes: null). */
    principal: Principal | null;
  }
}

/** The token of a request: `Authorization: Bearer <token>` or `X-API-Key: <token>`. */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

export interface Access {
  /** Throws AUTH_FORBIDDEN (after auditing the denial) unless the request's principal may do `permission` on `service`. */
  require(request: FastifyRequest, permission: Permission, service?: string): Promise<void>;
  /** Whether the request's principal may do `permission` on `service`. */
  allows(request: FastifyRequest, permission: Permission, service?: string): boolean;
}

/** Installs the auth hook; returns the checks handlers use for resources they load. */
export function installAuth(app: FastifyInstance, options: { readonly auth: ServerAuth; readonly store: { readonly audit: Pick<Store['audit'], 'append'> }; readonly metrics: DecisionMetrics }): Access {
  const { auth, store } = options;
  const failures = new Counter({
    name: 'ballast_auth_failures_total',
    help: 'Requests refused before any work: no key, an invalid key, rate limited, or forbidden',
    labelNames: ['reason'],
    registers: [options.metrics.registry],
  });
  for (const reason of ['missing', 'invalid', 'rate_limited', 'forbidden']) failures.inc({ reason }, 0);

  app.decorateRequest('principal', null);

  // Every route must say what it needs: a route missing from the table is a bug, caught at start.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (ruleOf(method, route.url) === undefined) throw new BallastError('INTERNAL', { detail: `route ${method} ${route.url} has no entry in route-permissions.ts` });
    }
  });

  const deny = async (request: FastifyRequest, permission: Permission, service: string | undefined): Promise<never> => {
    failures.inc({ reason: 'forbidden' });
    const principal = request.principal!;
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
    try {
      await store.audit.append(
        auditEvent({
          actor: { principal: principal.principal, keyId: principal.keyId, role: principal.role },
          action: 'access.denied',
          resource: { kind: 'route', id: route },
          service: service ?? null,
          requestId: request.id,
          detail: `needs ${permission}${service === undefined ? '' : ` on ${service}`}; role ${principal.role}${principal.service === null ? '' : ` on ${principal.service}`}`,
        }),
      );
    } catch (error) {
      request.log.error({ err: error }, 'could not audit a denial');
    }
    throw new BallastError('AUTH_FORBIDDEN', { detail: `role ${principal.role}${principal.service === null ? '' : ` (on ${principal.service})`} may not ${permission}${service === undefined ? '' : ` on ${service}`}` });
  };

  const allows = (request: FastifyRequest, permission: Permission, service?: string) => request.principal !== null && can(request.principal, permission, service);

  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    const rule = url === undefined ? { access: 'authenticated' as const } : ruleOf(request.method, url);
    if (rule === undefined || rule.access === 'public') return;
    if (auth.mode === 'off') {
      request.principal = anonymousPrincipal;
    } else {
      const source = request.ip;
      const token = tokenOf(request);
      if (token === undefined) {
        failures.inc({ reason: 'missing' });
        throw new BallastError('AUTH_REQUIRED', { detail: 'send an API key: Authorization: Bearer bk_… (or X-API-Key)' });
      }
      const wait = auth.limiter.retryAfter(source);
      if (wait > 0) {
        failures.inc({ reason: 'rate_limited' });
        throw new BallastError('AUTH_RATE_LIMITED', { detail: `too many failed authentications from ${source}; retry in ${wait} s`, retryAfterSeconds: wait });
      }
      try {
        request.principal = await auth.authenticator.authenticate(token);
      } catch (error) {
        if (error instanceof BallastError && error.code === 'AUTH_INVALID_KEY') {
          auth.limiter.fail(source);
          failures.inc({ reason: 'invalid' });
        }
        throw error;
      }
    }
    if (rule.access !== 'permission') return;
    if (rule.scope === 'service') {
      const service = (request.params as { service?: string }).service;
      if (!allows(request, rule.permission, service)) await deny(request, rule.permission, service);
    } else if (!allows(request, rule.permission)) {
      await deny(request, rule.permission, undefined);
    }
  });

  return {
    allows,
    async require(request, permission, service) {
      if (!allows(request, permission, service)) await deny(request, permission, service);
    },
  };
}
