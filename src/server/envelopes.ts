import { BallastError, type Issue } from '../errors/index.js';
import type { DecisionRequest } from '../pipeline/index.js';
import { callerFeedbackKinds, type FeedbackKind } from '../store/index.js';

// The request envelopes of the API are small and fixed, so they are checked here by hand with the
// same Issue shape as contract violations; the service's contract checks the `input` inside.

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) {
    throw new BallastError('REQUEST_UNSUPPORTED_MEDIA_TYPE', { detail: `${what} needs a JSON body with Content-Type: application/json` });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body;
    throw invalid(`${what} must be a JSON object`, [{ pointer: '', code: 'type', message: `must be an object, got ${got}` }]);
  }
  return body as Record<string, unknown>;
}

function invalid(detail: string, issues: Issue[]): BallastError {
  return new BallastError('REQUEST_INVALID', { detail, issues });
}

function checkKeys(body: Record<string, unknown>, allowed: readonly string[], issues: Issue[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) issues.push({ pointer: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'additionalProperties', message: `unknown property '${key}' (allowed: ${allowed.join(', ')})` });
  }
}

function optionalString(body: Record<string, unknown>, key: string, issues: Issue[], maxLength = 1024): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') issues.push({ pointer: `/${key}`, code: 'type', message: `must be a string, got ${typeof value}` });
  else if (value.length === 0 || value.length > maxLength) issues.push({ pointer: `/${key}`, code: 'maxLength', message: `must be 1 to ${maxLength} characters` });
  else return value;
  return undefined;
}

/** Reads `{ input, subjectKey?, context? }` for a decision on `service`. */
export function readDecisionRequest(service: string, body: unknown): DecisionRequest {
  const obj = requireObject(body, 'a decision request');
  const issues: Issue[] = [];
  checkKeys(obj, ['input', 'subjectKey', 'context', 'priority'], issues);
  if (!Object.hasOwn(obj, 'input')) issues.push({ pointer: '/input', code: 'required', message: "must have the property 'input' (the model's input)" });
  const subjectKey = optionalString(obj, 'subjectKey', issues);
  const context = obj.context;
  if (context !== undefined && context !== null && (typeof context !== 'object' || Array.isArray(context))) {
    issues.push({ pointer: '/context', code: 'type', message: 'must be an object' });
  }
  const priority = obj.priority;
  if (priority !== undefined && priority !== 'high' && priority !== 'normal' && priority !== 'low') {
    issues.push({ pointer: '/priority', code: 'enum', message: 'must be one of high, normal, low' });
  }
  if (issues.length > 0) throw invalid('the decision request is not of the expected shape', issues);
  return {
    service,
    input: obj.input,
    ...(priority === undefined ? {} : { priority: priority as 'high' | 'normal' | 'low' }),
    ...(subjectKey === undefined ? {} : { subjectKey }),
    ...(context === undefined || context === null ? {} : { context: context as Record<string, unknown> }),
  };
}

export interface FeedbackRequest {
  readonly kind: FeedbackKind;
  readonly value: unknown;
  readonly source?: string;
  readonly note?: string;
  readonly supersedes?: string;
}

/** Reads `{ kind?, value, source?, note?, supersedes? }` of a feedback post. */
export function readFeedbackRequest(body: unknown): FeedbackRequest {
  const obj = requireObject(body, 'feedback');
  const issues: Issue[] = [];
  checkKeys(obj, ['kind', 'value', 'source', 'note', 'supersedes'], issues);
  const kind = obj.kind ?? 'label';
  if (typeof kind !== 'string' || !(callerFeedbackKinds as readonly string[]).includes(kind)) {
    // override and appeal are people's decisions: they come through the review queue, with an actor and an audit event.
    issues.push({ pointer: '/kind', code: 'enum', message: `must be one of ${callerFeedbackKinds.join(', ')} (overrides and appeals go through /v1/reviews)` });
  }
  if (obj.value === undefined || obj.value === null) issues.push({ pointer: '/value', code: 'required', message: "must have the property 'value' (the label or outcome)" });
  const source = optionalString(obj, 'source', issues);
  const note = optionalString(obj, 'note', issues, 10_000);
  const supersedes = optionalString(obj, 'supersedes', issues, 64);
  if (issues.length > 0) throw invalid('the feedback is not of the expected shape', issues);
  return {
    kind: kind as FeedbackKind,
    value: obj.value,
    ...(source === undefined ? {} : { source }),
    ...(note === undefined ? {} : { note }),
    ...(supersedes === undefined ? {} : { supersedes }),
  };
}
