// The review queue on real SQLite: claim order, no double claim under 50 concurrent claims (one
// store, and two processes on one file), leases that run out, quorum and escalation, refusals that
// write nothing, audit events in the decision's transaction, durability across a reopen, and random
// sequences of claims, decisions, releases and clock steps against a model of the leases handed out.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from './governance-records.js';
import { newId } from './ids.js';
import { openStore, type StoreConfig } from './open-store.js';
import type { NewReviewItem, ReviewChange, ReviewDecideInput, ReviewVerdict } from './review-repository.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const claimChild = fileURLToPath(new URL('./testing/review-claim-child.mjs', import.meta.url));

const dialects: readonly { readonly name: string; config(dbPath: string): StoreConfig }[] = [
  { name: 'sqlite (file, writer thread)', config: (dbPath) => ({ kind: 'sqlite', path: dbPath }) },
  { name: 'sqlite (:memory:, same thread)', config: () => ({ kind: 'sqlite', path: ':memory:' }) },
];

const base = Date.UTC(2026, 11, 7, 6, 0);
/** An instant `ms` after the base. */
const t = (ms: number): string => new Date(base + ms).toISOString();
const lease = 60_000;

function item(overrides: Partial<NewReviewItem> = {}): NewReviewItem {
  return {
    id: newId('rvw'),
    decisionId: newId('dec'),
    service: 'loan-precheck',
    version: 'v1',
    createdAt: t(0),
    priority: 0,
    reasons: [{ code: 'LOW_CONFIDENCE', message: 'confidence 0.55 below 0.8' }],
    dueAt: t(3_600_000),
    requiredReviews: 1,
    kind: 'decision',
    detail: null,
    ...overrides,
  };
}

/** An audit builder as the review module would pass: the reviewer acts, the change is the body. */
const audited =
  (action = 'review.decided') =>
  (change: ReviewChange): { audit: StoredAuditEvent[] } => ({ audit: [auditOf(action, change)] });

const auditOf = (action: string, change: ReviewChange): StoredAuditEvent => ({
    id: newId('aud'),
    at: change.decision.at,
    actor: { principal: change.decision.reviewer, keyId: null, role: change.decision.role },
    action,
    resource: { kind: 'review', id: change.after.id },
    service: change.after.service,
    beforeDigest: null,
    afterDigest: null,
    before: { state: change.before.state },
    after: { state: change.after.state, decision: change.decision.decision, label: change.decision.label },
    requestId: null,
    detail: null,
  });

const systemAudit = (action: string, id: string): StoredAuditEvent => ({
  id: newId('aud'),
  at: t(0),
  actor: { principal: 'system:reviews', keyId: null, role: null },
  action,
  resource: { kind: 'review', id },
  service: 'loan-precheck',
  beforeDigest: null,
  afterDigest: null,
  before: null,
  after: null,
  requestId: null,
  detail: null,
});

function decision(itemId: string, reviewer: string, now: string, overrides: Partial<ReviewDecideInput> = {}): ReviewDecideInput {
  return { itemId, reviewer, role: 'reviewer', decision: 'accept', label: null, rationale: 'looks right', now, escalateTo: 'admin', ...overrides };
}

