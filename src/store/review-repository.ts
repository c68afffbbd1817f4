// The review queue: items waiting for a human, taken one at a time under a lease, and every human
// decision on them, append-only. Each write is one transaction through ctx.write (SQLite: BEGIN
// IMMEDIATE, so a claim's select and update hold the write lock together and two claims, from this
// process or another, never take the same item). A lease is a time, not a timer: an item claimed
// with a lease that has run out is exactly as free as an open one, so nothing sweeps leases and an
// item whose reviewer vanished is never lost.
import { BallastError } from '../errors/index.js';
import type { NewAlertDelivery, StoredAlert } from './alert-records.js';
import { activeKey, encodeAlert, encodeDelivery } from './alert-repository.js';
import { appendAuditInTransaction } from './audit-repository.js';
import { appendFeedbackInTransaction } from './feedback-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { StoredFeedback } from './records.js';
import { newId } from './ids.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { Database, ReviewDecisionsTable, ReviewItemsTable } from './schema.js';
import type { ExpressionBuilder, Kysely } from 'kysely';

export const reviewStates = ['open', 'claimed', 'decided', 'escalated'] as const;
/** `open` and `escalated` wait for a claim; `claimed` is held until its lease runs out; `decided` is final. */
export type ReviewState = (typeof reviewStates)[number];

export const reviewVerdicts = ['accept', 'override', 'escalate'] as const;
/** Accept the model's answer, override it with a label, or hand the item to a senior role. */
export type ReviewVerdict = (typeof reviewVerdicts)[number];

export const reviewKinds = ['decision', 'appeal'] as const;
/** `decision`: a decision that went to review; `appeal`: a data subject's appeal of a decision. */
export type ReviewKind = (typeof reviewKinds)[number];

/** What the queue is given for a new item; it starts open, unleased, not escalated. */
export interface NewReviewItem {
  /** `rvw_` + 26 characters. */
  readonly id: string;
  readonly decisionId: string;
  readonly service: string;
  readonly version: string | null;
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
  /** Higher is taken first (0 normal, 10 high stakes); an integer. */
  readonly priority: number;
  /** Why the decision went to review (the decision's reasons), JSON. */
  readonly reasons: readonly unknown[];
  /** When the service's SLA says it must be decided. */
  readonly dueAt: string;
  /** Distinct reviewers who must agree: 1, or 2 for high stakes. */
  readonly requiredReviews: number;
  readonly kind: ReviewKind;
  /** What the kind adds (an appeal's statement and who filed it), JSON; null when nothing. */
  readonly detail: unknown;
  /** Reviewers who may never take it (an appeal's: whoever decided the decision appealed). */
  readonly excludedReviewers?: readonly string[];
}

/** A review item as it stands. */
export interface StoredReviewItem extends NewReviewItem {
  readonly state: ReviewState;
  /** The principal holding the lease while `claimed` (the lease may have run out), else null. */
  readonly leaseHolder: string | null;
  readonly leaseUntil: string | null;
  /** Once escalated, the only role that may claim it; never cleared. */
  readonly escalationRole: string | null;
  readonly updatedAt: string;
  /** When the current lease began (null unless claimed). */
  readonly claimedAt: string | null;
  /** When its SLA breach was escalated; set once. */
  readonly slaBreachedAt: string | null;
}

/** One human decision on an item, never changed. */
export interface StoredReviewDecision {
  readonly id: string;
  readonly itemId: string;
  readonly reviewer: string;
  /** The role the reviewer acted in. */
  readonly role: string;
  readonly decision: ReviewVerdict;
  /** The reviewer's label (an override's answer), JSON; null when there is none. */
  readonly label: unknown;
  readonly rationale: string;
  readonly at: string;
  /** When the reviewer's lease began. */
  readonly claimedAt: string | null;
}

/** A human decision with the item it was made on. */
export interface ReviewDecisionWithItem extends StoredReviewDecision {
  readonly service: string;
  readonly decisionId: string;
  readonly kind: ReviewKind;
  readonly version: string | null;
  readonly itemCreatedAt: string;
}

