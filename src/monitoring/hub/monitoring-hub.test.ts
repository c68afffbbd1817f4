import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredDecision, type StoredFeedback } from '../../store/index.js';
import { makeDecision, tempDir } from '../../store/testing/fixtures.js';
import { buildReferenceProfile } from '../sketches/index.js';
import { MonitoringHub, type HubEvaluation, type HubReference, type HubService, type HubWindowInput } from './monitoring-hub.js';

const HOUR = 3_600_000;

function hourWindow(ms: number) {
  const start = Math.floor(ms / HOUR) * HOUR;
  return { start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
}

const referenceRows = Array.from({ length: 200 }, (_, i) => ({
  input: { amount: (i * 7919) % 1000, country: ['de', 'fr', 'us'][i % 3], note: `note ${i % 17} words here` },
  outputLabel: i % 4 === 0 ? 'spam' : 'ham',
}));

function reference(): HubReference {
  const profile = buildReferenceProfile(
    referenceRows,
    [
      { name: 'amount', kind: 'numeric' },
      { name: 'country', kind: 'categorical' },
      { name: 'note', kind: 'text' },
    ],
    { key: { service: 'spam-filter', modelVersion: 'reference', window: 'reference' } },
  );
  return { id: 'ref_1', config: { features: profile.config.features, outputLabels: profile.config.outputLabels }, sketch: profile.sketch };
}

/** A service whose "monitor" reports what it was given, so the test sees the merged window. */
function service(seen: HubWindowInput[], state: (input: HubWindowInput) => HubEvaluation['observed'] = () => 'ok'): HubService {
  return {
    name: 'spam-filter',
    window: hourWindow,
    eventTime: (input) => (typeof input.sent_at === 'string' ? Date.parse(input.sent_at) : undefined),
    segments: ['country'],
    outputLabel: (output) => (output !== null && typeof output === 'object' && 'label' in output ? String(output.label) : null),
    feedbackLabel: (value) => (value !== null && typeof value === 'object' && 'label' in value ? String(value.label) : null),
    stages: ['total', 'invoke'],
    labelDelayMs: 0,
    windowsByEventTime: true,
    evaluate(input) {
      seen.push(input);
      const s = state(input);
      return [{ monitor: 'volume', observed: s, status: { state: s }, value: input.counts.decisions, message: `${input.counts.decisions} decisions` }];
    },
  };
}

function decisionAt(i: number, createdAt: string): StoredDecision {
  return makeDecision({
    id: newId('dec'),
    createdAt,
    version: 'v1',
    outcome: i % 5 === 0 ? 'review' : 'auto',
    confidence: (i % 10) / 10 + 0.05,
    input: { amount: (i * 31) % 1200, country: ['de', 'fr', 'us', 'it'][i % 4], note: `note ${i} words`, sent_at: `2002-09-0${1 + (i % 2)}T10:00:00.000Z` },
    output: { label: i % 3 === 0 ? 'spam' : 'ham' },
    explanation: i % 7 === 0 ? { modelError: { code: 'MODEL_TIMEOUT' } } : {},
    timings: { validate: 0.1, invoke: i % 9, record: 0.5 },
  });
}

describe('MonitoringHub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: number;
  const now = () => new Date(clock);

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    clock = Date.parse('2026-11-23T10:00:00.000Z');
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  const makeHub = (seen: HubWindowInput[], extra: Partial<ConstructorParameters<typeof MonitoringHub>[0]> = {}) =>
    new MonitoringHub({ store, services: [service(seen)], loadReference: () => Promise.resolve(reference()), now, ...extra });

  it('merges the deltas of several writers into exactly what one writer seeing all traffic counts', async () => {
    const decisions = Array.from({ length: 300 }, (_, i) => decisionAt(i, new Date(clock - 1000 + i).toISOString()));
    const seenA: HubWindowInput[] = [];
    const seenOne: HubWindowInput[] = [];
    const a = makeHub(seenA);
    const b = makeHub([]);
    await a.start();
    await b.start();
    decisions.forEach((d, i) => (i % 3 === 0 ? b : a).observeDecision(d));
    await a.checkpoint();
    await b.checkpoint();
    await a.evaluate('spam-filter', ['2002-09-01T10:00:00.000Z', '2002-09-02T10:00:00.000Z']);
    // The evaluation compacted each key's deltas into one row; evaluating again reads the same window.
    const rows = await store.monitoring.listSketches({ service: 'spam-filter' });
    expect(rows).toHaveLength(6);
    const before = seenA.map((x) => JSON.stringify(x.sketch.toJSON())).sort();
    seenA.length = 0;
    await a.evaluate('spam-filter', ['2002-09-01T10:00:00.000Z', '2002-09-02T10:00:00.000Z']);
    expect(seenA.map((x) => JSON.stringify(x.sketch.toJSON())).sort()).toEqual(before);
    await a.close();
    await b.close();

    // One writer, another store: the same traffic.
    const tmp2 = tempDir();
    const store2 = await openStore({ kind: 'sqlite', path: tmp2.dbPath });
    const one = new MonitoringHub({ store: store2, services: [service(seenOne)], loadReference: () => Promise.resolve(reference()), now });
    await one.start();
    for (const d of decisions) one.observeDecision(d);
    await one.evaluate('spam-filter', ['2002-09-01T10:00:00.000Z', '2002-09-02T10:00:00.000Z']);
    await one.close();
    await store2.close();
    tmp2.remove();

    const byKey = (inputs: HubWindowInput[]) => new Map(inputs.map((x) => [`${x.window.start}/${x.version}/${x.segment ?? ''}`, x]));
    const merged = byKey(seenA);
    const single = byKey(seenOne);
    expect([...merged.keys()].sort()).toEqual([...single.keys()].sort());
    // 2 windows (by event time, i % 2) × (unsegmented + the 2 countries of that parity, i % 4)
    expect(merged.size).toBe(6);
    for (const [key, x] of single) {
      const y = merged.get(key)!;
      expect(JSON.stringify(y.sketch.toJSON())).toBe(JSON.stringify(x.sketch.toJSON()));
      expect(y.counts).toEqual(x.counts);
    }
    const all = single.get('2002-09-01T10:00:00.000Z/v1/')!;
    expect(all.counts.decisions).toBe(150);
    expect(all.counts.byOutcome.review).toBe(decisions.filter((d, i) => i % 2 === 0 && d.outcome === 'review').length);
    expect(all.counts.modelErrors).toBe(decisions.filter((_, i) => i % 2 === 0 && i % 7 === 0).length);
    expect(all.sketch.latencyOf('invoke').toJSON()).toMatchObject({ type: 'numeric-histogram' });
  });

  it('after a crash, replays exactly what the last checkpoint did not cover, including a decision in flight at the checkpoint', async () => {
    const seen: HubWindowInput[] = [];
    let inFlight: string | undefined;
    const hub = makeHub(seen, { oldestInFlight: () => inFlight });
    await hub.start();
    const t = (ms: number) => new Date(clock + ms).toISOString();
    const early = Array.from({ length: 50 }, (_, i) => decisionAt(i, t(i)));
    for (const d of early) {
      await store.decisions.append(d);
      hub.observeDecision(d);
    }
    // A slow decision created at +100 is still in flight; faster ones created after it complete.
    const slow = decisionAt(1000, t(100));
    inFlight = slow.createdAt;
    const fast = Array.from({ length: 20 }, (_, i) => decisionAt(2000 + i, t(200 + i)));
    for (const d of fast) {
      await store.decisions.append(d);
      hub.observeDecision(d);
    }
    clock += 1000;
    await hub.checkpoint();
    // After the checkpoint: the slow one completes, and more traffic; then the process dies (no close).
    await store.decisions.append(slow);
    hub.observeDecision(slow);
    inFlight = undefined;
    const late = Array.from({ length: 30 }, (_, i) => decisionAt(3000 + i, t(1500 + i)));
    for (const d of late) {
      await store.decisions.append(d);
      hub.observeDecision(d);
    }
    await store.close();

    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const seen2: HubWindowInput[] = [];
    const restarted = makeHub(seen2);
    await restarted.start();
    const windows = await restarted.windows('spam-filter');
    await restarted.evaluate('spam-filter', windows);
    await restarted.close();
    const total = seen2.filter((x) => x.segment === undefined).reduce((n, x) => n + x.counts.decisions, 0);
    expect(total).toBe(early.length + fast.length + 1 + late.length);
  });

  it('counts a corrected label once, business outcomes once per decision, and withholds labels until the window is ripe', async () => {
    const seen: HubWindowInput[] = [];
    const svc = { ...service(seen), labelDelayMs: 60_000 };
    const hub = new MonitoringHub({ store, services: [svc], loadReference: () => Promise.resolve(reference()), now });
    await hub.start();
    const d = decisionAt(3, new Date(clock).toISOString()); // predicted spam, confidence 0.35
    await store.decisions.append(d);
    hub.observeDecision(d);
    const fb = (value: unknown, kind: 'label' | 'outcome', createdAt: string, supersedes: string | null = null): StoredFeedback => ({ id: newId('fb'), decisionId: d.id, kind, value, source: null, note: null, supersedes, createdAt });
    const first = fb({ label: 'ham' }, 'label', new Date(clock + 1).toISOString());
    const fix = fb({ label: 'spam' }, 'label', new Date(clock + 2).toISOString(), first.id);
    const complaint1 = fb({ complaint: true }, 'outcome', new Date(clock + 3).toISOString());
    const complaint2 = fb({ complaint: true, override: true }, 'outcome', new Date(clock + 4).toISOString());
    const history: StoredFeedback[] = [];
    for (const f of [first, fix, complaint1, complaint2]) {
      history.push(f);
      await store.feedback.append(f);
      hub.observeFeedback(f, d, history);
    }
    const window = hourWindow(Date.parse((d.input as { sent_at: string }).sent_at)).start;
    await hub.evaluate('spam-filter', [window]);
    expect(seen.at(-1)!.labels).toBeUndefined();
    clock += 61_000;
    await hub.evaluate('spam-filter', [window]);
    const ripe = seen.filter((x) => x.segment === undefined).at(-1)!;
    expect(ripe.labels).toEqual([{ predicted: 'spam', actual: 'spam', score: null }]);
    expect(ripe.calibration!.total.reduce((a, b) => a + b, 0)).toBe(1);
    expect(ripe.calibration!.correct.reduce((a, b) => a + b, 0)).toBe(1);
    expect(ripe.business).toEqual({ decisions: 1, overrides: 1, complaints: 1, appeals: 0, overturned: 0 });
    await hub.close();
  });

  it('keeps every evaluation as history, reports state changes once, and restores statuses after a restart', async () => {
    const seen: HubWindowInput[] = [];
    const transitions: string[] = [];
    let level: HubEvaluation['observed'] = 'ok';
    const svc = service(seen, () => level);
    const open = () => new MonitoringHub({ store, services: [svc], loadReference: () => Promise.resolve(undefined), now, onTransition: (t) => void transitions.push(`${t.monitor}:${t.from}->${t.to}`) });
    let hub = open();
    await hub.start();
    const d = decisionAt(1, new Date(clock).toISOString());
    hub.observeDecision(d);
    const window = hourWindow(Date.parse('2002-09-02T10:00:00.000Z')).start;
    await hub.evaluate('spam-filter', [window]);
    level = 'alert';
    await hub.evaluate('spam-filter', [window]);
    await hub.evaluate('spam-filter', [window]);
    await hub.close();
    // Unsegmented + country=fr: two status keys, each ok then alert.
    expect(transitions.sort()).toEqual(['volume:alert->alert', 'volume:ok->alert', 'volume:unknown->ok', 'volume:unknown->ok', 'volume:ok->alert'].filter((t) => t !== 'volume:alert->alert').sort());
    expect((await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'volume', limit: 100 })).length).toBe(6);
    hub = open();
    await hub.start();
    expect(hub.listStatuses('spam-filter').map((s) => [s.segment, s.state])).toEqual([
      ['', 'alert'],
      ['country=fr', 'alert'],
    ]);
    expect(hub.activeAlerts('spam-filter', 'v1').map((s) => s.monitor)).toEqual(['volume']);
    expect(hub.activeAlerts('spam-filter', 'v2')).toEqual([]);
    await hub.close();
  });
});