describe.each(dialects)('review queue on $name', (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(dialect.config(tmp.dbPath));
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('stores a new item open and unleased, and lists by creation with a cursor', async () => {
    const created = [item({ createdAt: t(2) }), item({ createdAt: t(1), service: 'spam-filter', version: null }), item({ createdAt: t(3) })];
    for (const i of created) await store.reviews.create(i);
    const stored = await store.reviews.get(created[0]!.id);
    expect(stored).toEqual({ ...created[0], state: 'open', leaseHolder: null, leaseUntil: null, escalationRole: null, updatedAt: t(2), claimedAt: null, slaBreachedAt: null, decisions: [] });
    expect((await store.reviews.list({ limit: 10 })).map((i) => i.createdAt)).toEqual([t(1), t(2), t(3)]);
    expect((await store.reviews.list({ limit: 1, after: created[1]!.id })).map((i) => i.id)).toEqual([created[0]!.id]);
    expect((await store.reviews.list({ limit: 10, service: 'spam-filter' })).map((i) => i.version)).toEqual([null]);
    expect(await store.reviews.list({ limit: 10, state: 'claimed' })).toEqual([]);
    await expect(store.reviews.list({ limit: 10, after: 'rvw_nope' })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    expect(await store.reviews.get('rvw_nope')).toBeUndefined();
    await expect(store.reviews.create(item({ requiredReviews: 0 }))).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.reviews.create(item({ dueAt: 'tomorrow' }))).rejects.toMatchObject({ code: 'INTERNAL' });
    // A duplicate id is refused, with its audit event.
    const audit = systemAudit('review.created', created[0]!.id);
    await expect(store.reviews.create(created[0]!, audit)).rejects.toBeDefined();
    expect(await store.audit.get(audit.id)).toBeUndefined();
    // With its audit event, in the same transaction.
    const fresh = item();
    const createdEvent = systemAudit('review.created', fresh.id);
    await store.reviews.create(fresh, createdEvent);
    expect(await store.audit.get(createdEvent.id)).toMatchObject({ action: 'review.created', resource: { kind: 'review', id: fresh.id } });
  });

  it('takes the highest priority first and, within a priority, the oldest', async () => {
    const rows = [
      item({ priority: 0, createdAt: t(1) }),
      item({ priority: 10, createdAt: t(3) }),
      item({ priority: 0, createdAt: t(0) }),
      item({ priority: 10, createdAt: t(2) }),
      item({ priority: 5, createdAt: t(4) }),
    ];
    // Created in an order that is neither priority nor time order.
    for (const r of rows) await store.reviews.create(r);
    const taken: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const claimed = await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(10), leaseMs: lease });
      expect(claimed).toMatchObject({ state: 'claimed', leaseHolder: 'ana', leaseUntil: t(10 + lease), updatedAt: t(10) });
      taken.push(claimed!.id);
    }
    expect(taken).toEqual([rows[3]!.id, rows[1]!.id, rows[4]!.id, rows[2]!.id, rows[0]!.id]);
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(11), leaseMs: lease })).toBeUndefined();
  });

  it('gives 50 concurrent claims over 20 items 20 distinct items and 30 nothing', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => item({ priority: i % 3, createdAt: t(i) }));
    for (const r of rows) await store.reviews.create(r);
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reviews.claimNext({ reviewer: `r${i}`, role: 'reviewer', now: t(100), leaseMs: lease })));
    const got = claims.filter((c) => c !== undefined);
    expect(got).toHaveLength(20);
    expect(new Set(got.map((c) => c.id)).size).toBe(20);
    expect(claims.filter((c) => c === undefined)).toHaveLength(30);
    // Each item is held by exactly the reviewer its claim answered to.
    const holders = new Map(got.map((c) => [c.id, c.leaseHolder]));
    for (const stored of await store.reviews.list({ limit: 100 })) expect(stored).toMatchObject({ state: 'claimed', leaseHolder: holders.get(stored.id) });
  });

  it('claims only the services asked for', async () => {
    const spam = item({ service: 'spam-filter' });
    await store.reviews.create(spam);
    await store.reviews.create(item({ service: 'loan-precheck' }));
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', services: [], now: t(1), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', services: ['spam-filter', 'nope'], now: t(1), leaseMs: lease })).toMatchObject({ id: spam.id });
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', services: ['spam-filter'], now: t(1), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', services: null, now: t(1), leaseMs: lease })).toMatchObject({ service: 'loan-precheck' });
  });

  it('lets another reviewer take an item whose lease ran out, and refuses the old holder', async () => {
    const only = item();
    await store.reviews.create(only);
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(0), leaseMs: 1000 })).toMatchObject({ id: only.id, leaseUntil: t(1000) });
    // Renewed while held: the lease now ends at 1500.
    expect(await store.reviews.renew({ itemId: only.id, reviewer: 'ana', now: t(500), leaseMs: 1000 })).toMatchObject({ leaseUntil: t(1500) });
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(1499), leaseMs: 1000 })).toBeUndefined();
    // At the lease's end it is free (a lease holds while now < leaseUntil).
    await expect(store.reviews.decide(decision(only.id, 'ana', t(1500)), audited())).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST' });
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(1500), leaseMs: 1000 })).toMatchObject({ id: only.id, leaseHolder: 'bo', leaseUntil: t(2500) });
    const stale = audited();
    let staleEvent: { audit: StoredAuditEvent[] } | undefined;
    await expect(
      store.reviews.decide(decision(only.id, 'ana', t(1600), { decision: 'override', label: 'approve' }), (c) => (staleEvent = stale(c))),
    ).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST', detail: expect.stringContaining('another reviewer') as unknown });
    expect(staleEvent).toBeUndefined();
    await expect(store.reviews.renew({ itemId: only.id, reviewer: 'ana', now: t(1600), leaseMs: 1000 })).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST' });
    await expect(store.reviews.release({ itemId: only.id, reviewer: 'ana', now: t(1600) })).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST' });
    expect(await store.reviews.get(only.id)).toMatchObject({ state: 'claimed', leaseHolder: 'bo', decisions: [] });
    expect(await store.audit.list({ limit: 10 })).toEqual([]);
    const change = await store.reviews.decide(decision(only.id, 'bo', t(1700)), audited());
    expect(change.after).toMatchObject({ state: 'decided', leaseHolder: null, leaseUntil: null, updatedAt: t(1700) });
    expect(await store.reviews.claimNext({ reviewer: 'cy', role: 'reviewer', now: t(999_999), leaseMs: 1000 })).toBeUndefined();
  });

  it('refuses a decision by anyone but the lease holder, on an unknown item, and on a decided one', async () => {
    const one = item();
    await store.reviews.create(one);
    await expect(store.reviews.decide(decision(one.id, 'ana', t(1)), audited())).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST', detail: expect.stringContaining('it is open') as unknown });
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    await expect(store.reviews.decide(decision(one.id, 'bo', t(2)), audited())).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST' });
    await expect(store.reviews.decide(decision('rvw_nope', 'ana', t(2)), audited())).rejects.toMatchObject({ code: 'REVIEW_NOT_FOUND' });
    await expect(store.reviews.renew({ itemId: 'rvw_nope', reviewer: 'ana', now: t(2), leaseMs: lease })).rejects.toMatchObject({ code: 'REVIEW_NOT_FOUND' });
    await store.reviews.decide(decision(one.id, 'ana', t(3)), audited());
    await expect(store.reviews.decide(decision(one.id, 'ana', t(4)), audited())).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST', detail: expect.stringContaining('it is decided') as unknown });
    expect((await store.reviews.get(one.id))?.decisions.map((d) => d.reviewer)).toEqual(['ana']);
  });

  it('releases an item back to the queue for its holder only', async () => {
    const one = item();
    await store.reviews.create(one);
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    await expect(store.reviews.release({ itemId: one.id, reviewer: 'bo', now: t(2) })).rejects.toMatchObject({ code: 'REVIEW_LEASE_LOST' });
    expect(await store.reviews.release({ itemId: one.id, reviewer: 'ana', now: t(2) })).toMatchObject({ state: 'open', leaseHolder: null, leaseUntil: null });
    // Released without a decision: the same reviewer may take it again.
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(3), leaseMs: lease })).toMatchObject({ id: one.id });
  });

  it('needs two distinct reviewers for a two-review item, and decides it when they agree', async () => {
    const high = item({ priority: 10, requiredReviews: 2 });
    await store.reviews.create(high);
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    const first = await store.reviews.decide(decision(high.id, 'ana', t(2), { decision: 'override', label: { approved: false, limit: 5000 } }), audited());
    expect(first.after).toMatchObject({ state: 'open', leaseHolder: null, leaseUntil: null, escalationRole: null });
    // The first reviewer cannot take it again, even as another role.
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(3), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'admin', now: t(3), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(3), leaseMs: lease })).toMatchObject({ id: high.id });
    // The same label with its keys in another order is agreement.
    const second = await store.reviews.decide(decision(high.id, 'bo', t(4), { decision: 'override', label: { limit: 5000, approved: false } }), audited());
    expect(second.after).toMatchObject({ state: 'decided', escalationRole: null });
    const stored = await store.reviews.get(high.id);
    expect(stored?.decisions.map((d) => [d.reviewer, d.decision, d.label])).toEqual([
      ['ana', 'override', { approved: false, limit: 5000 }],
      ['bo', 'override', { limit: 5000, approved: false }],
    ]);
  });

  it('escalates a disagreement to the given role, which alone may claim it, and one of that role settles it', async () => {
    const high = item({ priority: 10, requiredReviews: 2 });
    const other = item({ priority: 0, createdAt: t(1) });
    await store.reviews.create(high);
    await store.reviews.create(other);
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    await store.reviews.decide(decision(high.id, 'ana', t(2)), audited());
    await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(3), leaseMs: lease });
    const split = await store.reviews.decide(decision(high.id, 'bo', t(4), { decision: 'override', label: 'refuse', escalateTo: 'senior-reviewer' }), audited());
    expect(split.after).toMatchObject({ state: 'escalated', escalationRole: 'senior-reviewer', leaseHolder: null });
    // A reviewer of another role gets the lower-priority item instead; the escalated one waits for its role.
    expect(await store.reviews.claimNext({ reviewer: 'cy', role: 'reviewer', now: t(5), leaseMs: lease })).toMatchObject({ id: other.id });
    expect(await store.reviews.claimNext({ reviewer: 'di', role: 'admin', now: t(5), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'ed', role: 'senior-reviewer', now: t(5), leaseMs: 1000 })).toMatchObject({ id: high.id, state: 'claimed', escalationRole: 'senior-reviewer' });
    // Released, or left to run out, it stays with that role.
    expect(await store.reviews.release({ itemId: high.id, reviewer: 'ed', now: t(6) })).toMatchObject({ state: 'escalated', escalationRole: 'senior-reviewer' });
    await store.reviews.claimNext({ reviewer: 'ed', role: 'senior-reviewer', now: t(7), leaseMs: 1000 });
    expect(await store.reviews.claimNext({ reviewer: 'di', role: 'admin', now: t(5000), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'fay', role: 'senior-reviewer', now: t(5000), leaseMs: lease })).toMatchObject({ id: high.id, leaseHolder: 'fay' });
    const settled = await store.reviews.decide(decision(high.id, 'fay', t(5001), { role: 'senior-reviewer', decision: 'override', label: 'refuse', rationale: 'income not verified' }), audited());
    expect(settled.before).toMatchObject({ state: 'claimed', escalationRole: 'senior-reviewer' });
    expect(settled.after).toMatchObject({ state: 'decided', escalationRole: 'senior-reviewer' });
    expect((await store.reviews.get(high.id))?.decisions.map((d) => [d.reviewer, d.role, d.decision])).toEqual([
      ['ana', 'reviewer', 'accept'],
      ['bo', 'reviewer', 'override'],
      ['fay', 'senior-reviewer', 'override'],
    ]);
  });

  it('escalates on an escalate decision, even with one review required', async () => {
    const one = item();
    await store.reviews.create(one);
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    const change = await store.reviews.decide(decision(one.id, 'ana', t(2), { decision: 'escalate', rationale: 'outside my remit', escalateTo: 'admin' }), audited());
    expect(change.after).toMatchObject({ state: 'escalated', escalationRole: 'admin' });
    expect(await store.reviews.list({ limit: 10, state: 'escalated' })).toHaveLength(1);
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'admin', now: t(3), leaseMs: lease })).toMatchObject({ id: one.id });
  });

  it('writes each decision with its audit event, the reviewer as actor, or nothing', async () => {
    const one = item({ requiredReviews: 2 });
    await store.reviews.create(one);
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    const leavesBefore = await store.audit.leafCount();
    await store.reviews.decide(decision(one.id, 'ana', t(2), { id: 'rvd_first' }), audited());
    const events = await store.audit.list({ limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'review.decided', actor: { principal: 'ana', role: 'reviewer' }, resource: { kind: 'review', id: one.id }, after: { state: 'open', decision: 'accept' } });
    expect(await store.audit.leafCount()).toBe(leavesBefore + 1);
    expect(await store.audit.leafOf(events[0]!.id)).toBeDefined();
    // An audit event that cannot be written (its id reused) takes the decision down with it.
    await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(3), leaseMs: lease });
    const reused = events[0]!;
    await expect(store.reviews.decide(decision(one.id, 'bo', t(4)), () => ({ audit: [reused] }))).rejects.toBeDefined();
    expect(await store.reviews.get(one.id)).toMatchObject({ state: 'claimed', leaseHolder: 'bo', decisions: [{ id: 'rvd_first' }] });
    // And a builder that throws writes nothing either.
    await expect(
      store.reviews.decide(decision(one.id, 'bo', t(4)), () => {
        throw new Error('cannot build');
      }),
    ).rejects.toBeDefined();
    expect((await store.reviews.get(one.id))?.decisions).toHaveLength(1);
    await store.reviews.decide(decision(one.id, 'bo', t(5)), audited());
    expect((await store.audit.list({ limit: 10 })).map((e) => e.actor.principal)).toEqual(['ana', 'bo']);
  });

  it('never gives an item to an excluded reviewer, and keeps each lease start on the decision', async () => {
    const appeal = await store.reviews.create(item({ kind: 'appeal', detail: { statement: 'I was refused unfairly' }, excludedReviewers: ['ana', 'ana'] }));
    expect(appeal).toMatchObject({ kind: 'appeal', detail: { statement: 'I was refused unfairly' } });
    expect(await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease })).toBeUndefined();
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(2), leaseMs: lease })).toMatchObject({ id: appeal.id, claimedAt: t(2) });
    const change = await store.reviews.decide(decision(appeal.id, 'bo', t(500)), audited());
    expect(change.decision.claimedAt).toBe(t(2));
    expect(change.after).toMatchObject({ state: 'decided', claimedAt: null });
    expect(await store.reviews.listForDecision(appeal.decisionId)).toMatchObject([{ id: appeal.id, kind: 'appeal' }]);
  });

  it('writes the override feedback and the outbox deliveries with the decision, or nothing', async () => {
    const one = await store.reviews.create(item());
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(1), leaseMs: lease });
    const leaves = await store.audit.leafCount();
    const feedback = { id: newId('fb'), decisionId: one.decisionId, kind: 'override' as const, value: { label: 'decline' }, source: 'ana', note: 'income unverified', supersedes: null, createdAt: t(2) };
    const delivery = { id: newId('whd'), type: 'review.decided', url: 'http://127.0.0.1:1/hook', secretName: 'HOOK', timeoutMs: 1000, body: '{"type":"review.decided"}', createdAt: t(2) };
    await store.reviews.decide(decision(one.id, 'ana', t(2), { decision: 'override', label: { label: 'decline' } }), (c) => ({ audit: [auditOf('review.decided', c)], feedback, deliveries: [delivery as never] }));
    expect(await store.feedback.listForDecision(one.decisionId)).toEqual([feedback]);
    expect(await store.audit.leafCount()).toBe(leaves + 2);
    expect(await store.alerts.getDelivery(delivery.id)).toMatchObject({ alertId: one.id, rule: 'review:loan-precheck', status: 'pending', body: delivery.body });
    // A second item whose feedback id is taken: the decision, its audit and its delivery are all refused.
    const two = await store.reviews.create(item());
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(3), leaseMs: lease });
    const again = { ...delivery, id: newId('whd') };
    await expect(store.reviews.decide(decision(two.id, 'ana', t(4)), (c) => ({ audit: [auditOf('review.decided', c)], feedback: { ...feedback, decisionId: two.decisionId }, deliveries: [again as never] }))).rejects.toBeDefined();
    expect(await store.reviews.get(two.id)).toMatchObject({ state: 'claimed', decisions: [] });
    expect(await store.alerts.getDelivery(again.id)).toBeUndefined();
    expect(await store.audit.leafCount()).toBe(leaves + 2);
  });

  it('escalates a breached SLA exactly once, whatever the number of sweeps, and resolves its alert when decided', async () => {
    const late = await store.reviews.create(item({ dueAt: t(1000) }));
    const held = await store.reviews.create(item({ dueAt: t(1000), createdAt: t(1) }));
    await store.reviews.create(item({ dueAt: t(9000) }));
    await store.reviews.claimNext({ reviewer: 'ana', role: 'reviewer', now: t(500), leaseMs: lease });
    let effects = 0;
    const sweep = (now: string) =>
      store.reviews.escalateOverdue({
        now,
        limit: 10,
        escalateTo: () => 'senior-reviewer',
        effects: (i) => {
          effects += 1;
          const alert = { id: newId('alt'), rule: 'review-sla', service: i.service, monitor: 'review_sla', version: '*', segment: i.id, severity: 'alert', state: 'firing' as const, firedAt: now, resolvedAt: null, summary: `review ${i.id} is past due`, values: { dueAt: i.dueAt } };
          return { audit: [systemAudit('review.sla_breached', i.id)], alert, deliveries: [{ id: newId('whd'), type: 'alert.firing', url: 'http://127.0.0.1:1/a', secretName: 'S', timeoutMs: 1000, body: '{}', createdAt: now }] };
        },
      });
    expect(await sweep(t(999))).toEqual([]);
    const first = await sweep(t(1000));
    expect(first.map((i) => [i.id, i.state, i.escalationRole, i.slaBreachedAt])).toEqual([
      [late.id, 'claimed', 'senior-reviewer', t(1000)],
      [held.id, 'escalated', 'senior-reviewer', t(1000)],
    ]);
    expect(await Promise.all([sweep(t(2000)), sweep(t(2001)), sweep(t(3000))])).toEqual([[], [], []]);
    expect(effects).toBe(2);
    expect((await store.alerts.listActive('loan-precheck')).map((a) => a.segment).sort()).toEqual([late.id, held.id].sort());
    expect(await store.reviews.countByState({ service: 'loan-precheck', now: t(3000) })).toEqual({ states: { open: 1, claimed: 1, decided: 0, escalated: 1 }, overdue: 2, breached: 2 });
    // The reviewer who held it when it breached is heard, and it still waits for the senior role.
    const heard = await store.reviews.decide(decision(late.id, 'ana', t(3001)), audited());
    expect(heard.after).toMatchObject({ state: 'escalated', escalationRole: 'senior-reviewer' });
    expect(await store.reviews.claimNext({ reviewer: 'bo', role: 'reviewer', now: t(3002), leaseMs: lease })).toMatchObject({ state: 'claimed' });
    const senior = await store.reviews.claimNext({ reviewer: 'cy', role: 'senior-reviewer', now: t(3003), leaseMs: lease });
    expect(senior?.id).toBe(late.id);
    await store.reviews.decide(decision(late.id, 'cy', t(3004), { role: 'senior-reviewer' }), audited());
    expect((await store.alerts.listActive('loan-precheck')).map((a) => a.segment)).toEqual([held.id]);
    expect((await store.reviews.listDecisions({ service: 'loan-precheck', limit: 10 })).map((d) => [d.reviewer, d.kind, d.decisionId])).toEqual([
      ['ana', 'decision', late.decisionId],
      ['cy', 'decision', late.decisionId],
    ]);
  });
});

