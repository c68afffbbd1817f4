// Retention of personal data: per service, raw inputs and context are purged once older than the
// service's term (their digests stay, so the audit log still verifies); legal holds on a service or a
// decision stop purges; one data subject's raw inputs can be erased at once (GDPR Art. 17). Every
// purge, erasure and hold is an audit event written with the change.
import { BallastError } from '../errors/index.js';
import { newId, type PurgeSelection, type Store, type StoredHold } from '../store/index.js';
import { parseDuration } from '../monitoring/monitors/index.js';
import { auditEvent } from './audit-events.js';
import type { ActionContext } from './key-manager.js';

/** The `retention:` block of a service. */
export interface RetentionConfig {
  /** How long raw inputs and context are kept, e.g. `90d`. */
  readonly inputs?: string;
  /** How long whole decisions (and their feedback) are kept, e.g. `2y`; their leaves stay in the log. */
  readonly decisions?: string;
}

const durationPattern = '^[1-9][0-9]*[smhdwy]$';

/** A retention term in milliseconds: monitoring's units, and `y` for 365 days. */
function termMs(text: string): number {
  return text.endsWith('y') ? Number(text.slice(0, -1)) * 365 * 86_400_000 : parseDuration(text);
}

/** JSON Schema of the `retention:` block, checked with the rest of the config file. */
export const retentionConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    inputs: { type: 'string', pattern: durationPattern, description: 'How long raw inputs and context are kept, e.g. 90d; their digests are kept for good.' },
    decisions: { type: 'string', pattern: durationPattern, description: 'How long whole decisions and their feedback are kept, e.g. 2y; their Merkle leaves stay.' },
  },
} as const;

export interface RetentionOptions {
  readonly store: Store;
  /** Each service's `retention:` block (services without one keep everything). */
  readonly policies: ReadonlyMap<string, RetentionConfig | undefined>;
  /** The keyed hash of subject keys (the same as the decision log's). */
  hashSubject(key: string): string;
  readonly now?: () => number;
  /** Decisions per transaction (default 500). */
  readonly batchSize?: number;
}

export interface PurgeReport {
  readonly service: string;
  /** Raw inputs of decisions created before this were due. */
  readonly before: string;
  readonly purged: number;
  /** Whole decisions deleted past `retention.decisions` (with their feedback), and the instant before which they were due. */
  readonly deleted: number;
  readonly deletedBefore: string | null;
  /** Whether the removed values are also gone from the files (false: a busy reader kept the WAL; the next purge retries). */
  readonly scrubbed: boolean;
}

export interface Retention {
  /** Purges every service's raw inputs past its term, skipping held ones. */
  purge(ctx: ActionContext): Promise<PurgeReport[]>;
  /** Erases the raw inputs and context of every decision about one data subject (held ones stay). */
  eraseSubject(subjectKey: string, ctx: ActionContext): Promise<{ readonly subjectHash: string; readonly erased: number; readonly scrubbed: boolean }>;
  hold(target: { readonly service?: string; readonly decisionId?: string; readonly reason: string }, ctx: ActionContext): Promise<StoredHold>;
  release(id: string, ctx: ActionContext): Promise<StoredHold>;
  holds(options?: { readonly active?: boolean }): Promise<StoredHold[]>;
  /** Purges every `intervalMs` (when a service has a term); returns the stop function. */
  schedule(intervalMs: number, ctx: ActionContext, onError: (error: unknown) => void): () => void;
}

