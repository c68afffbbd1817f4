// The counts a rollout's controller polls before each analysis: routed decisions of canaries and
// experiments, and shadow answers paired with a served decision, each within the step's window.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from './ids.js';
import { openStore, type StoreConfig } from './open-store.js';
import type { StoredShadowDecision } from './shadow-repository.js';
import type { Store } from './store.js';
import { makeDecision, tempDir } from './testing/fixtures.js';

const dialects: readonly { readonly name: string; config(dbPath: string): StoreConfig }[] = [
  { name: 'sqlite (file, writer thread)', config: (dbPath) => ({ kind: 'sqlite', path: dbPath }) },
  { name: 'sqlite (:memory:, same thread)', config: () => ({ kind: 'sqlite', path: ':memory:' }) },
];

const at = (minute: number): string => new Date(Date.UTC(2025, 0, 31, 12, minute)).toISOString();

const routed = (rollout: unknown, arm?: unknown) => ({ reasons: [], routing: { rollout, strategy: 'canary', step: 0, weight: 0.5, ...(arm === undefined ? {} : { arm }) } });

function shadow(decisionId: string, overrides: Partial<StoredShadowDecision> = {}): StoredShadowDecision {
  return { id: newId('shd'), decisionId, service: 'spam-filter', version: 'v2', rolloutId: 'rol-1', revision: 1, createdAt: at(10), output: { label: 'spam' }, confidence: 0.9, errorCode: null, latencyMs: 3, ...overrides };
}

describe.each(dialects)('rollout counts on $name', (dialect) => {
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

  it('counts the decisions a rollout routed into either arm, in the service and the window only', async () => {
    const window = { service: 'spam-filter', rolloutId: 'rol-1', since: at(5), until: at(20) };
    await Promise.all([
      // Counted: both arms, the first instant of the window included.
      store.decisions.append(makeDecision({ createdAt: at(5), explanation: routed('rol-1', 'stable') })),
      store.decisions.append(makeDecision({ createdAt: at(10), version: 'v2', explanation: routed('rol-1', 'candidate') })),
      store.decisions.append(makeDecision({ createdAt: at(19), explanation: routed('rol-1', 'stable') })),
      // Not counted: no arm (an experiment's request without a subject key), another rollout, no routing, no
      // explanation, an id that is a number, before and at the window's end, another service.
      store.decisions.append(makeDecision({ createdAt: at(10), explanation: routed('rol-1') })),
      store.decisions.append(makeDecision({ createdAt: at(10), explanation: routed('rol-1', 'other') })),
      store.decisions.append(makeDecision({ createdAt: at(10), explanation: routed('rol-2', 'candidate') })),
      store.decisions.append(makeDecision({ createdAt: at(10) })),
      store.decisions.append(makeDecision({ createdAt: at(10), explanation: undefined })),
      store.decisions.append(makeDecision({ createdAt: at(10), explanation: routed(1, 'stable') })),
      store.decisions.append(makeDecision({ createdAt: at(4), explanation: routed('rol-1', 'stable') })),
      store.decisions.append(makeDecision({ createdAt: at(20), explanation: routed('rol-1', 'candidate') })),
      store.decisions.append(makeDecision({ service: 'loans', createdAt: at(10), explanation: routed('rol-1', 'candidate') })),
    ]);
    expect(await store.decisions.countRouted(window)).toBe(3);
    // Without an end, everything from `since` on.
    expect(await store.decisions.countRouted({ service: 'spam-filter', rolloutId: 'rol-1', since: at(5) })).toBe(4);
    expect(await store.decisions.countRouted({ ...window, rolloutId: 'rol-2' })).toBe(1);
    expect(await store.decisions.countRouted({ ...window, rolloutId: 'rol-3' })).toBe(0);
  });

  it("counts a shadow rollout's answers by the candidate whose served decision is of the service and in the window", async () => {
    const inWindow = makeDecision({ createdAt: at(10) });
    const another = makeDecision({ createdAt: at(11) });
    const early = makeDecision({ createdAt: at(4) });
    const elsewhere = makeDecision({ service: 'loans', createdAt: at(10) });
    await Promise.all([inWindow, another, early, elsewhere].map((d) => store.decisions.append(d)));
    await store.shadows.appendMany([
      shadow(inWindow.id),
      shadow(another.id, { createdAt: at(12) }),
      // Two answers to one request both count (as the analysis pairs each).
      shadow(another.id, { createdAt: at(13) }),
      // Not counted: another version, another rollout, a served decision outside the window, of another
      // service or not in the log, an answer outside the window.
      shadow(inWindow.id, { version: 'v3' }),
      shadow(inWindow.id, { rolloutId: 'rol-2' }),
      shadow(early.id, { createdAt: at(10) }),
      shadow(elsewhere.id),
      shadow(newId('dec')),
      shadow(inWindow.id, { createdAt: at(20) }),
    ]);
    const window = { rolloutId: 'rol-1', service: 'spam-filter', version: 'v2', since: at(5), until: at(20) };
    expect(await store.shadows.countPaired(window)).toBe(3);
    expect(await store.shadows.countPaired({ rolloutId: 'rol-1', service: 'spam-filter', version: 'v2', since: at(5) })).toBe(4);
    expect(await store.shadows.countPaired({ ...window, version: 'v3' })).toBe(1);
    expect(await store.shadows.countPaired({ ...window, since: at(11) })).toBe(2);
  });
});
