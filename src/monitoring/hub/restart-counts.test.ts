// Counts are exact across restarts and crashes: whatever sequence of traffic, checkpoints, graceful
// restarts and crashes (a process dropped without closing, with rows made durable that it never
// counted) happens, every window's decisions, labelled pairs and business signals equal what the
// log says, computed here straight from the stored rows.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredDecision, type StoredFeedback } from '../../store/index.js';
import { makeDecision, tempDir } from '../../store/testing/fixtures.js';
import { evaluateWindow, resolveMonitoringConfig, type MonitorEvaluation } from '../monitors/index.js';
import { MonitoringHub, type HubService, type HubWindowInput } from './monitoring-hub.js';

const HOUR = 3_600_000;
const SENT = ['2002-09-01T10:00:00.000Z', '2002-09-01T11:00:00.000Z'];

function hourWindow(ms: number) {
  const start = Math.floor(ms / HOUR) * HOUR;
  return { start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
}

const labelOf = (v: unknown) => (v !== null && typeof v === 'object' && 'label' in v ? String((v as { label: unknown }).label) : null);

function service(seen: HubWindowInput[]): HubService {
  return {
    name: 'spam-filter',
    window: hourWindow,
    eventTime: (input) => (typeof input.sent_at === 'string' ? Date.parse(input.sent_at) : undefined),
    segments: ['country'],
    outputLabel: labelOf,
    feedbackLabel: labelOf,
    stages: ['total'],
    labelDelayMs: 0,
    windowsByEventTime: true,
    evaluate(input) {
      seen.push(input);
      return [{ monitor: 'volume', observed: 'ok', status: { state: 'ok' }, value: input.counts.decisions, message: '' }];
    },
  };
}

/** What every (window, segment) must hold, from the stored rows alone. */
interface Expected {
  decisions: number;
  pairs: string[];
  business: { decisions: number; overrides: number; complaints: number; appeals: number; overturned: number };
}

async function expectedFromLog(store: Store): Promise<Map<string, Expected>> {
  const decisions: StoredDecision[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.decisions.list({ service: 'spam-filter', limit: 1000, ...(after === undefined ? {} : { after }) });
    decisions.push(...page);
    if (page.length < 1000) break;
    after = page.at(-1)!.id;
  }
  const out = new Map<string, Expected>();
  for (const d of decisions) {
    const input = d.input as { sent_at: string; country: string };
    const feedback = (await store.feedback.listForDecision(d.id)).sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
    // Labels: the newest row of the label kinds (ground truth, a reviewer's override, an appeal's re-decision).
    const labels = feedback.filter((f) => f.kind !== 'outcome').map((f) => labelOf(f.value)!);
    const outcomes = feedback.filter((f) => f.kind === 'outcome').map((f) => f.value as { override?: boolean; complaint?: boolean });
    const predicted = labelOf(d.output);
    const humans = feedback.filter((f) => f.kind === 'override' || f.kind === 'appeal');
    // Each appeal contests the standing human answer (the model's before any).
    let standing = predicted;
    let appeals = 0;
    let overturned = 0;
    for (const f of humans) {
      if (f.kind === 'appeal') {
        appeals++;
        if (labelOf(f.value) !== standing) overturned++;
      }
      standing = labelOf(f.value);
    }
    for (const segment of ['', `country=${input.country}`]) {
      const key = `${hourWindow(Date.parse(input.sent_at)).start}/${segment}`;
      const e = out.get(key) ?? { decisions: 0, pairs: [], business: { decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 } };
      e.decisions++;
      if (labels.length > 0) e.pairs.push(`${labelOf(d.output)}>${labels.at(-1)}`);
      if (outcomes.length > 0) e.business.decisions++;
      if (outcomes.some((o) => o.override === true) || humans.some((f) => labelOf(f.value) !== predicted)) e.business.overrides++;
      if (outcomes.some((o) => o.complaint === true)) e.business.complaints++;
      e.business.appeals += appeals;
      e.business.overturned += overturned;
      out.set(key, e);
    }
  }
  for (const e of out.values()) e.pairs.sort();
  return out;
}

function counted(inputs: readonly HubWindowInput[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const x of inputs) {
    out.set(`${x.window.start}/${x.segment ?? ''}`, {
      decisions: x.counts.decisions,
      pairs: (x.labels ?? []).map((p) => `${p.predicted}>${p.actual}`).sort(),
      business: { ...x.business },
    });
  }
  return out;
}

type Step =
  | { readonly kind: 'traffic'; readonly decisions: number; readonly labels: readonly number[]; readonly outcomes: readonly number[]; readonly humans: readonly number[] }
  | { readonly kind: 'checkpoint' }
  | { readonly kind: 'evaluate' }
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'graceful' }
  /** Rows made durable that the dying process never counted (killed between the append and the count), then a crash. */
  | { readonly kind: 'crash'; readonly durableDecisions: number; readonly durableLabels: readonly number[]; readonly durableHumans?: readonly number[] };