/** What a human decision writes with it, in its transaction. */
export interface ReviewEffects {
  readonly audit: readonly StoredAuditEvent[];
  /** The human label as feedback (an override or an appeal's re-decision). */
  readonly feedback?: StoredFeedback;
  /** Webhook deliveries to the outbox (the caller hears the final outcome). */
  readonly deliveries?: readonly NewAlertDelivery[];
}

/** What escalating one breached SLA writes with it: the audit event, the alert it raises and its deliveries. */
export interface SlaBreachEffects {
  readonly audit: readonly StoredAuditEvent[];
  readonly alert?: StoredAlert;
  readonly deliveries?: readonly NewAlertDelivery[];
}

export interface ReviewItemWithDecisions extends StoredReviewItem {
  /** Oldest first. */
  readonly decisions: readonly StoredReviewDecision[];
}

export interface ReviewClaimOptions {
  readonly reviewer: string;
  readonly role: string;
  /** Only items of these services; null or absent: any service. */
  readonly services?: readonly string[] | null;
  readonly now: string;
  readonly leaseMs: number;
}

export interface ReviewDecideInput {
  readonly itemId: string;
  readonly reviewer: string;
  readonly role: string;
  readonly decision: ReviewVerdict;
  readonly label: unknown;
  readonly rationale: string;
  readonly now: string;
  /** The role the item goes to if this decision escalates it (an `escalate`, or two reviewers who disagree). */
  readonly escalateTo: string;
  /** The decision row's id (default a new `rvd_` id). */
  readonly id?: string;
}

/** What a decision did: the item before and after, and the row appended. */
export interface ReviewChange {
  readonly before: StoredReviewItem;
  readonly after: StoredReviewItem;
  readonly decision: StoredReviewDecision;
}

export interface ReviewListOptions {
  readonly service?: string;
  readonly state?: ReviewState;
  /** Rows per page, clamped to 0..1000. */
  readonly limit: number;
  /** Id of the last item of the previous page; an unknown id rejects with REQUEST_INVALID. */
  readonly after?: string;
}

export interface ReviewRepository {
  /**
   * Inserts an open item and returns it as stored; with `audit` and `feedback` (an appeal's complaint) in the same
   * transaction when given.
   */
  create(item: NewReviewItem, audit?: StoredAuditEvent, feedback?: StoredFeedback): Promise<StoredReviewItem>;
  /**
   * Leases the next item `reviewer` may take, or undefined: open, escalated or claimed with a lease run
   * out at `now`; escalated to no role or to `role`; of `services` when given; not already decided on
   * by this reviewer (two reviews are independent, and a senior is not one of the reviewers who
   * disagreed). Highest priority first, then oldest (created_at, id). With `audit`, the event it builds
   * from the claimed item is written in the claim's transaction (a claim shows a person the input).
   */
  claimNext(options: ReviewClaimOptions, audit?: (item: StoredReviewItem) => StoredAuditEvent): Promise<StoredReviewItem | undefined>;
  /** Extends the lease to now + leaseMs; REVIEW_LEASE_LOST unless `reviewer` holds it unexpired. */
  renew(options: { readonly itemId: string; readonly reviewer: string; readonly now: string; readonly leaseMs: number }): Promise<StoredReviewItem>;
  /** Gives the item back (open, or escalated if it was), with `audit` in the same transaction; REVIEW_LEASE_LOST unless `reviewer` is the lease holder. */
  release(options: { readonly itemId: string; readonly reviewer: string; readonly now: string }, audit?: (item: StoredReviewItem) => StoredAuditEvent): Promise<StoredReviewItem>;
  /**
   * Appends the lease holder's decision and moves the item, with the audit event that `audit` builds
   * from the change, in one transaction. The item becomes `escalated` (to `escalateTo`) on an
   * `escalate` or when the required distinct reviewers disagree (verdict or label), `decided` when
   * they agree (or when a reviewer of the escalation role decides it), else `open` again for the next
   * reviewer. REVIEW_NOT_FOUND; REVIEW_LEASE_LOST (nothing written) unless `reviewer` holds a lease
   * unexpired at `now`.
   */
  decide(input: ReviewDecideInput, effects: (change: ReviewChange) => ReviewEffects): Promise<ReviewChange>;
  /**
   * Escalates, once each, up to `limit` undecided items due before `now` whose breach was not escalated
   * yet (soonest due first): sla_breached_at set, escalated to the item's escalation role or
   * `escalateTo(item)`; an item under a lease keeps it (its holder's decision then leaves it escalated).
   * With each, in the same transaction, what `effects` returns (an audit event, an alert, deliveries);
   * an alert whose key is already firing is not raised twice. Returns the items as escalated.
   */
  escalateOverdue(options: {
    readonly now: string;
    readonly limit: number;
    readonly escalateTo: (item: StoredReviewItem) => string;
    readonly effects: (item: StoredReviewItem) => SlaBreachEffects;
  }): Promise<StoredReviewItem[]>;
  get(id: string): Promise<ReviewItemWithDecisions | undefined>;
  /** The items of one decision (the review, then any appeals), oldest first. */
  listForDecision(decisionId: string): Promise<StoredReviewItem[]>;
  /** Human decisions made in [since, until) (by `at`), with their items, oldest first. */
  listDecisions(options: { readonly service?: string; readonly since?: string; readonly until?: string; readonly limit: number }): Promise<ReviewDecisionWithItem[]>;
  /** Items per state, of one service or all; how many are past due and undecided at `now`; how many ever breached their SLA. */
  countByState(options: { readonly service?: string; readonly now: string }): Promise<{ readonly states: Record<ReviewState, number>; readonly overdue: number; readonly breached: number }>;
  /** Items by created_at then id, oldest first. */
  list(options: ReviewListOptions): Promise<StoredReviewItem[]>;
}

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

