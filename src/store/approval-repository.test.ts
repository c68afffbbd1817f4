// Approvals and kill switches on real SQLite: append-only rows with their audit event in the same
// transaction, duplicate decisions refused inside it, idempotent switches, and durability across a reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from './governance-records.js';
import { newId } from './ids.js';
import { openStore, type StoreConfig } from './open-store.js';
import type { StoredApproval } from './approval-repository.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const dialects: readonly { readonly name: string; config(dbPath: string): StoreConfig }[] = [
  { name: 'sqlite (file, writer thread)', config: (dbPath) => ({ kind: 'sqlite', path: dbPath }) },
  { name: 'sqlite (:memory:, same thread)', config: () => ({ kind: 'sqlite', path: ':memory:' }) },
];

const at = (minute: number): string => new Date(Date.UTC(2026, 11, 7, 6, minute)).toISOString();

function audit(action: string, overrides: Partial<StoredAuditEvent> = {}): StoredAuditEvent {
  return {
    id: newId('aud'),
    at: at(0),
    actor: { principal: 'ana', keyId: 'bk_0123456789', role: 'approver' },
    action,
    resource: { kind: 'model', id: 'spam-filter/v2' },
    service: 'spam-filter',
    beforeDigest: null,
    afterDigest: null,
    before: null,
    after: null,
    requestId: null,
    detail: null,
    ...overrides,
  };
}

function approval(overrides: Partial<StoredApproval> = {}): StoredApproval {
  return { id: newId('apv'), service: 'spam-filter', version: 'v2', digest: 'a'.repeat(64), revision: 3, principal: 'ana', decision: 'approve', reason: 'looked at the eval', at: at(1), ...overrides };
}

describe.each(dialects)('approvals and kill switches on $name', (dialect) => {
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

  it('appends approvals with their audit event and lists them oldest first', async () => {
    const first = approval({ at: at(1) });
    const second = approval({ principal: 'bo', at: at(2), reason: 'fine by me — ✓' });
    const event = audit('approval.granted');
    await store.approvals.append(second, audit('approval.granted', { actor: { principal: 'bo', keyId: null, role: null } }));
    await store.approvals.append(first, event);
    const listed = await store.approvals.list({ service: 'spam-filter', version: 'v2' });
    expect(listed).toEqual([first, second]);
    expect(await store.approvals.list({ service: 'spam-filter', version: 'v3' })).toEqual([]);
    expect(await store.audit.get(event.id)).toMatchObject({ action: 'approval.granted', actor: event.actor });
  });

  it('refuses the same decision twice on the same digest and revision, inside the transaction', async () => {
    await store.approvals.append(approval(), audit('approval.granted'));
    const duplicate = audit('approval.granted');
    await expect(store.approvals.append(approval(), duplicate)).rejects.toMatchObject({ code: 'APPROVAL_NOT_ALLOWED' });
    expect(await store.audit.get(duplicate.id)).toBeUndefined();
    // A changed mind, a new digest or a new revision is a new decision.
    await store.approvals.append(approval({ decision: 'refuse', at: at(2) }), audit('approval.refused'));
    await store.approvals.append(approval({ digest: 'b'.repeat(64), at: at(3) }), audit('approval.granted'));
    await store.approvals.append(approval({ revision: 4, at: at(4) }), audit('approval.granted'));
    expect((await store.approvals.list({ service: 'spam-filter', version: 'v2' })).map((a) => a.decision)).toEqual(['approve', 'refuse', 'approve', 'approve']);
  });

  it('writes neither the approval nor the switch when their audit event cannot be written', async () => {
    const event = audit('approval.granted');
    await store.approvals.append(approval(), event);
    // Reusing an audit id fails the audit insert, which must roll the row back with it.
    await expect(store.approvals.append(approval({ principal: 'cy' }), event)).rejects.toBeDefined();
    expect((await store.approvals.list({ service: 'spam-filter', version: 'v2' })).map((a) => a.principal)).toEqual(['ana']);
    await expect(store.killSwitches.append({ id: newId('ksw'), service: 'spam-filter', engaged: true, at: at(5), actor: 'ana', reason: 'x' }, event)).rejects.toBeDefined();
    expect(await store.killSwitches.latest('spam-filter')).toBeUndefined();
  });

  it('keeps kill-switch changes, skips a change to the current state, and finds the latest per service', async () => {
    const row = (service: string, engaged: boolean, minute: number) => ({ id: newId('ksw'), service, engaged, at: at(minute), actor: 'ana', reason: `r${minute}` });
    expect(await store.killSwitches.append(row('spam-filter', false, 1), audit('killswitch.released'))).toBe(false);
    expect(await store.killSwitches.append(row('spam-filter', true, 2), audit('killswitch.engaged'))).toBe(true);
    const again = audit('killswitch.engaged');
    expect(await store.killSwitches.append(row('spam-filter', true, 3), again)).toBe(false);
    expect(await store.audit.get(again.id)).toBeUndefined();
    expect(await store.killSwitches.append(row('spam-filter', false, 4), audit('killswitch.released'))).toBe(true);
    expect(await store.killSwitches.append(row('loan-precheck', true, 5), audit('killswitch.engaged'))).toBe(true);
    expect((await store.killSwitches.list('spam-filter')).map((r) => [r.engaged, r.reason])).toEqual([
      [true, 'r2'],
      [false, 'r4'],
    ]);
    expect(await store.killSwitches.latest('spam-filter')).toMatchObject({ engaged: false, reason: 'r4' });
    expect(await store.killSwitches.latest('nope')).toBeUndefined();
    const all = await store.killSwitches.latestAll();
    expect(Object.fromEntries(all.map((r) => [r.service, r.engaged]))).toEqual({ 'spam-filter': false, 'loan-precheck': true });
  });
});

describe('approvals and kill switches across a reopen', () => {
  it('are still there after the store is closed and opened again', async () => {
    const tmp = tempDir();
    try {
      let store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
      const kept = approval();
      await store.approvals.append(kept, audit('approval.granted'));
      await store.killSwitches.append({ id: newId('ksw'), service: 'spam-filter', engaged: true, at: at(2), actor: 'ana', reason: 'drill' }, audit('killswitch.engaged'));
      await store.close();
      store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
      expect(await store.approvals.list({ service: 'spam-filter', version: 'v2' })).toEqual([kept]);
      expect(await store.killSwitches.latest('spam-filter')).toMatchObject({ engaged: true, reason: 'drill' });
      await store.close();
    } finally {
      tmp.remove();
    }
  });
});