describe('review queue across stores and reopens', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  // Two processes, as two replicas would be: two stores in one process on one file would deadlock,
  // since better-sqlite3 waits out busy_timeout synchronously on the event loop the other one needs.
  it('never hands one item to two processes claiming on the same file at once', async () => {
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const rows = Array.from({ length: 200 }, (_, i) => item({ createdAt: t(i) }));
    try {
      for (const r of rows) await store.reviews.create(r);
    } finally {
      await store.close();
    }
    const buildDir = join(tmp.dir, 'build');
    const start = (name: string) => {
      const child = spawn(process.execPath, [claimChild, buildDir, tmp.dbPath, '125', name], { stdio: ['pipe', 'pipe', 'inherit'] });
      child.stdout.setEncoding('utf8');
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (chunk: string) => ((out += chunk), out.startsWith('ready\n') && resolve())));
      const done = new Promise<string[]>((resolve) => child.on('exit', () => resolve(out.split('\n').slice(1, -1))));
      return { child, ready, done };
    };
    // One after the other up to `ready`: the first builds the transpiled store, the second reuses it.
    const children: ReturnType<typeof start>[] = [];
    let outputs: string[][];
    try {
      children.push(start('a'));
      await children[0]!.ready;
      children.push(start('b'));
      await children[1]!.ready;
      for (const c of children) c.child.stdin.end('go\n');
      outputs = await Promise.all(children.map((c) => c.done));
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
    const lines = outputs.flat();
    expect(lines).toHaveLength(250);
    const got = lines.filter((l) => l.startsWith('claimed ')).map((l) => l.slice(8));
    // Both took items: their claims, paced as requests would be, interleave (one after the other would prove little).
    for (const out of outputs) expect(out.filter((l) => l.startsWith('claimed ')).length).toBeGreaterThan(0);
    expect(got).toHaveLength(200);
    expect(new Set(got)).toEqual(new Set(rows.map((r) => r.id)));
  }, 60_000);

  it('keeps every item, lease and decision after the store is closed and opened again', async () => {
    let store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const rows = Array.from({ length: 6 }, (_, i) => item({ createdAt: t(i), requiredReviews: i % 2 === 0 ? 1 : 2, priority: i % 2 === 0 ? 0 : 10 }));
    for (const r of rows) await store.reviews.create(r);
    for (let i = 0; i < 4; i++) {
      const c = await store.reviews.claimNext({ reviewer: `r${i}`, role: 'reviewer', now: t(10 + i), leaseMs: lease });
      if (i < 3) await store.reviews.decide(decision(c!.id, `r${i}`, t(20 + i), { decision: i === 1 ? 'override' : 'accept', label: i === 1 ? 'refuse' : null }), audited());
    }
    const before = await Promise.all(rows.map((r) => store.reviews.get(r.id)));
    const audits = await store.audit.list({ limit: 100 });
    expect(before.flatMap((r) => r?.decisions ?? [])).toHaveLength(3);
    expect(before.filter((r) => r?.state === 'claimed')).toHaveLength(1);
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    try {
      expect(await Promise.all(rows.map((r) => store.reviews.get(r.id)))).toEqual(before);
      expect(await store.audit.list({ limit: 100 })).toEqual(audits);
    } finally {
      await store.close();
    }
  });
});