const asState = (value: string): ReviewState => {
  if ((reviewStates as readonly string[]).includes(value)) return value as ReviewState;
  throw new BallastError('INTERNAL', { detail: `review item in unknown state '${value}'` });
};

const decodeItem = (row: ReviewItemsTable): StoredReviewItem => ({
  id: row.id,
  decisionId: row.decision_id,
  service: row.service,
  version: row.version,
  createdAt: row.created_at,
  priority: Number(row.priority),
  reasons: JSON.parse(row.reasons) as unknown[],
  dueAt: row.due_at,
  requiredReviews: Number(row.required_reviews),
  state: asState(row.state),
  leaseHolder: row.lease_holder,
  leaseUntil: row.lease_until,
  escalationRole: row.escalation_role,
  updatedAt: row.updated_at,
  kind: row.kind as ReviewKind,
  detail: json(row.detail),
  claimedAt: row.claimed_at,
  slaBreachedAt: row.sla_breached_at,
});

const decodeDecision = (row: ReviewDecisionsTable): StoredReviewDecision => ({
  id: row.id,
  itemId: row.item_id,
  reviewer: row.reviewer,
  role: row.role,
  decision: row.decision as ReviewVerdict,
  label: json(row.label),
  rationale: row.rationale,
  at: row.at,
  claimedAt: row.claimed_at,
});

/** The row of a new, open item (also how a decision's item rides in its group commit). */
export function encodeReviewItem(item: NewReviewItem): ReviewItemsTable {
  checkInstant(item.createdAt, 'createdAt');
  checkInstant(item.dueAt, 'dueAt');
  if (!Number.isSafeInteger(item.priority)) throw new BallastError('INTERNAL', { detail: `priority must be an integer, got ${item.priority}` });
  if (!(reviewKinds as readonly string[]).includes(item.kind)) throw new BallastError('INTERNAL', { detail: `unknown review item kind '${String(item.kind)}'` });
  if (!Number.isSafeInteger(item.requiredReviews) || item.requiredReviews < 1) {
    throw new BallastError('INTERNAL', { detail: `requiredReviews must be an integer of at least 1, got ${item.requiredReviews}` });
  }
  return {
    id: item.id,
    decision_id: item.decisionId,
    service: item.service,
    version: item.version,
    created_at: item.createdAt,
    priority: item.priority,
    reasons: JSON.stringify(item.reasons),
    due_at: item.dueAt,
    required_reviews: item.requiredReviews,
    state: 'open',
    lease_holder: null,
    lease_until: null,
    escalation_role: null,
    updated_at: item.createdAt,
    kind: item.kind,
    detail: item.detail === undefined || item.detail === null ? null : JSON.stringify(item.detail),
    claimed_at: null,
    sla_breached_at: null,
  };
}

