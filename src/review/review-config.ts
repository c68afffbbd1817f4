// The `review:` block of a service: how its review queue runs (SLA, leases, quorum, escalation,
// what reviewers see, where the caller hears back). Its schema, its defaults in one place, and the
// resolved form the queue reads. The pipeline carries the block opaquely.
import { BallastError, type Issue } from '../errors/index.js';
import { isRole as isKnownRole, parseDuration } from '../governance/index.js';

/** The block as written. */
export interface ReviewConfig {
  /** How long a human may take to decide an item, e.g. `4h` (default 24h). */
  readonly sla?: string;
  /** The SLA of high-stakes items (default: `sla`). */
  readonly highStakesSla?: string;
  /** How long a claim holds an item before it goes back to the queue, e.g. `10m` (default 15m). */
  readonly lease?: string;
  /** Distinct reviewers who must agree on a high-stakes item (default 2). */
  readonly highStakesReviewers?: number;
  /** The role that takes escalated items: disagreements, escalations, SLA breaches (default senior-reviewer). */
  readonly escalateTo?: string;
  /** Hide the model's answer and confidence from a reviewer until they have decided (against automation bias). */
  readonly hideSuggestion?: boolean;
  /** The caller's webhook: the final outcome of each item, and SLA breaches, signed (Standard Webhooks). */
  readonly webhook?: { readonly url: string; readonly secret: string; readonly timeoutMs?: number };
  /** Appeals of this service's decisions: their SLA (default 7d). */
  readonly appeals?: { readonly sla?: string };
}

/** The block with every default applied, durations in milliseconds. */
export interface ResolvedReviewConfig {
  readonly slaMs: number;
  readonly highStakesSlaMs: number;
  readonly leaseMs: number;
  readonly highStakesReviewers: number;
  readonly escalateTo: string;
  readonly hideSuggestion: boolean;
  readonly webhook: { readonly url: string; readonly secret: string; readonly timeoutMs: number } | null;
  readonly appealSlaMs: number;
}

/** The defaults, in one place. */
export const reviewDefaults = Object.freeze({
  sla: '24h',
  lease: '15m',
  highStakesReviewers: 2,
  escalateTo: 'senior-reviewer',
  hideSuggestion: false,
  webhookTimeoutMs: 5000,
  appealSla: '7d',
});

// The monitors' durations (parseDuration), so one config file has one way of writing a time.
const duration = { type: 'string', pattern: '^[1-9][0-9]{0,5}[smhdw]$', description: 'A positive integer followed by s, m, h, d or w, e.g. 30m, 4h, 7d.' } as const;

/** JSON Schema 2020-12 of the `review:` block, checked with the rest of the config file. */
export const reviewConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sla: duration,
    highStakesSla: duration,
    lease: duration,
    highStakesReviewers: { type: 'integer', minimum: 1, maximum: 5 },
    escalateTo: { type: 'string', pattern: '^[a-z][a-z-]*$' },
    hideSuggestion: { type: 'boolean' },
    webhook: {
      type: 'object',
      required: ['url', 'secret'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        secret: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the environment variable holding the signing secret.' },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
      },
    },
    appeals: { type: 'object', additionalProperties: false, properties: { sla: duration } },
  },
} as const;

const resolvedOf = new WeakMap<object, ResolvedReviewConfig>();

/** The resolved `review:` block of a compiled service, resolved once per revision of its config. */
export function reviewConfigOf(service: { readonly config: { readonly review?: unknown } }): ResolvedReviewConfig {
  let resolved = resolvedOf.get(service.config);
  if (resolved === undefined) resolvedOf.set(service.config, (resolved = resolveReviewConfig(service.config.review)));
  return resolved;
}

/**
 * Applies the defaults to a block the schema accepted (or to none); CONFIG_INVALID with pointers
 * otherwise. `isRole` says which roles exist:
 * an escalation to a role nobody can hold would leave escalated items with no one to take them.
 */
export function resolveReviewConfig(block: unknown, isRole: (role: string) => boolean = isKnownRole): ResolvedReviewConfig {
  const config = (block ?? {}) as ReviewConfig;
  const issues: Issue[] = [];
  const ms = (text: string, pointer: string): number => {
    try {
      return parseDuration(text);
    } catch (error) {
      issues.push({ pointer, code: 'pattern', message: error instanceof BallastError ? error.detail : String(error) });
      return 0;
    }
  };
  const slaMs = ms(config.sla ?? reviewDefaults.sla, '/sla');
  const resolved: ResolvedReviewConfig = {
    slaMs,
    highStakesSlaMs: config.highStakesSla === undefined ? slaMs : ms(config.highStakesSla, '/highStakesSla'),
    leaseMs: ms(config.lease ?? reviewDefaults.lease, '/lease'),
    highStakesReviewers: config.highStakesReviewers ?? reviewDefaults.highStakesReviewers,
    escalateTo: config.escalateTo ?? reviewDefaults.escalateTo,
    hideSuggestion: config.hideSuggestion ?? reviewDefaults.hideSuggestion,
    webhook: config.webhook === undefined ? null : { url: config.webhook.url, secret: config.webhook.secret, timeoutMs: config.webhook.timeoutMs ?? reviewDefaults.webhookTimeoutMs },
    appealSlaMs: ms(config.appeals?.sla ?? reviewDefaults.appealSla, '/appeals/sla'),
  };
  if (!isRole(resolved.escalateTo)) issues.push({ pointer: '/escalateTo', code: 'unknown_role', message: `'${resolved.escalateTo}' is not a role` });
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the review block is not valid', issues });
  return resolved;
}
