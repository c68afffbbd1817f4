// The `alerts:` list of a service's `monitoring:` block: which monitor states notify whom, how they are
// grouped into alerts and how often a route may notify. Every default is here (`resolveAlertRule`).
import { BallastError } from '../../errors/index.js';

export const alertSeverities = ['warning', 'alert'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

/**
 * What tells groups apart, beyond the rule and the service (as Alertmanager's `group_by`):
 * `version` the model version; `monitor` the monitor's family (`feature_drift` for `feature_drift/body`,
 * `latency` for `latency/total`, the name itself otherwise); `feature` the whole monitor name;
 * `segment` the segment. What is not grouped by is collected: one alert lists them.
 */
export const alertGroupLabels = ['version', 'monitor', 'feature', 'segment'] as const;
export type AlertGroupLabel = (typeof alertGroupLabels)[number];

/** Where an alert rule delivers: a webhook signed per the Standard Webhooks specification. */
export interface WebhookTargetConfig {
  readonly url: string;
  /** Name of the secret (an environment variable, read by the CLI) whose value signs the deliveries. */
  readonly secret: string;
  /** Per-attempt timeout in milliseconds (default 5000). */
  readonly timeoutMs: number;
}

/** How monitors become alerts and when an alert's notifications go out (Alertmanager's grouping, per rule). */
export interface AlertGroupingConfig {
  /** The labels one alert is per (default `[version, monitor]`: one alert per monitor family and version). */
  readonly by: readonly AlertGroupLabel[];
  /** After a group's alert fires, how long to wait for more members before the first notification (default 30 s). */
  readonly waitMs: number;
  /** After a notification, how long to wait before notifying a change of the members or severity (default 5 min). */
  readonly intervalMs: number;
  /** After a notification, how long an unchanged firing alert waits before it is notified again (default 4 h). */
  readonly repeatMs: number;
}

/** At most `max` notifications of one rule (one route) in any `perMs`; the others wait for a free slot (default 20 per hour). */
export interface AlertRateLimitConfig {
  readonly max: number;
  readonly perMs: number;
}

/** One alert rule, defaults applied. */
export interface AlertRuleConfig {
  readonly name: string;
  /** Monitor names this rule watches; `*` at the end matches a prefix (`feature_drift/*`); default every monitor. */
  readonly monitors: readonly string[];
  /** The lowest monitor state that fires the alert (default `alert`). */
  readonly minState: AlertSeverity;
  /** null: the rule names no webhook, and its alerts go to the service's on-call route (`ownership.onCall`). */
  readonly webhook: WebhookTargetConfig | null;
  readonly group: AlertGroupingConfig;
  readonly rateLimit: AlertRateLimitConfig;
}

export const alertRuleDefaults = {
  monitors: ['*'],
  minState: 'alert',
  webhook: { timeoutMs: 5000 },
  group: { by: ['version', 'monitor'], wait: '30s', interval: '5m', repeat: '4h' },
  rateLimit: { max: 20, per: '1h' },
} as const;

const durationPattern = '^[0-9]{1,9}(ms|s|m|h|d)$';

/** JSON Schema 2020-12 of the `alerts:` list (embeddable, so no $id). */
export const alertRulesSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
      monitors: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      minState: { enum: alertSeverities },
      webhook: {
        type: 'object',
        required: ['url', 'secret'],
        additionalProperties: false,
        properties: {
          url: { type: 'string', pattern: '^https?://' },
          secret: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the environment variable holding the signing secret.' },
          timeoutMs: { type: 'integer', minimum: 1, maximum: 60000 },
        },
      },
      group: {
        type: 'object',
        additionalProperties: false,
        properties: {
          by: { type: 'array', uniqueItems: true, items: { enum: alertGroupLabels } },
          wait: { type: 'string', pattern: durationPattern },
          interval: { type: 'string', pattern: durationPattern },
          repeat: { type: 'string', pattern: durationPattern },
        },
      },
      rateLimit: {
        type: 'object',
        additionalProperties: false,
        properties: {
          max: { type: 'integer', minimum: 1, maximum: 100000 },
          per: { type: 'string', pattern: durationPattern },
        },
      },
    },
  },
} as const;

/** One rule as written (already valid against `alertRulesSchema`). */
export interface AlertRuleInput {
  readonly name: string;
  readonly monitors?: readonly string[];
  readonly minState?: AlertSeverity;
  /** Absent: the service's on-call route (the composition root refuses a rule with neither). */
  readonly webhook?: { readonly url: string; readonly secret: string; readonly timeoutMs?: number };
  readonly group?: { readonly by?: readonly AlertGroupLabel[]; readonly wait?: string; readonly interval?: string; readonly repeat?: string };
  readonly rateLimit?: { readonly max?: number; readonly per?: string };
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0s`, `30s`, `5m`, `4h`, `1d`, `250ms` in milliseconds (zero allowed: `wait: 0s` notifies at once). */
export function parseAlertDuration(text: string, where: string): number {
  const match = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(text);
  if (match === null) throw new BallastError('CONFIG_INVALID', { detail: `${where}: ${JSON.stringify(text)} is not a duration: a whole number followed by ms, s, m, h or d (e.g. 0s, 30s, 5m, 4h)` });
  return Number(match[1]) * (durationUnits[match[2]!] as number);
}

/** A rule with every default applied. `interval` and `repeat` must be positive, `per` too. */
export function resolveAlertRule(rule: AlertRuleInput, where = `alerts/${rule.name}`): AlertRuleConfig {
  const d = alertRuleDefaults;
  const group: AlertGroupingConfig = {
    by: [...(rule.group?.by ?? d.group.by)],
    waitMs: parseAlertDuration(rule.group?.wait ?? d.group.wait, `${where}/group/wait`),
    intervalMs: parseAlertDuration(rule.group?.interval ?? d.group.interval, `${where}/group/interval`),
    repeatMs: parseAlertDuration(rule.group?.repeat ?? d.group.repeat, `${where}/group/repeat`),
  };
  const rateLimit: AlertRateLimitConfig = { max: rule.rateLimit?.max ?? d.rateLimit.max, perMs: parseAlertDuration(rule.rateLimit?.per ?? d.rateLimit.per, `${where}/rateLimit/per`) };
  for (const [name, ms] of [['group/interval', group.intervalMs], ['group/repeat', group.repeatMs], ['rateLimit/per', rateLimit.perMs]] as const) {
    if (ms <= 0) throw new BallastError('CONFIG_INVALID', { detail: `${where}/${name} must be longer than 0` });
  }
  return {
    name: rule.name,
    monitors: [...(rule.monitors ?? d.monitors)],
    minState: rule.minState ?? d.minState,
    webhook: rule.webhook === undefined ? null : { url: rule.webhook.url, secret: rule.webhook.secret, timeoutMs: rule.webhook.timeoutMs ?? d.webhook.timeoutMs },
    group,
    rateLimit,
  };
}