describe('MonitoringHub segments', () => {
  it('tracks at most maxSegmentValues values per field and window; the rest share (other)', async () => {
    const tmp = tempDir();
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const seen: HubWindowInput[] = [];
    const hub = new MonitoringHub({ store, services: [service(seen)], loadReference: () => Promise.resolve(undefined), maxSegmentValues: 2 });
    await hub.start();
    for (const [i, country] of ['de', 'fr', 'it', 'es', 'de'].entries()) {
      hub.observeDecision({ ...decisionAt(i, new Date().toISOString()), input: { country, sent_at: '2002-09-01T10:00:00.000Z' } });
    }
    await hub.evaluate('spam-filter', 'all');
    await hub.close();
    await store.close();
    tmp.remove();
    const counts = Object.fromEntries(seen.map((x) => [x.segment ?? '', x.counts.decisions]));
    expect(counts).toEqual({ '': 5, 'country=de': 2, 'country=fr': 1, 'country=(other)': 2 });
  });
});

describe('MonitoringHub transitions', () => {
  it('hands a state change that failed to the alerts again at the next evaluation, and only the latest per monitor', async () => {
    const tmp = tempDir();
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    let level: HubEvaluation['observed'] = 'alert';
    const svc = { ...service([], () => level), segments: [] };
    const delivered: string[] = [];
    let failing = true;
    const hub = new MonitoringHub({
      store,
      services: [svc],
      loadReference: () => Promise.resolve(undefined),
      onTransition: (t) => {
        if (failing) throw new Error('store busy');
        delivered.push(`${t.from}->${t.to}`);
      },
    });
    await hub.start();
    hub.observeDecision({ ...decisionAt(1, new Date().toISOString()) });
    const window = ['2002-09-02T10:00:00.000Z'];
    await hub.evaluate('spam-filter', window); // unknown -> alert fails
    failing = false;
    await hub.evaluate('spam-filter', window); // retried: delivered; no new change
    expect(delivered).toEqual(['unknown->alert']);
    failing = true;
    level = 'ok';
    await hub.evaluate('spam-filter', window); // alert -> ok fails
    level = 'alert';
    failing = false;
    await hub.evaluate('spam-filter', window); // retried alert -> ok first, then ok -> alert
    expect(delivered).toEqual(['unknown->alert', 'alert->ok', 'ok->alert']);
    await hub.evaluate('spam-filter', window);
    expect(delivered).toHaveLength(3);
    // A change lost in a crash (no retry before the process died) is handed over at the next start.
    failing = true;
    level = 'ok';
    await hub.evaluate('spam-filter', window);
    await hub.close();
    failing = false;
    const restarted = new MonitoringHub({ store, services: [svc], loadReference: () => Promise.resolve(undefined), onTransition: (t) => void delivered.push(`${t.from}->${t.to}`) });
    await restarted.start();
    expect(delivered.slice(3)).toEqual(['ok->ok']);
    await restarted.close();
    await store.close();
    tmp.remove();
  });
});

