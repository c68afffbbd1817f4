// Agreement as a signal, through the running hub on a real SQLite store: cross-check verdicts of the stored
// decisions (explanation.crossChecks) are counted per checker, window and segment; the agreement/<checker>
// monitors' state changes reach the alert rules that name them; and whatever sequence of checkpoints, graceful
// restarts and crashes (with decisions made durable that the dying process never counted) happens, every window's
// counts equal what the log says, computed here straight from the stored rows.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredDecision } from '../../store/index.js';
import { makeDecision, tempDir } from '../../store/testing/fixtures.js';
import { createAlertDispatcher, resolveAlertRule } from '../alerts/index.js';
import { evaluateWindow, resolveMonitoringConfig, type MonitorEvaluation } from '../monitors/index.js';
import { MonitoringHub, type HubService, type HubWindowInput, type MonitorTransition } from './monitoring-hub.js';

const HOUR = 3_600_000;
const SENT = ['2002-09-01T10:00:00.000Z', '2002-09-01T11:00:00.000Z'];
const VERDICTS = ['agree', 'disagree', 'unavailable'] as const;

function hourWindow(ms: number) {
  const start = Math.floor(ms / HOUR) * HOUR;
  return { start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
}

const labelOf = (v: unknown) => (v !== null && typeof v === 'object' && 'label' in v ? String((v as { label: unknown }).label) : null);

function service(seen: HubWindowInput[], config = resolveMonitoringConfig({ minSamples: 5 })): HubService<MonitorEvaluation> {
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
    evaluate(input, _reference, previous) {
      seen.push(input);
      return evaluateWindow(input, undefined, config, previous as ReadonlyMap<string, never>);
    },
  };
}

const check = (name: string, verdict: string) => ({ name, kind: 'version', version: 'v2', verdict, fields: [], ms: 3 });

type Counts = Record<string, { agree: number; disagree: number; unavailable: number }>;

/** Per `window/segment`, each checker's verdicts, from the stored decisions alone (a checker's first entry in a decision). */
async function expectedFromLog(store: Store): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  for (let after: string | undefined; ; ) {
    const page = await store.decisions.list({ service: 'spam-filter', limit: 1000, ...(after === undefined ? {} : { after }) });
    for (const d of page) {
      const input = d.input as { sent_at: string; country: string };
      const entries = ((d.explanation as { crossChecks: unknown[] }).crossChecks as Array<{ name: string; verdict: (typeof VERDICTS)[number] }>).filter(
        (e) => typeof e === 'object' && e !== null && /^[a-z0-9][a-z0-9_-]*$/.test(e.name) && VERDICTS.includes(e.verdict),
      );
      for (const segment of ['', `country=${input.country}`]) {
        const key = `${hourWindow(Date.parse(input.sent_at)).start}/${segment}`;
        const counts = out.get(key) ?? {};
        const seen = new Set<string>();
        for (const { name, verdict } of entries) {
          if (seen.has(name)) continue;
          seen.add(name);
          counts[name] ??= { agree: 0, disagree: 0, unavailable: 0 };
          counts[name][verdict]++;
        }
        out.set(key, counts);
      }
    }
    if (page.length < 1000) break;
    after = page.at(-1)!.id;
  }
  return out;
}

function counted(inputs: readonly HubWindowInput[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const x of inputs) out.set(`${x.window.start}/${x.segment ?? ''}`, Object.fromEntries([...x.crossChecks].map(([name, c]) => [name, { ...c }])));
  return out;
}

