// The error-code catalogue: every code Ballast can answer with, stable across releases.
// docs/errors.md documents each one; a test fails when the two disagree.

/** How a code is handled: `retryable` codes may succeed if the same call is made again later. */
export interface ErrorCodeInfo {
  readonly title: string;
  readonly retryable: boolean;
}

export const errorCatalogue = {
  // The request itself (any transport).
  REQUEST_MALFORMED_JSON: { title: 'The body is not valid JSON', retryable: false },
  REQUEST_INVALID_ENCODING: { title: 'The body is not valid UTF-8', retryable: false },
  REQUEST_UNSUPPORTED_MEDIA_TYPE: { title: 'The content type is missing or not application/json', retryable: false },
  REQUEST_BODY_TOO_LARGE: { title: 'The body exceeds the size limit', retryable: false },
  REQUEST_NESTING_TOO_DEEP: { title: 'The body nests deeper than the limit', retryable: false },
  REQUEST_STRING_TOO_LONG: { title: 'A string in the body exceeds the length limit', retryable: false },
  REQUEST_ARRAY_TOO_LONG: { title: 'An array in the body exceeds the length limit', retryable: false },
  REQUEST_FORBIDDEN_KEY: { title: 'The body uses a key that is never accepted (__proto__, constructor.prototype)', retryable: false },
  REQUEST_INVALID: { title: 'The request does not have the expected shape', retryable: false },
  REQUEST_URI_TOO_LONG: { title: 'A path segment of the URL is longer than allowed', retryable: false },
  REQUEST_HEADERS_TOO_LARGE: { title: 'The request headers are larger than allowed', retryable: false },
  REQUEST_TIMEOUT: { title: 'The request was not received in time', retryable: false },
  ROUTE_NOT_FOUND: { title: 'No such route', retryable: false },
  METHOD_NOT_ALLOWED: { title: 'The route does not accept this method', retryable: false },

  // Contracts.
  CONTRACT_INVALID_INPUT: { title: "The input violates the service's input contract", retryable: false },
  CONTRACT_INVALID_OUTPUT: { title: "The model's output violates the service's output contract", retryable: false },

  // Identity and access.
  AUTH_REQUIRED: { title: 'The request has no API key', retryable: false },
  AUTH_INVALID_KEY: { title: 'The API key is unknown, revoked or expired', retryable: false },
  AUTH_FORBIDDEN: { title: "The API key's role does not allow this action", retryable: false },
  AUTH_RATE_LIMITED: { title: 'Too many failed authentications from this source', retryable: true },

  // Resources.
  SERVICE_NOT_FOUND: { title: 'No such service', retryable: false },
  DECISION_NOT_FOUND: { title: 'No such decision', retryable: false },
  REFERENCE_NOT_FOUND: { title: 'No such reference profile', retryable: false },
  REFERENCE_WINDOW_EMPTY: { title: 'The time window holds no decisions to build a reference from', retryable: false },
  MONITOR_NOT_FOUND: { title: 'No such monitor', retryable: false },
  ALERT_NOT_FOUND: { title: 'No such alert', retryable: false },
  ALERT_RESOLVED: { title: 'The alert has resolved and was never acknowledged', retryable: false },
  KEY_NOT_FOUND: { title: 'No such API key', retryable: false },
  PRINCIPAL_NOT_FOUND: { title: 'No such principal', retryable: false },
  AUDIT_ENTRY_NOT_FOUND: { title: 'No such entry in the audit log', retryable: false },
  HOLD_NOT_FOUND: { title: 'No such active legal hold', retryable: false },
  VERSION_NOT_FOUND: { title: 'The service has no such model version', retryable: false },
  REVISION_NOT_FOUND: { title: 'No such configuration revision', retryable: false },
  ROLLOUT_NOT_FOUND: { title: 'No such rollout', retryable: false },
  REVIEW_NOT_FOUND: { title: 'No such review item', retryable: false },

  // Safe change: registry, revisions, rollouts, approvals.
  MODEL_VERSION_CONFLICT: { title: 'A model version of that name is registered with another digest', retryable: false },
  MODEL_ARTIFACT_UNREADABLE: { title: "A model version's artifact or training data file cannot be read to hash it", retryable: false },
  MODEL_TRANSITION_INVALID: { title: "The model version's lifecycle does not allow that transition", retryable: false },
  CONFIG_RESTART_REQUIRED: { title: 'The change touches settings that only a restart applies', retryable: false },
  CONFIG_CONFLICT: { title: 'The running revision is not the one the change was planned against', retryable: false },
  ROLLOUT_ACTIVE: { title: 'The service already has a rollout in progress', retryable: false },
  ROLLOUT_STATE_INVALID: { title: "The rollout's state does not allow that action", retryable: false },
  GATE_NOT_MET: { title: "The service's approval gate does not allow the promotion yet", retryable: false },
  APPROVAL_NOT_ALLOWED: { title: 'This principal may not approve this version (its author, or already decided)', retryable: false },
  KILL_SWITCH_ENGAGED: { title: "The service's kill switch is engaged: no model was called", retryable: false },

  // Review queue.
  REVIEW_LEASE_LOST: { title: 'The reviewer does not hold an unexpired lease on the review item', retryable: false },
  APPEAL_PENDING: { title: 'The decision already has an appeal that is not decided', retryable: false },

  // The model and its upstream.
  UPSTREAM_TIMEOUT: { title: 'The model did not answer within its timeout', retryable: true },
  UPSTREAM_UNAVAILABLE: { title: 'The model server refused or could not be reached', retryable: true },
  UPSTREAM_CONNECTION_RESET: { title: 'The connection to the model server was reset', retryable: true },
  UPSTREAM_REJECTED_REQUEST: { title: 'The model server rejected the request (4xx)', retryable: false },
  UPSTREAM_RATE_LIMITED: { title: 'The model server is rate limiting (429)', retryable: true },
  UPSTREAM_SERVER_ERROR: { title: 'The model server failed (5xx)', retryable: true },
  UPSTREAM_MALFORMED_RESPONSE: { title: "The model server's answer could not be read", retryable: false },
  MODEL_ERROR: { title: 'The in-process model threw', retryable: false },

  // Resilience.
  CIRCUIT_OPEN: { title: "The model version's circuit breaker is open: it was not called", retryable: true },
  QUALITY_BREAKER_OPEN: { title: "The model version's quality breaker is open: the monitors found it below its floor", retryable: false },
  DEADLINE_EXCEEDED: { title: "The request's deadline ran out before this step could run", retryable: true },
  FALLBACK_NO_RULE_MATCHED: { title: 'No rule of a fallback rules step matched the request', retryable: false },
  RATE_LIMITED: { title: "The caller's rate limit is exhausted", retryable: true },

  // Policy.
  POLICY_RULE_FAILED: { title: 'A rule could not be evaluated', retryable: false },

  // Monitoring.
  STATS_INVALID_INPUT: { title: 'A statistic was given data it cannot use (empty, NaN, mismatched lengths)', retryable: false },
  SKETCH_INVALID: { title: 'A sketch was given data or another sketch it cannot use (different bins or key)', retryable: false },

  // Configuration.
  CONFIG_INVALID: { title: 'The configuration is invalid', retryable: false },
  CONFIG_NOT_FOUND: { title: 'The configuration file could not be read', retryable: false },

  // Availability.
  SERVER_LISTEN_FAILED: { title: 'The server could not listen on the address it was given', retryable: false },
  SERVER_DRAINING: { title: 'The server is shutting down', retryable: true },
  SERVER_BUSY: { title: 'The server is busy', retryable: true },
  STORE_UNAVAILABLE: { title: 'The decision log could not be written', retryable: true },
  SERVER_PRIMARY_UNAVAILABLE: { title: 'The primary process (store, monitors, control loops) did not answer a decision worker', retryable: true },

  INTERNAL: { title: 'An unexpected error; a bug in Ballast', retryable: false },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