export function createRetention(options: RetentionOptions): Retention {
  const { store, now = Date.now, batchSize = 500 } = options;
  const iso = () => new Date(now()).toISOString();

  /** Runs `step` (one transaction of at most `batchSize` decisions) until a batch comes back short; the total. */
  async function inBatches(step: () => Promise<readonly string[]>): Promise<number> {
    for (let total = 0; ; ) {
      const n = (await step()).length;
      total += n;
      if (n < batchSize) return total;
    }
  }

  const purgeInputs = (selection: PurgeSelection, audit: (ids: readonly string[], at: string) => ReturnType<typeof auditEvent>) =>
    inBatches(() => {
      const at = iso();
      return store.retention.purgeInputs(selection, { limit: batchSize, at, audit: (ids) => audit(ids, at) });
    });

  const retention: Retention = {
    async purge(ctx) {
      const reports: PurgeReport[] = [];
      for (const [service, policy] of options.policies) {
        if (policy?.inputs === undefined && policy?.decisions === undefined) continue;
        // Whole decisions first: what is deleted needs no purge.
        const { decisions: decisionsTerm, inputs } = policy;
        const deletedBefore = decisionsTerm === undefined ? null : new Date(now() - termMs(decisionsTerm)).toISOString();
        const deleted =
          deletedBefore === null
            ? 0
            : await inBatches(() =>
                store.retention.deleteDecisions({ service, before: deletedBefore }, {
                  limit: batchSize,
                  audit: (decisions, feedback) =>
                    auditEvent({ actor: ctx.actor, action: 'retention.deleted', resource: { kind: 'service', id: service }, service, after: { before: deletedBefore, term: decisionsTerm, decisions, feedback }, requestId: ctx.requestId ?? null, detail: `${decisions.length} decision(s) created before ${deletedBefore} and their ${feedback.length} feedback deleted; their leaves stay in the log`, at: iso() }),
                }),
              );
        const before = inputs === undefined ? deletedBefore! : new Date(now() - termMs(inputs)).toISOString();
        const purged =
          inputs === undefined
            ? 0
            : await purgeInputs({ service, before }, (ids, at) =>
                auditEvent({ actor: ctx.actor, action: 'retention.purged', resource: { kind: 'service', id: service }, service, after: { before, term: inputs, decisions: ids }, requestId: ctx.requestId ?? null, detail: `raw inputs and context of ${ids.length} decision(s) created before ${before} removed; digests kept`, at }),
              );
        // Always, so that a scrub a busy reader prevented last time happens now.
        const scrubbed = await store.retention.scrubFreedSpace();
        reports.push({ service, before, purged, deleted, deletedBefore, scrubbed });
      }
      return reports;
    },

    async eraseSubject(subjectKey, ctx) {
      if (typeof subjectKey !== 'string' || subjectKey === '') throw new BallastError('REQUEST_INVALID', { detail: 'a subject key is required', issues: [{ pointer: '/subjectKey', code: 'required', message: 'must be a non-empty string' }] });
      const subjectHash = options.hashSubject(subjectKey);
      const erased = await purgeInputs({ subjectHash }, (ids, at) =>
        // The event names the subject by its keyed hash only: the key itself is personal data.
        auditEvent({ actor: ctx.actor, action: 'subject.erased', resource: { kind: 'subject', id: subjectHash }, after: { decisions: ids }, requestId: ctx.requestId ?? null, detail: `raw inputs and context of ${ids.length} decision(s) erased at the subject's request; digests kept`, at }),
      );
      const scrubbed = await store.retention.scrubFreedSpace();
      return { subjectHash, erased, scrubbed };
    },

    async hold(target, ctx) {
      const service = target.service ?? null;
      const decisionId = target.decisionId ?? null;
      if ((service === null) === (decisionId === null)) throw new BallastError('REQUEST_INVALID', { detail: 'a legal hold is on a service or on a decision: give exactly one', issues: [{ pointer: '', code: 'oneOf', message: 'give service or decisionId' }] });
      if (service !== null && !options.policies.has(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service '${service}'` });
      if (decisionId !== null && (await store.decisions.get(decisionId)) === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision '${decisionId}'` });
      if (typeof target.reason !== 'string' || target.reason.trim() === '') throw new BallastError('REQUEST_INVALID', { detail: 'a legal hold needs a reason', issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
      const at = iso();
      const hold: StoredHold = { id: newId('hld'), service, decisionId, reason: target.reason, createdAt: at, createdBy: ctx.actor.principal, releasedAt: null, releasedBy: null };
      await store.retention.placeHold(hold, auditEvent({ actor: ctx.actor, action: 'hold.placed', resource: { kind: 'legal_hold', id: hold.id }, service, after: hold, requestId: ctx.requestId ?? null, at }));
      return hold;
    },

    release(id, ctx) {
      const at = iso();
      return store.retention.releaseHold(id, { at, by: ctx.actor.principal }, (before) =>
        auditEvent({ actor: ctx.actor, action: 'hold.released', resource: { kind: 'legal_hold', id }, service: before.service, before, after: { ...before, releasedAt: at, releasedBy: ctx.actor.principal }, requestId: ctx.requestId ?? null, at }),
      );
    },

    holds: (opts) => store.retention.listHolds(opts),

    schedule(intervalMs, ctx, onError) {
      const due = [...options.policies.values()].some((p) => p?.inputs !== undefined || p?.decisions !== undefined);
      if (!due) return () => {};
      const run = () => void retention.purge(ctx).catch(onError);
      const first = setTimeout(run, 1000);
      const timer = setInterval(run, intervalMs);
      first.unref();
      timer.unref();
      return () => {
        clearTimeout(first);
        clearInterval(timer);
      };
    },
  };
  return retention;
}