describe('agreement through the hub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: number;
  let hub: MonitoringHub<MonitorEvaluation> | undefined;
  let seen: HubWindowInput[];
  let n: number;
  let onTransition: ((t: MonitorTransition) => Promise<void>) | undefined;

  beforeEach(() => {
    tmp = tempDir();
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    seen = [];
    n = 0;
    onTransition = undefined;
  });
  afterEach(async () => {
    await hub?.close();
    await store?.close();
    tmp.remove();
  });

  const now = () => new Date(clock);

  async function boot(): Promise<void> {
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    hub = new MonitoringHub<MonitorEvaluation>({ store, services: [service(seen)], loadReference: () => Promise.resolve(undefined), now, ...(onTransition === undefined ? {} : { onTransition }) });
    await hub.start();
  }

  /** Decision number i: its country, its event hour and the verdicts of its checkers (some sampled out, some repeated or malformed). */
  async function decide(observe: boolean, crossChecks?: unknown[]): Promise<StoredDecision> {
    const i = n++;
    const d = makeDecision({
      id: newId('dec'),
      service: 'spam-filter',
      createdAt: new Date(clock++).toISOString(),
      input: { sent_at: SENT[i % 2], country: ['de', 'fr', 'it'][i % 3] },
      output: { label: 'ham' },
      explanation: {
        reasons: [],
        crossChecks: crossChecks ?? [
          check('shadow', VERDICTS[(i * 7) % 5 === 0 ? 1 : (i * 7) % 11 === 0 ? 2 : 0]!),
          ...(i % 4 === 0 ? [] : [check('rules', VERDICTS[i % 3]!)]), // sampled out on every fourth decision
          ...(i % 6 === 0 ? [check('shadow', 'disagree'), { name: 'Bad Name', verdict: 'agree' }, 'junk'] : []),
        ],
      },
    });
    await store.decisions.append(d);
    if (observe) hub!.observeDecision(d);
    return d;
  }

  async function compare(): Promise<void> {
    seen.length = 0;
    await hub!.evaluate('spam-filter', 'all');
    expect(counted(seen)).toEqual(await expectedFromLog(store));
  }

  it('counts per segment, judges each segment on its own, and sends the state changes to the rules that name agreement/*', async () => {
    const transitions: MonitorTransition[] = [];
    // The dispatcher needs the store, which boot() opens after the hub's options are set.
    const alerts: { dispatcher?: ReturnType<typeof createAlertDispatcher> } = {};
    onTransition = async (t) => {
      transitions.push(t);
      await alerts.dispatcher!.onTransition(t);
    };
    const webhook = { url: 'http://127.0.0.1:9/hook', secret: 'HOOK_SECRET' };
    const rules = [resolveAlertRule({ name: 'agreement', monitors: ['agreement/*'], minState: 'warning', webhook }), resolveAlertRule({ name: 'drift', monitors: ['input_drift'], minState: 'warning', webhook })];
    await boot();
    const dispatcher = (alerts.dispatcher = createAlertDispatcher({ store, rules: () => rules, secret: () => 'whsec_dGVzdA==', now: () => clock }));
    // One window: de agrees 9 of 10 times, fr half the time; the rules checker never compares (always unavailable).
    const shadow = (country: string, k: number) => (country === 'fr' ? (k % 2 === 0 ? 'agree' : 'disagree') : k % 10 === 9 ? 'disagree' : 'agree');
    const perCountry = new Map<string, number>();
    for (let k = 0; k < 60; k++) {
      const country = k % 3 === 0 ? 'fr' : 'de';
      const j = perCountry.get(country) ?? 0;
      perCountry.set(country, j + 1);
      const d = makeDecision({
        id: newId('dec'),
        service: 'spam-filter',
        createdAt: new Date(clock++).toISOString(),
        input: { sent_at: SENT[0], country },
        output: { label: 'ham' },
        explanation: { crossChecks: [check('shadow', shadow(country, j)), check('rules', 'unavailable')] },
      });
      await store.decisions.append(d);
      hub!.observeDecision(d);
    }
    const results = await hub!.evaluate('spam-filter', 'all');
    expect(counted(seen)).toEqual(await expectedFromLog(store));
    const agreement = (segment: string | undefined) => results.find((r) => r.segment === segment)!.evaluations.find((e) => e.monitor === 'agreement/shadow')!;
    // de: 40 decisions, 4 disagreements → 0.9, at the warning bound; fr: 10 of 20 → alert; all: 46 of 60 → alert.
    expect(agreement('country=de')).toMatchObject({ value: 0.9, samples: 40, observed: 'ok' });
    expect(agreement('country=fr')).toMatchObject({ value: 0.5, samples: 20, observed: 'alert' });
    expect(agreement(undefined)).toMatchObject({ value: 46 / 60, samples: 60, observed: 'alert', values: { agree: 46, disagree: 14, unavailable: 0 } });
    const rulesChecker = results.find((r) => r.segment === undefined)!.evaluations.find((e) => e.monitor === 'agreement/rules')!;
    expect(rulesChecker).toMatchObject({ observed: 'unknown', value: null, values: { unavailable: 60, unavailableShare: 1 } });
    // The statuses are kept and listed like every monitor's.
    const statuses = hub!.listStatuses('spam-filter').filter((s) => s.monitor.startsWith('agreement/'));
    expect(statuses.map((s) => [s.monitor, s.segment, s.state])).toEqual([
      ['agreement/rules', '', 'unknown'],
      ['agreement/rules', 'country=de', 'unknown'],
      ['agreement/rules', 'country=fr', 'unknown'],
      ['agreement/shadow', '', 'alert'],
      ['agreement/shadow', 'country=de', 'ok'],
      ['agreement/shadow', 'country=fr', 'alert'],
    ]);
    // The state changes (the hub also hands over a first status that stays unknown); the alert's carries the counts.
    const changes = transitions
      .filter((t) => t.monitor.startsWith('agreement/') && t.from !== t.to)
      .map((t) => [t.monitor, t.segment ?? '', t.from, t.to])
      .sort((a, b) => (a.join() < b.join() ? -1 : 1));
    expect(changes).toEqual([
      ['agreement/shadow', '', 'unknown', 'alert'],
      ['agreement/shadow', 'country=de', 'unknown', 'ok'],
      ['agreement/shadow', 'country=fr', 'unknown', 'alert'],
    ]);
    expect(transitions.find((t) => t.monitor === 'agreement/shadow' && t.segment === undefined)!.values).toMatchObject({ value: 46 / 60, agree: 46, disagree: 14, unavailable: 0 });
    // One alert of the agreement rule, for the family and version, collecting the two alerting segments; none of the drift rule.
    const active = await store.alerts.listActive('spam-filter');
    expect(active.map((a) => [a.rule, a.monitor, a.version, a.severity, a.state])).toEqual([['agreement', 'agreement', 'v1', 'alert', 'firing']]);
    expect(active[0]!.values).toMatchObject({ monitors: ['agreement/shadow'], segments: [null, 'country=fr'] });
    // History: every evaluation is stored.
    const history = await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'agreement/shadow', segment: 'country=fr', limit: 10 });
    expect(history.map((h) => [h.state, h.value])).toEqual([['alert', 0.5]]);
    await dispatcher.close();
  });

  it('counts stay exact through checkpoint, crash with uncounted durable decisions, graceful restart and crash', async () => {
    await boot();
    for (let i = 0; i < 40; i++) await decide(true);
    await hub!.checkpoint();
    for (let i = 0; i < 20; i++) await decide(true);
    await compare();
    // Killed: 20 counted since the last checkpoint are lost from memory, 5 more are durable but were never counted.
    for (let i = 0; i < 5; i++) await decide(false);
    hub = undefined;
    await store.close();
    await boot();
    await compare();
    await hub!.close();
    await store.close();
    await boot();
    await compare();
    hub = undefined;
    await store.close();
    await boot();
    await compare();
    // 65 decisions, each with one shadow verdict: the unsegmented windows hold all of them once.
    const shadowTotal = [...counted(seen)].filter(([key]) => key.endsWith('/')).reduce((sum, [, c]) => sum + c.shadow!.agree + c.shadow!.disagree + c.shadow!.unavailable, 0);
    expect(shadowTotal).toBe(65);
  });

  type Step = { readonly kind: 'traffic'; readonly decisions: number } | { readonly kind: 'checkpoint' } | { readonly kind: 'evaluate' } | { readonly kind: 'tick'; readonly ms: number } | { readonly kind: 'graceful' } | { readonly kind: 'crash'; readonly durable: number };

  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('traffic' as const), decisions: fc.integer({ min: 0, max: 8 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'evaluate' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(10, 1000, 400_000) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'graceful' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), durable: fc.integer({ min: 0, max: 3 }) }) },
  );

  it('any sequence of traffic, checkpoints, restarts and crashes leaves every window and segment counted as the log says', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 12 }), async (steps) => {
        await hub?.close();
        await store?.close();
        tmp.remove();
        tmp = tempDir();
        seen = [];
        await boot();
        for (const s of steps) {
          if (s.kind === 'traffic') for (let i = 0; i < s.decisions; i++) await decide(true);
          else if (s.kind === 'checkpoint') await hub!.checkpoint();
          else if (s.kind === 'evaluate') await compare();
          else if (s.kind === 'tick') clock += s.ms;
          else if (s.kind === 'graceful') {
            await hub!.close();
            await store.close();
            await boot();
          } else {
            for (let i = 0; i < s.durable; i++) await decide(false);
            hub = undefined;
            await store.close();
            await boot();
          }
        }
        await compare();
      }),
      { numRuns: 20 },
    );
  });
});
