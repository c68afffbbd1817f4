// Alerts: rules over monitor states, the durable outbox, signed webhook delivery with retries.
export { alertRuleDefaults, alertRulesSchema, alertSeverities, type AlertRuleConfig, type AlertSeverity, type WebhookTargetConfig } from './alert-config.js';
export {
  alertBackoffDefaults,
  createAlertDispatcher,
  parseRetryAfterMs,
  retryDelayMs,
  ruleMatchesMonitor,
  type AlertBackoff,
  type AlertDispatcher,
  type AlertDispatcherOptions,
  type AlertLogger,
  type AlertMonitorState,
  type AlertTransition,
  type AlertTransitionResult,
  type AlertWebhookPayload,
} from './alert-dispatcher.js';
export {
  signWebhook,
  verifyWebhook,
  webhookSecretKey,
  webhookSecretPrefix,
  webhookSignature,
  type VerifyWebhookOptions,
  type WebhookHeaderSource,
  type WebhookMessage,
  type WebhookRejection,
  type WebhookSignatureHeaders,
  type WebhookVerification,
} from './webhook-signature.js';