/** The alert key of an item's SLA breach: one per item, so it fires at most once while unresolved. */
export function slaAlertKey(item: Pick<ReviewItemsTable, 'id' | 'service'>): string {
  return activeKey({ rule: 'review-sla', service: item.service, monitor: 'review_sla', version: '*', segment: item.id });
}

function leaseEnd(now: string, leaseMs: number): string {
  checkInstant(now, 'now');
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) throw new BallastError('INTERNAL', { detail: `leaseMs must be a positive integer, got ${leaseMs}` });
  return new Date(Date.parse(now) + leaseMs).toISOString();
}

// Equal as JSON values, whatever the key order (labels come from different reviewers' clients).
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const bo = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(bo, k) && sameJson((a as Record<string, unknown>)[k], bo[k]));
}

// Free to claim at `now`: waiting, or held under a lease that has run out (lease_until <= now).
const claimable = (now: string) => (eb: ExpressionBuilder<Database, 'review_items'>) =>
  eb.or([eb('state', 'in', ['open', 'escalated']), eb.and([eb('state', '=', 'claimed'), eb('lease_until', '<=', now)])]);

function leaseLost(item: ReviewItemsTable, reviewer: string, now: string): BallastError {
  const reason =
    item.state === 'decided' || item.state === 'escalated' || item.state === 'open'
      ? `it is ${item.state}`
      : item.lease_holder !== reviewer
        ? 'another reviewer holds its lease'
        : `the lease ran out at ${item.lease_until ?? '?'} (now ${now})`;
  return new BallastError('REVIEW_LEASE_LOST', { detail: `${reviewer} does not hold review item ${item.id}: ${reason}; claim the next item again` });
}

async function itemRow(tx: Kysely<Database>, id: string): Promise<ReviewItemsTable> {
  const row = await tx.selectFrom('review_items').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new BallastError('REVIEW_NOT_FOUND', { detail: `no review item '${id}'` });
  return row;
}

/** The item's row if `reviewer` holds an unexpired lease on it at `now`; REVIEW_LEASE_LOST otherwise. */
function heldRow(row: ReviewItemsTable, reviewer: string, now: string): ReviewItemsTable & { readonly lease_until: string } {
  if (row.state !== 'claimed' || row.lease_holder !== reviewer || row.lease_until === null || row.lease_until <= now) throw leaseLost(row, reviewer, now);
  return row as ReviewItemsTable & { readonly lease_until: string };
}

/**
 * Sets `set` on a held item, guarded on the lease as read (holder and lease end), as the claim is, for
 * dialects that do not hold the lock between statements: REVIEW_LEASE_LOST when it changed since.
 */
async function updateHeld(tx: Kysely<Database>, row: ReviewItemsTable & { readonly lease_until: string }, reviewer: string, now: string, set: Partial<ReviewItemsTable>): Promise<void> {
  const result = await tx
    .updateTable('review_items')
    .set(set)
    .where('id', '=', row.id)
    .where('state', '=', 'claimed')
    .where('lease_holder', '=', reviewer)
    .where('lease_until', '=', row.lease_until)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw leaseLost(row, reviewer, now);
}

/** Where the item goes after this decision, given every decision on it (this one included, last). */
function nextState(item: ReviewItemsTable, decisions: readonly ReviewDecisionsTable[], escalateTo: string): Pick<ReviewItemsTable, 'state' | 'escalation_role'> {
  const latest = decisions.at(-1);
  if (latest?.decision === 'escalate') return { state: 'escalated', escalation_role: item.escalation_role ?? escalateTo };
  // Once escalated, one reviewer of that role settles it; a lease holder of another role whose item
  // was escalated under them (an SLA breach) is heard, and the item still waits for that role.
  if (item.escalation_role !== null) return { state: latest?.role === item.escalation_role ? 'decided' : 'escalated', escalation_role: item.escalation_role };
  const byReviewer = new Map<string, ReviewDecisionsTable>();
  for (const d of decisions) byReviewer.set(d.reviewer, d);
  if (byReviewer.size < Number(item.required_reviews)) return { state: 'open', escalation_role: null };
  const verdicts = [...byReviewer.values()];
  const first = verdicts[0];
  const agree = first !== undefined && verdicts.every((d) => d.decision === first.decision && sameJson(json(d.label), json(first.label)));
  return agree ? { state: 'decided', escalation_role: null } : { state: 'escalated', escalation_role: escalateTo };
}