describe('MonitoringHub counts across restarts and crashes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: number;
  let hub: MonitoringHub | undefined;
  let seen: HubWindowInput[];
  let made: StoredDecision[];
  let n: number;

  beforeEach(() => {
    tmp = tempDir();
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    seen = [];
    made = [];
    n = 0;
  });
  afterEach(async () => {
    await hub?.close();
    await store?.close();
    tmp.remove();
  });

  const now = () => new Date(clock);
  const at = () => new Date(clock++).toISOString();

  async function boot(): Promise<void> {
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    hub = new MonitoringHub({ store, services: [service(seen)], loadReference: () => Promise.resolve(undefined), now });
    await hub.start();
  }

  async function decide(observe: boolean): Promise<void> {
    const i = n++;
    const d = makeDecision({
      id: newId('dec'),
      service: 'spam-filter',
      createdAt: at(),
      confidence: 0.5 + (i % 5) / 10,
      input: { sent_at: SENT[i % 2], country: ['de', 'fr', 'it'][i % 3] },
      output: { label: i % 3 === 0 ? 'spam' : 'ham' },
    });
    await store.decisions.append(d);
    made.push(d);
    if (observe) hub!.observeDecision(d);
  }

  /** `human`: a reviewer's override (even picks) or an appeal's re-decision (odd picks), as the review queue writes them. */
  async function feedback(pick: number, kind: 'label' | 'outcome' | 'human', observe: boolean): Promise<void> {
    if (made.length === 0) return;
    const d = made[pick % made.length]!;
    const value = kind === 'outcome' ? { override: pick % 3 === 0, complaint: pick % 5 === 0 } : { label: (kind === 'human' ? pick % 3 : pick % 4) === 0 ? 'spam' : 'ham' };
    const stored = kind === 'human' ? (pick % 2 === 0 ? 'override' : 'appeal') : kind;
    const f: StoredFeedback = { id: newId('fb'), decisionId: d.id, kind: stored, value, source: null, note: null, supersedes: null, createdAt: at() };
    await store.feedback.append(f);
    if (observe) hub!.observeFeedback(f, d, await store.feedback.listForDecision(d.id));
  }

  async function run(step: Step): Promise<void> {
    switch (step.kind) {
      case 'traffic':
        for (let i = 0; i < step.decisions; i++) await decide(true);
        for (const pick of step.labels) await feedback(pick, 'label', true);
        for (const pick of step.outcomes) await feedback(pick, 'outcome', true);
        for (const pick of step.humans) await feedback(pick, 'human', true);
        return;
      case 'checkpoint':
        await hub!.checkpoint();
        return;
      case 'evaluate':
        await check();
        return;
      case 'tick':
        clock += step.ms;
        return;
      case 'graceful':
        await hub!.close();
        await store.close();
        await boot();
        return;
      case 'crash':
        for (let i = 0; i < step.durableDecisions; i++) await decide(false);
        for (const pick of step.durableLabels) await feedback(pick, 'label', false);
        for (const pick of step.durableHumans ?? []) await feedback(pick, 'human', false);
        // The process dies: its hub is dropped unclosed (nothing in memory reaches the store).
        hub = undefined;
        await store.close();
        await boot();
        return;
    }
  }

  /** Evaluates every window and compares each (window, segment) with the log. */
  async function check(): Promise<void> {
    seen.length = 0;
    await hub!.evaluate('spam-filter', 'all');
    expect(counted(seen)).toEqual(await expectedFromLog(store));
  }

  it('50 decisions and 50 labels stay 50 labelled decisions with the same accuracy through graceful, kill, graceful, kill-while-ingesting', async () => {
    await boot();
    for (let i = 0; i < 50; i++) await decide(true);
    for (let i = 0; i < 50; i++) await feedback(i * 7 + 1, 'label', true); // 7 is coprime to 50: each decision once
    const labelled = () => {
      const all = seen.filter((x) => x.segment === undefined).flatMap((x) => x.labels ?? []);
      return { n: all.length, accuracy: all.filter((p) => p.predicted === p.actual).length / all.length };
    };
    // Independently: label number i has pick i*7+1; it labels decision pick % 50 (predicted spam iff that index % 3 === 0)
    // with spam iff pick % 4 === 0.
    const truthByPick = Array.from({ length: 50 }, (_, i) => i * 7 + 1).map((pick) => ({ predicted: (pick % 50) % 3 === 0 ? 'spam' : 'ham', actual: pick % 4 === 0 ? 'spam' : 'ham' }));
    const accuracy = truthByPick.filter((p) => p.predicted === p.actual).length / 50;
    expect(accuracy).toBeGreaterThan(0);
    expect(accuracy).toBeLessThan(1);
    await check();
    expect(labelled()).toEqual({ n: 50, accuracy });
    for (const step of ['graceful', 'crash', 'graceful', 'graceful', 'crash'] as const) {
      await run(step === 'crash' ? { kind: 'crash', durableDecisions: 0, durableLabels: [] } : { kind: 'graceful' });
      clock += 1000;
      await check();
      expect(labelled(), `after ${step}`).toEqual({ n: 50, accuracy });
    }
    // Killed while feedback comes in: 10 more decisions, 5 labels counted, 5 durable but never counted by the dying process.
    for (let i = 0; i < 10; i++) await decide(true);
    for (let k = 0; k < 5; k++) await feedback(50 + k, 'label', true);
    await run({ kind: 'crash', durableDecisions: 0, durableLabels: [55, 56, 57, 58, 59] });
    await check();
    expect(labelled().n).toBe(60);
  });

  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('traffic' as const), decisions: fc.integer({ min: 0, max: 6 }), labels: fc.array(fc.nat(1000), { maxLength: 6 }), outcomes: fc.array(fc.nat(1000), { maxLength: 3 }), humans: fc.array(fc.nat(1000), { maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'evaluate' as const }) },
    // Steps shorter and longer than the feedback lookback (5 min) of a checkpoint.
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(10, 1000, 200_000, 400_000) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'graceful' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), durableDecisions: fc.integer({ min: 0, max: 2 }), durableLabels: fc.array(fc.nat(1000), { maxLength: 2 }), durableHumans: fc.array(fc.nat(1000), { maxLength: 2 }) }) },
  );

  it('any sequence of traffic, corrections, checkpoints, restarts and crashes leaves every window and segment exactly as the log says', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        await hub?.close();
        await store?.close();
        tmp.remove();
        tmp = tempDir();
        seen = [];
        made = [];
        await boot();
        for (const s of steps) await run(s);
        await check();
      }),
      { numRuns: 20 },
    );
  });
});

