// The `ownership:` block of a service: who answers for it (its `owners:`, a top-level field of the
// service), the runbook they follow, where its alerts reach the person on call, and where an alert
// nobody acknowledged goes after a delay. Its schema, its defaults in one place, and the resolved
// form that alerts, the API and the CLI read. The pipeline carries the block opaquely.
import { BallastError, type Issue } from '../../errors/index.js';
import { parseDuration } from '../../monitoring/monitors/index.js';

/** A webhook route, the shape of an alert rule's `webhook`. */
export interface OwnershipRouteInput {
  readonly url: string;
  /** Name of the environment variable holding the signing secret. */
  readonly secret: string;
  readonly timeoutMs?: number;
}

/** The block as written. */
export interface OwnershipConfig {
  /** Where the person on call reads what to do: a URL or a path in the repository. */
  readonly runbook: string;
  /** Where the service's alerts go when their rule names no `webhook`. */
  readonly onCall?: OwnershipRouteInput;
  /** Where a firing alert goes, once, when nobody acknowledged it `after` its first notification. */
  readonly escalation?: OwnershipRouteInput & { readonly after: string };
}

export interface ResolvedRoute {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

/** The ownership of a service with every default applied (also for a service without the block). */
export interface ResolvedOwnership {
  readonly owners: readonly string[];
  readonly runbook: string | null;
  readonly onCall: ResolvedRoute | null;
  readonly escalation: (ResolvedRoute & { readonly after: string; readonly afterMs: number }) | null;
}

/** The defaults, in one place. */
export const ownershipDefaults = Object.freeze({
  /** As an alert rule's webhook. */
  timeoutMs: 5000,
});

// The review block's durations (parseDuration), so one config file has one way of writing a time.
const duration = { type: 'string', pattern: '^[1-9][0-9]{0,5}[smhdw]$', description: 'A positive integer followed by s, m, h, d or w, e.g. 30s, 15m, 1h.' } as const;

const routeProperties = {
  url: { type: 'string', pattern: '^https?://' },
  secret: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the environment variable holding the signing secret.' },
  timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
} as const;

/** JSON Schema 2020-12 of the `ownership:` block, checked with the rest of the config file. */
export const ownershipConfigSchema = {
  type: 'object',
  required: ['runbook'],
  additionalProperties: false,
  properties: {
    runbook: { type: 'string', minLength: 1, pattern: '\\S', description: 'A URL or a path to the runbook.' },
    onCall: { type: 'object', required: ['url', 'secret'], additionalProperties: false, properties: routeProperties },
    escalation: { type: 'object', required: ['after', 'url', 'secret'], additionalProperties: false, properties: { after: duration, ...routeProperties } },
  },
} as const;

/** A service's config as ownership reads it. */
export interface OwnedServiceConfig {
  readonly owners?: readonly string[];
  readonly risk?: string;
  readonly ownership?: unknown;
  readonly monitoring?: unknown;
}

const resolvedOf = new WeakMap<object, ResolvedOwnership>();

/** The resolved ownership of a compiled service, resolved once per revision of its config. */
export function ownershipOf(service: { readonly config: OwnedServiceConfig }): ResolvedOwnership {
  let resolved = resolvedOf.get(service.config);
  if (resolved === undefined) resolvedOf.set(service.config, (resolved = resolveOwnership(service.config)));
  return resolved;
}

const route = (r: OwnershipRouteInput): ResolvedRoute => ({ url: r.url, secret: r.secret, timeoutMs: r.timeoutMs ?? ownershipDefaults.timeoutMs });

/** Applies the defaults to a service whose block the schema accepted (or that has none); CONFIG_INVALID with pointers (relative to the service) otherwise. */
export function resolveOwnership(service: OwnedServiceConfig): ResolvedOwnership {
  const block = service.ownership as OwnershipConfig | undefined;
  const issues: Issue[] = [];
  let afterMs = 0;
  if (block?.escalation !== undefined) {
    try {
      afterMs = parseDuration(block.escalation.after);
    } catch (error) {
      issues.push({ pointer: '/ownership/escalation/after', code: 'pattern', message: error instanceof BallastError ? error.detail : String(error) });
    }
  }
  issues.push(...ownershipIssues(service));
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the ownership of the service is not valid', issues });
  return {
    owners: [...(service.owners ?? [])],
    runbook: block?.runbook ?? null,
    onCall: block?.onCall === undefined ? null : route(block.onCall),
    escalation: block?.escalation === undefined ? null : { ...route(block.escalation), after: block.escalation.after, afterMs },
  };
}

/**
 * What the schemas cannot say (pointers relative to the service): an owner is a name, not blanks; a
 * high-risk service must name who owns it; an alert rule without its own `webhook` needs the
 * service's on-call route.
 */
export function ownershipIssues(service: OwnedServiceConfig): Issue[] {
  const issues: Issue[] = [];
  // The pipeline's schema only asks for a non-empty string: `owners: [" "]` would pass as "owned".
  for (const [i, owner] of (service.owners ?? []).entries()) {
    if (typeof owner === 'string' && !/\S/.test(owner)) {
      issues.push({ pointer: `/owners/${i}`, code: 'pattern', message: 'an owner is a principal or a team: a name, not only spaces' });
    }
  }
  if (service.risk === 'high' && (service.owners ?? []).length === 0) {
    issues.push({ pointer: '/owners', code: 'required', message: 'a service with risk: high must name its owners (principals or teams), so that its alerts reach someone' });
  }
  const block = service.ownership as OwnershipConfig | undefined;
  const rules = (service.monitoring as { alerts?: unknown } | undefined)?.alerts;
  if (Array.isArray(rules) && block?.onCall === undefined) {
    for (const [i, rule] of rules.entries()) {
      if (rule !== null && typeof rule === 'object' && (rule as { webhook?: unknown }).webhook === undefined) {
        issues.push({ pointer: `/monitoring/alerts/${i}/webhook`, code: 'required', message: 'this alert rule names no webhook and the service has no on-call route: add a webhook to the rule or ownership.onCall to the service' });
      }
    }
  }
  return issues;
}