/** Creates the review repository of a store. */
export function createReviewRepository(ctx: RepositoryContext): ReviewRepository {
  return {
    create: (item, audit, feedback) =>
      ctx.write(async (tx) => {
        const row = encodeReviewItem(item);
        await tx.insertInto('review_items').values(row).execute();
        const excluded = [...new Set(item.excludedReviewers ?? [])];
        if (excluded.length > 0) await tx.insertInto('review_exclusions').values(excluded.map((reviewer) => ({ item_id: row.id, reviewer }))).execute();
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit]);
        if (feedback !== undefined) await appendFeedbackInTransaction(tx, feedback);
        return decodeItem(row);
      }),

    claimNext: (options, audit) =>
      ctx.write(async (tx) => {
        const until = leaseEnd(options.now, options.leaseMs);
        const services = options.services ?? null;
        if (services !== null && services.length === 0) return undefined;
        // One attempt is enough under SQLite's write lock; a dialect whose transactions see other
        // commits between statements (PostgreSQL, read committed) may lose the row to another claim
        // between the select and the update, and then takes the next one.
        for (let attempt = 0; attempt < 5; attempt++) {
          let query = tx
            .selectFrom('review_items')
            .selectAll()
            .where(claimable(options.now))
            .where((eb) => eb.or([eb('escalation_role', 'is', null), eb('escalation_role', '=', options.role)]))
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('review_decisions')
                    .select('review_decisions.id')
                    .whereRef('review_decisions.item_id', '=', 'review_items.id')
                    .where('review_decisions.reviewer', '=', options.reviewer),
                ),
              ),
            )
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('review_exclusions')
                    .select('review_exclusions.item_id')
                    .whereRef('review_exclusions.item_id', '=', 'review_items.id')
                    .where('review_exclusions.reviewer', '=', options.reviewer),
                ),
              ),
            )
            .orderBy('priority', 'desc')
            .orderBy('created_at')
            .orderBy('id')
            .limit(1);
          if (services !== null) query = query.where('service', 'in', [...services]);
          const row = await query.executeTakeFirst();
          if (row === undefined) return undefined;
          const claimed = { state: 'claimed', lease_holder: options.reviewer, lease_until: until, claimed_at: options.now, updated_at: options.now } as const;
          const result = await tx.updateTable('review_items').set(claimed).where('id', '=', row.id).where(claimable(options.now)).executeTakeFirst();
          if (Number(result.numUpdatedRows) === 1) {
            const item = decodeItem({ ...row, ...claimed });
            if (audit !== undefined) await appendAuditInTransaction(tx, [audit(item)]);
            return item;
          }
        }
        return undefined;
      }),

    renew: (options) =>
      ctx.write(async (tx) => {
        const until = leaseEnd(options.now, options.leaseMs);
        const row = heldRow(await itemRow(tx, options.itemId), options.reviewer, options.now);
        const renewed = { lease_until: until, updated_at: options.now };
        await updateHeld(tx, row, options.reviewer, options.now, renewed);
        return decodeItem({ ...row, ...renewed });
      }),

    release: (options, audit) =>
      ctx.write(async (tx) => {
        checkInstant(options.now, 'now');
        const row = await itemRow(tx, options.itemId);
        // A holder whose lease ran out may still give the item back, as long as nobody took it since.
        if (row.state !== 'claimed' || row.lease_holder !== options.reviewer) throw leaseLost(row, options.reviewer, options.now);
        const released = { state: row.escalation_role === null ? 'open' : 'escalated', lease_holder: null, lease_until: null, claimed_at: null, updated_at: options.now };
        const result = await tx.updateTable('review_items').set(released).where('id', '=', row.id).where('state', '=', 'claimed').where('lease_holder', '=', options.reviewer).executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw leaseLost(row, options.reviewer, options.now);
        const item = decodeItem({ ...row, ...released });
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit(item)]);
        return item;
      }),

    decide: (input, effects) =>
      ctx.write(async (tx) => {
        checkInstant(input.now, 'now');
        if (!(reviewVerdicts as readonly string[]).includes(input.decision)) throw new BallastError('INTERNAL', { detail: `unknown review decision '${input.decision}'` });
        if (input.escalateTo.length === 0) throw new BallastError('INTERNAL', { detail: 'escalateTo must name a role' });
        const row = heldRow(await itemRow(tx, input.itemId), input.reviewer, input.now);
        let label: string | null;
        try {
          label = input.label === undefined || input.label === null ? null : JSON.stringify(input.label);
        } catch (cause) {
          throw new BallastError('INTERNAL', { detail: 'label is not JSON-serializable', cause });
        }
        const decisionRow: ReviewDecisionsTable = {
          id: input.id ?? newId('rvd'),
          item_id: row.id,
          reviewer: input.reviewer,
          role: input.role,
          decision: input.decision,
          label,
          rationale: input.rationale,
          at: input.now,
          claimed_at: row.claimed_at,
        };
        await tx.insertInto('review_decisions').values(decisionRow).execute();
        const decisions = await tx.selectFrom('review_decisions').selectAll().where('item_id', '=', row.id).orderBy('at').orderBy('id').execute();
        // This decision last, whatever its id's order against rows of the same instant.
        const ordered = [...decisions.filter((d) => d.id !== decisionRow.id), decisionRow];
        const moved = { ...nextState(row, ordered, input.escalateTo), lease_holder: null, lease_until: null, claimed_at: null, updated_at: input.now };
        await updateHeld(tx, row, input.reviewer, input.now, moved);
        const change: ReviewChange = { before: decodeItem(row), after: decodeItem({ ...row, ...moved }), decision: decodeDecision(decisionRow) };
        const done = effects(change);
        if (done.feedback !== undefined) await appendFeedbackInTransaction(tx, done.feedback);
        await appendAuditInTransaction(tx, done.audit);
        const outbox = (done.deliveries ?? []).map((d) => encodeDelivery(d, row.id, `review:${row.service}`));
        if (outbox.length > 0) await tx.insertInto('alert_outbox').values(outbox).execute();
        // A decided item's SLA alert (if it breached) is over.
        if (moved.state === 'decided' && row.sla_breached_at !== null) {
          await tx.updateTable('alerts').set({ state: 'resolved', resolved_at: input.now, active_key: null }).where('active_key', '=', slaAlertKey(row)).execute();
        }
        return change;
      }),

    escalateOverdue: async (options) => {
      checkInstant(options.now, 'now');
      // Most sweeps find nothing: ask on a reader first, so that they take no write lock (on SQLite a
      // writer waiting for the lock waits on the event loop) unless an item is due.
      const due = await ctx.read((db) =>
        db.selectFrom('review_items').select('id').where('sla_breached_at', 'is', null).where('due_at', '<=', options.now).where('state', '!=', 'decided').limit(1).executeTakeFirst(),
      );
      if (due === undefined) return [];
      return ctx.write(async (tx) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        const due = await tx
          .selectFrom('review_items')
          .selectAll()
          .where('sla_breached_at', 'is', null)
          .where('due_at', '<=', options.now)
          .where('state', '!=', 'decided')
          .orderBy('due_at')
          .orderBy('id')
          .limit(limit)
          .execute();
        const escalated: StoredReviewItem[] = [];
        for (const row of due) {
          const role = row.escalation_role ?? options.escalateTo(decodeItem(row));
          const set = { sla_breached_at: options.now, escalation_role: role, state: row.state === 'open' ? 'escalated' : row.state, updated_at: options.now };
          // Guarded: another replica's sweep that got here first has set it, and this one writes nothing.
          const result = await tx.updateTable('review_items').set(set).where('id', '=', row.id).where('sla_breached_at', 'is', null).executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) continue;
          const item = decodeItem({ ...row, ...set });
          const done = options.effects(item);
          await appendAuditInTransaction(tx, done.audit);
          if (done.alert !== undefined) {
            const inserted = await tx
              .insertInto('alerts')
              .values({ ...encodeAlert(done.alert), active_key: activeKey(done.alert) })
              .onConflict((oc) => oc.column('active_key').doNothing())
              .executeTakeFirst();
            const outbox = (done.deliveries ?? []).map((d) => encodeDelivery(d, done.alert!.id, done.alert!.rule));
            if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1 && outbox.length > 0) await tx.insertInto('alert_outbox').values(outbox).execute();
          }
          escalated.push(item);
        }
        return escalated;
      });
    },

    listForDecision: (decisionId) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('review_items').selectAll().where('decision_id', '=', decisionId).orderBy('created_at').orderBy('id').execute();
        return rows.map(decodeItem);
      }),

    listDecisions: (options) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db
          .selectFrom('review_decisions as d')
          .innerJoin('review_items as i', 'i.id', 'd.item_id')
          .selectAll('d')
          .select(['i.service', 'i.decision_id', 'i.kind', 'i.version', 'i.created_at as item_created_at'])
          .orderBy('d.at')
          .orderBy('d.id')
          .limit(limit);
        if (options.service !== undefined) query = query.where('i.service', '=', options.service);
        if (options.since !== undefined) query = query.where('d.at', '>=', options.since);
        if (options.until !== undefined) query = query.where('d.at', '<', options.until);
        const rows = await query.execute();
        return rows.map((r) => ({
          ...decodeDecision(r),
          service: r.service,
          decisionId: r.decision_id,
          kind: r.kind as ReviewKind,
          version: r.version,
          itemCreatedAt: r.item_created_at,
        }));
      }),

    countByState: (options) =>
      ctx.read(async (db) => {
        checkInstant(options.now, 'now');
        let query = db.selectFrom('review_items').select(['state', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('state');
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        const states = Object.fromEntries(reviewStates.map((state) => [state, 0])) as Record<ReviewState, number>;
        for (const row of await query.execute()) if ((reviewStates as readonly string[]).includes(row.state)) states[row.state as ReviewState] = Number(row.n);
        let overdue = db.selectFrom('review_items').select((eb) => eb.fn.countAll<number | string>().as('n')).where('state', '!=', 'decided').where('due_at', '<=', options.now);
        if (options.service !== undefined) overdue = overdue.where('service', '=', options.service);
        const { n } = await overdue.executeTakeFirstOrThrow();
        let breached = db.selectFrom('review_items').select((eb) => eb.fn.countAll<number | string>().as('n')).where('sla_breached_at', 'is not', null);
        if (options.service !== undefined) breached = breached.where('service', '=', options.service);
        const b = await breached.executeTakeFirstOrThrow();
        return { states, overdue: Number(n), breached: Number(b.n) };
      }),

    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('review_items').selectAll().where('id', '=', id).executeTakeFirst();
        if (row === undefined) return undefined;
        const decisions = await db.selectFrom('review_decisions').selectAll().where('item_id', '=', id).orderBy('at').orderBy('id').execute();
        return { ...decodeItem(row), decisions: decisions.map(decodeDecision) };
      }),

    list: (options) =>
      ctx.read(async (db) => {
        const limit = pageSize(options.limit);
        if (limit === 0) return [];
        let query = db.selectFrom('review_items').selectAll().orderBy('created_at').orderBy('id').limit(limit);
        if (options.service !== undefined) query = query.where('service', '=', options.service);
        if (options.state !== undefined) query = query.where('state', '=', options.state);
        if (options.after !== undefined) {
          const after = options.after;
          const cursor = await db.selectFrom('review_items').select('created_at').where('id', '=', after).executeTakeFirst();
          if (cursor === undefined) throw new BallastError('REQUEST_INVALID', { detail: `unknown cursor '${after}'` });
          query = query.where((eb) => eb.or([eb('created_at', '>', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '>', after)])]));
        }
        return (await query.execute()).map(decodeItem);
      }),
  };
}