describe('MonitoringHub business rates', () => {
  it('counts an override in its decision’s window however late it comes, and the rate is over that window’s decisions', async () => {
    const tmp = tempDir();
    let clock = Date.parse('2026-11-23T10:00:00.000Z');
    const now = () => new Date(clock);
    const config = resolveMonitoringConfig({});
    const results: Array<{ start: string; decisions: number; rate: MonitorEvaluation | undefined }> = [];
    const svc: HubService<MonitorEvaluation> = {
      name: 'spam-filter',
      window: hourWindow, // by decision time
      segments: [],
      outputLabel: labelOf,
      feedbackLabel: labelOf,
      stages: ['total'],
      labelDelayMs: 0,
      evaluate(input) {
        const evaluations = evaluateWindow(input, undefined, config, new Map());
        results.push({ start: input.window.start, decisions: input.counts.decisions, rate: evaluations.find((e) => e.monitor === 'override_rate') });
        return evaluations;
      },
    };
    let store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    const boot = async () => {
      const hub = new MonitoringHub<MonitorEvaluation>({ store, services: [svc], loadReference: () => Promise.resolve(undefined), now });
      await hub.start();
      return hub;
    };
    let hub = await boot();
    const decisions: StoredDecision[] = [];
    for (let i = 0; i < 100; i++) {
      const d = makeDecision({ id: newId('dec'), service: 'spam-filter', createdAt: new Date(clock + i).toISOString(), output: { label: 'ham' } });
      await store.decisions.append(d);
      hub.observeDecision(d);
      decisions.push(d);
    }
    // Two hours later (another window), outcomes come in: 31 overrides (3 of them reported twice), 4 outcomes that are not overrides.
    clock += 2 * HOUR;
    const outcome = async (d: StoredDecision, override: boolean) => {
      const f: StoredFeedback = { id: newId('fb'), decisionId: d.id, kind: 'outcome', value: { override }, source: null, note: null, supersedes: null, createdAt: new Date(clock++).toISOString() };
      await store.feedback.append(f);
      hub.observeFeedback(f, d, await store.feedback.listForDecision(d.id));
    };
    for (let i = 0; i < 35; i++) await outcome(decisions[i * 2]!, i < 31);
    for (let i = 0; i < 3; i++) await outcome(decisions[i * 2]!, true);
    // A crash after a checkpoint, and a graceful restart: nothing changes.
    await hub.checkpoint();
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    hub = await boot();
    await hub.close();
    hub = await boot();
    await hub.evaluate('spam-filter', 'all');
    await hub.close();
    await store.close();
    tmp.remove();
    expect(results.map((r) => r.start)).toEqual(['2026-11-23T10:00:00.000Z']);
    expect(results[0]!.decisions).toBe(100);
    expect(results[0]!.rate).toMatchObject({ value: 0.31, samples: 100, observed: 'alert' }); // default bounds 0.1 / 0.2
  });
});
