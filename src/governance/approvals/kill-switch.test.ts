// The kill switch on a real SQLite store: engage and release are kept and audited before the snapshot
// changes, repeating one is a no-op without an event, and the state survives a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Actor, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { createKillSwitch, type EngagedSwitch } from './kill-switch.js';

const ana: Actor = { principal: 'ana', keyId: 'bk_ana', role: 'operator' };

describe('kill switch', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('engages and releases, audited, and tells listeners after the store has it', async () => {
    let clock = Date.UTC(2026, 11, 7, 6, 0);
    const ks = createKillSwitch({ store, now: () => (clock += 1000) });
    const seen: [string, EngagedSwitch | undefined][] = [];
    ks.onChange((service, engaged) => seen.push([service, engaged]));
    expect(ks.engaged('spam-filter')).toBeUndefined();
    const engaged = await ks.engage('spam-filter', { actor: ana, reason: 'v2 answers nonsense' });
    expect(engaged).toEqual({ changed: true, state: { service: 'spam-filter', engaged: true, since: '2026-12-07T06:00:01.000Z', reason: 'v2 answers nonsense', actor: 'ana' } });
    expect(ks.engaged('spam-filter')).toEqual({ since: '2026-12-07T06:00:01.000Z', reason: 'v2 answers nonsense', actor: 'ana' });
    expect(ks.engaged('loan-precheck')).toBeUndefined();
    const released = await ks.release('spam-filter', { actor: ana, reason: 'rolled back' });
    expect(released.changed).toBe(true);
    expect(ks.engaged('spam-filter')).toBeUndefined();
    await store.flush();
    expect(seen.map(([s, e]) => [s, e?.reason])).toEqual([
      ['spam-filter', 'v2 answers nonsense'],
      ['spam-filter', undefined],
    ]);
    const events = (await store.audit.list({ limit: 10 })).filter((e) => e.action.startsWith('killswitch.'));
    expect(events.map((e) => [e.action, e.actor.principal, e.resource.id, e.detail]).sort()).toEqual([
      ['killswitch.engaged', 'ana', 'spam-filter', 'v2 answers nonsense'],
      ['killswitch.released', 'ana', 'spam-filter', 'rolled back'],
    ]);
  });

  it('does not take effect when the change cannot be kept', async () => {
    const failing = { killSwitches: { ...store.killSwitches, append: () => Promise.reject(new Error('disk full')) } };
    const ks = createKillSwitch({ store: failing });
    let calls = 0;
    ks.onChange(() => calls++);
    await expect(ks.engage('spam-filter', { actor: ana, reason: 'incident' })).rejects.toThrow('disk full');
    expect(ks.engaged('spam-filter')).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('is idempotent: engaging twice or releasing a released switch keeps nothing and audits nothing', async () => {
    const ks = createKillSwitch({ store });
    let calls = 0;
    ks.onChange(() => calls++);
    expect((await ks.release('spam-filter', { actor: ana, reason: 'nothing to release' })).changed).toBe(false);
    expect((await ks.engage('spam-filter', { actor: ana, reason: 'first' })).changed).toBe(true);
    const second = await ks.engage('spam-filter', { actor: ana, reason: 'second' });
    expect(second).toMatchObject({ changed: false, state: { engaged: true, reason: 'first' } });
    expect(calls).toBe(1);
    expect((await ks.history('spam-filter')).map((r) => r.reason)).toEqual(['first']);
    expect((await store.audit.list({ limit: 10 })).filter((e) => e.action.startsWith('killswitch.')).length).toBe(1);
    await expect(ks.engage('spam-filter', { actor: ana, reason: ' ' })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('two engages at once keep one change', async () => {
    const ks = createKillSwitch({ store });
    const results = await Promise.all([ks.engage('spam-filter', { actor: ana, reason: 'a' }), ks.engage('spam-filter', { actor: ana, reason: 'b' })]);
    expect(results.map((r) => r.changed).sort()).toEqual([false, true]);
    expect((await ks.history('spam-filter')).length).toBe(1);
  });

  it('survives a restart: a new process loads the engaged switches', async () => {
    await createKillSwitch({ store }).engage('spam-filter', { actor: ana, reason: 'incident 42' });
    const other = createKillSwitch({ store });
    await other.engage('loan-precheck', { actor: ana, reason: 'x' });
    await other.release('loan-precheck', { actor: ana, reason: 'y' });
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const restarted = createKillSwitch({ store });
    expect(restarted.engaged('spam-filter')).toBeUndefined();
    const loaded = await restarted.load();
    expect([...loaded.keys()]).toEqual(['spam-filter']);
    expect(restarted.engaged('spam-filter')).toMatchObject({ reason: 'incident 42', actor: 'ana' });
    expect(await restarted.state('loan-precheck')).toMatchObject({ engaged: false, reason: 'y' });
    expect(await restarted.state('never')).toEqual({ service: 'never', engaged: false, since: null, reason: null, actor: null });
  });

  it('load() picks up a change made elsewhere and tells listeners', async () => {
    const here = createKillSwitch({ store });
    const elsewhere = createKillSwitch({ store });
    const seen: (string | undefined)[] = [];
    here.onChange((_service, engaged) => seen.push(engaged?.reason));
    await elsewhere.engage('spam-filter', { actor: ana, reason: 'from replica b' });
    await here.load();
    await elsewhere.release('spam-filter', { actor: ana, reason: 'over' });
    await here.load();
    await here.load();
    expect(seen).toEqual(['from replica b', undefined]);
  });
});