type Command =
  | { readonly kind: 'claim'; readonly r: number }
  | { readonly kind: 'decide'; readonly r: number; readonly item: number | 'own'; readonly verdict: ReviewVerdict; readonly label: string | null }
  | { readonly kind: 'release'; readonly r: number; readonly item: number | 'own' }
  | { readonly kind: 'tick'; readonly ms: number };

const reviewers = [
  { name: 'ana', role: 'reviewer' },
  { name: 'bo', role: 'reviewer' },
  { name: 'cy', role: 'reviewer' },
  { name: 'di', role: 'admin' },
] as const;

const target = fc.oneof(fc.constant('own' as const), fc.integer({ min: 0, max: 4 }));
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('claim' as const), r: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      r: fc.integer({ min: 0, max: 3 }),
      item: target,
      verdict: fc.constantFrom<ReviewVerdict>('accept', 'override', 'escalate'),
      label: fc.constantFrom(null, 'a', 'b'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), r: fc.integer({ min: 0, max: 3 }), item: target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
);

describe('review queue under random sequences', () => {
  it('never hands out an item under another unexpired lease, accepts decisions only from the holder, and loses nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 5, maxLength: 5 }), fc.array(command, { minLength: 1, maxLength: 40 }), async (priorities, commands) => {
        const store = await openStore({ kind: 'sqlite', path: ':memory:' });
        try {
          const items = priorities.map((p, i) => item({ priority: p, requiredReviews: p > 5 ? 2 : 1, createdAt: t(i) }));
          for (const i of items) await store.reviews.create(i);
          let clock = 1000;
          // The leases the store handed out, as the model sees them.
          const leases = new Map<string, { holder: string; until: number }>();
          const own = new Map<string, string>();
          let decided = 0;
          const pick = (r: string, which: number | 'own') => (which === 'own' ? own.get(r) : items[which]?.id) ?? 'rvw_none';
          for (const c of commands) {
            const now = t(clock);
            if (c.kind === 'tick') {
              clock += c.ms;
            } else if (c.kind === 'claim') {
              const who = reviewers[c.r]!;
              const got = await store.reviews.claimNext({ reviewer: who.name, role: who.role, now, leaseMs: 1000 });
              if (got !== undefined) {
                const held = leases.get(got.id);
                expect(held === undefined || held.until <= clock, `${got.id} handed to ${who.name} while ${held?.holder} holds it`).toBe(true);
                leases.set(got.id, { holder: who.name, until: clock + 1000 });
                own.set(who.name, got.id);
              }
            } else if (c.kind === 'decide') {
              const who = reviewers[c.r]!;
              const id = pick(who.name, c.item);
              const held = leases.get(id);
              const allowed = held !== undefined && held.holder === who.name && held.until > clock;
              const input = decision(id, who.name, now, { role: who.role, decision: c.verdict, label: c.verdict === 'override' ? c.label : null });
              const result = await store.reviews.decide(input, audited()).then(
                () => 'ok',
                (e: { code?: string }) => e.code,
              );
              expect(result).toBe(allowed ? 'ok' : id === 'rvw_none' ? 'REVIEW_NOT_FOUND' : 'REVIEW_LEASE_LOST');
              if (allowed) {
                leases.delete(id);
                decided += 1;
              }
            } else {
              const who = reviewers[c.r]!;
              const id = pick(who.name, c.item);
              const allowed = leases.get(id)?.holder === who.name;
              const result = await store.reviews.release({ itemId: id, reviewer: who.name, now }).then(
                () => 'ok',
                (e: { code?: string }) => e.code,
              );
              expect(result).toBe(allowed ? 'ok' : id === 'rvw_none' ? 'REVIEW_NOT_FOUND' : 'REVIEW_LEASE_LOST');
              if (allowed) leases.delete(id);
            }
            // The stored leases are exactly the model's.
            for (const stored of await store.reviews.list({ limit: 100 })) {
              const held = leases.get(stored.id);
              expect([stored.state === 'claimed' ? stored.leaseHolder : null, stored.leaseUntil]).toEqual(held === undefined ? [null, null] : [held.holder, t(held.until)]);
            }
          }
          const all = await Promise.all(items.map((i) => store.reviews.get(i.id)));
          expect(all.flatMap((i) => i?.decisions ?? [])).toHaveLength(decided);
          // Nothing lost: once the leases run out, fresh reviewers of each role take every item not yet decided.
          const later = t(clock + 2000);
          const open = new Set(all.filter((i) => i?.state !== 'decided').map((i) => i!.id));
          const taken = new Set<string>();
          for (const fresh of [{ name: 'fresh', role: 'reviewer' }, { name: 'fresh-admin', role: 'admin' }]) {
            for (;;) {
              const got = await store.reviews.claimNext({ reviewer: fresh.name, role: fresh.role, now: later, leaseMs: 1000 });
              if (got === undefined) break;
              expect(taken.has(got.id)).toBe(false);
              taken.add(got.id);
            }
          }
          expect(taken).toEqual(open);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