describe('MonitoringHub late data', () => {
  it('keeps the evaluation of an older window in the history without moving the state back', async () => {
    const tmp = tempDir();
    const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const svc = { ...service([], (input) => (input.window.start < '2002-09-02' ? 'alert' : 'ok')), segments: [] };
    const transitions: string[] = [];
    const hub = new MonitoringHub({ store, services: [svc], loadReference: () => Promise.resolve(undefined), onTransition: (t) => void transitions.push(`${t.from}->${t.to}`) });
    await hub.start();
    const at = (sentAt: string) => ({ ...decisionAt(1, new Date().toISOString()), input: { sent_at: sentAt } });
    hub.observeDecision(at('2002-09-02T10:00:00.000Z'));
    await hub.evaluate('spam-filter', 'all');
    hub.observeDecision(at('2002-09-01T10:00:00.000Z')); // late: an older window
    await hub.evaluate('spam-filter');
    expect(hub.listStatuses('spam-filter').map((s) => [s.state, s.window.start])).toEqual([['ok', '2002-09-02T10:00:00.000Z']]);
    expect(transitions).toEqual(['unknown->ok']);
    const history = await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'volume', limit: 10 });
    expect(history.map((e) => [e.windowStart, e.observed])).toEqual([
      ['2002-09-01T10:00:00.000Z', 'alert'],
      ['2002-09-02T10:00:00.000Z', 'ok'],
    ]);
    await hub.close();
    await store.close();
    tmp.remove();
  });
});
