// The `alerts:` list of a service's `monitoring:` block: which monitor states notify whom.

export const alertSeverities = ['warning', 'alert'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

/** Where an alert rule delivers: a webhook signed per the Standard Webhooks specification. */
export interface WebhookTargetConfig {
  readonly url: string;
  /** Name of the secret (an environment variable, read by the CLI) whose value signs the deliveries. */
  readonly secret: string;
  /** Per-attempt timeout in milliseconds (default 5000). */
  readonly timeoutMs: number;
}

/** One alert rule, defaults applied. */
export interface AlertRuleConfig {
  readonly name: string;
  /** Monitor names this rule watches; `*` at the end matches a prefix (`feature_drift/*`); default every monitor. */
  readonly monitors: readonly string[];
  /** The lowest monitor state that fires the alert (default `alert`). */
  readonly minState: AlertSeverity;
  readonly webhook: WebhookTargetConfig;
}

export const alertRuleDefaults = { monitors: ['*'], minState: 'alert', webhook: { timeoutMs: 5000 } } as const;

/** JSON Schema 2020-12 of the `alerts:` list (embeddable, so no $id). */
export const alertRulesSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'webhook'],
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
    },
  },
} as const;
