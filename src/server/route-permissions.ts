// The one table of what each route needs. Every route the server registers must be here (the
// server refuses to start otherwise), the OpenAPI document shows it, and a test walks every route
// with every role. Which roles hold a permission is governance's table (governance/roles.ts).
import type { Permission } from '../governance/index.js';

/**
 * - `public`: no key (probes, the API description).
 * - `authenticated`: any valid key.
 * - a permission with a scope: `service` (the `:service` path parameter names the service),
 *   `resource` (the handler checks the service of what it loaded, e.g. a decision), or `any`
 *   (the key must hold the permission on some service; listings show only what it may see).
 */
export type RouteRule =
  | { readonly access: 'public' }
  | { readonly access: 'authenticated' }
  | { readonly access: 'permission'; readonly permission: Permission; readonly scope: 'service' | 'resource' | 'any' };

const open = { access: 'public' } as const;
const need = (permission: Permission, scope: 'service' | 'resource' | 'any'): RouteRule => ({ access: 'permission', permission, scope });

/** `METHOD /path` (Fastify's pattern) → what the route needs. */
export const routePermissions: Readonly<Record<string, RouteRule>> = {
  'GET /healthz': open,
  'GET /readyz': open,
  'GET /v1/openapi.json': open,
  'GET /metrics': need('metrics:read', 'any'),

  'GET /v1/whoami': { access: 'authenticated' },

  'GET /v1/services': need('services:read', 'any'),
  'GET /v1/services/:service': need('services:read', 'service'),
  'POST /v1/services/:service/decisions': need('decisions:create', 'service'),
  'GET /v1/decisions/:id': need('decisions:read', 'resource'),
  'POST /v1/decisions/:id/feedback': need('feedback:create', 'resource'),

  'GET /v1/reviews': need('reviews:read', 'any'),
  'GET /v1/reviews/stats': need('reviews:read', 'any'),
  'POST /v1/reviews/next': need('reviews:decide', 'any'),
  'GET /v1/reviews/:id': need('reviews:status', 'resource'),
  'POST /v1/reviews/:id/decision': need('reviews:decide', 'resource'),
  'POST /v1/reviews/:id/renew': need('reviews:decide', 'resource'),
  'POST /v1/reviews/:id/release': need('reviews:decide', 'resource'),
  'POST /v1/decisions/:id/appeals': need('appeals:create', 'resource'),
  'GET /v1/services/:service/advisory': need('reviews:read', 'service'),
  'GET /v1/services/:service/fairness': need('monitors:read', 'service'),
  // The export carries stored inputs: whoever may read them raw (auditor, admin).
  'GET /v1/services/:service/dataset': need('decisions:read-raw', 'service'),
  'GET /v1/decisions/:id/appeals': need('reviews:status', 'resource'),

  'GET /v1/services/:service/breakers': need('services:read', 'service'),
  'POST /v1/services/:service/breakers/:version/open': need('breakers:manage', 'service'),
  'POST /v1/services/:service/breakers/:version/close': need('breakers:manage', 'service'),

  'GET /v1/services/:service/monitors': need('monitors:read', 'service'),
  'GET /v1/services/:service/monitors/:monitor': need('monitors:read', 'service'),
  'POST /v1/services/:service/monitors/evaluate': need('monitors:evaluate', 'service'),
  'GET /v1/alerts': need('alerts:read', 'any'),
  'GET /v1/alerts/:id': need('alerts:read', 'resource'),
  'POST /v1/alerts/:id/ack': need('alerts:ack', 'resource'),

  'POST /v1/services/:service/references': need('references:write', 'service'),
  'GET /v1/services/:service/references': need('references:read', 'service'),
  'GET /v1/services/:service/references/:name': need('references:read', 'service'),

  'GET /v1/principals': need('keys:manage', 'any'),
  'GET /v1/keys': need('keys:manage', 'any'),
  'POST /v1/keys': need('keys:manage', 'any'),
  'GET /v1/keys/:id': need('keys:manage', 'any'),
  'POST /v1/keys/:id/revoke': need('keys:manage', 'any'),
  'POST /v1/keys/:id/rotate': need('keys:manage', 'any'),

  'GET /v1/audit/events': need('audit:read', 'any'),
  'GET /v1/audit/checkpoints': need('audit:read', 'any'),
  'POST /v1/audit/checkpoints': need('audit:read', 'any'),
  'GET /v1/audit/proofs/inclusion/:id': need('audit:read', 'any'),
  'GET /v1/audit/proofs/consistency': need('audit:read', 'any'),

  'GET /v1/services/:service/models': need('services:read', 'service'),
  'POST /v1/services/:service/models': need('models:register', 'service'),
  'GET /v1/services/:service/models/:version': need('services:read', 'service'),
  'GET /v1/services/:service/models/:version/history': need('services:read', 'service'),
  'GET /v1/services/:service/served': need('services:read', 'service'),

  'POST /v1/services/:service/rollouts': need('rollouts:manage', 'service'),
  'GET /v1/services/:service/rollouts': need('services:read', 'service'),
  'GET /v1/services/:service/rollout': need('services:read', 'service'),
  'POST /v1/services/:service/rollout/pause': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/rollout/resume': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/rollout/promote': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/rollout/abort': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/rollout/retry': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/rollback': need('rollouts:manage', 'service'),
  'POST /v1/services/:service/models/:version/approvals': need('approvals:grant', 'service'),
  'GET /v1/services/:service/models/:version/approvals': need('services:read', 'service'),
  'POST /v1/services/:service/kill-switch': need('rollouts:manage', 'service'),
  'GET /v1/services/:service/kill-switch': need('services:read', 'service'),

  'POST /v1/config': need('config:apply', 'any'),
  'GET /v1/revisions': need('services:read', 'any'),
  'GET /v1/revisions/:number': need('config:apply', 'any'),
  'POST /v1/revisions/:number/apply': need('config:apply', 'any'),

  'POST /v1/retention/purge': need('retention:manage', 'any'),
  'GET /v1/retention/holds': need('retention:manage', 'any'),
  'POST /v1/retention/holds': need('retention:manage', 'any'),
  'POST /v1/retention/holds/:id/release': need('retention:manage', 'any'),
  'POST /v1/subjects/erase': need('retention:manage', 'any'),
};

/** The rule of a route, by method and Fastify URL pattern; HEAD follows GET. */
export function ruleOf(method: string, url: string): RouteRule | undefined {
  return routePermissions[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}
