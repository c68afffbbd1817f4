// `ballast monitor --evaluate` runs beside a server on the same store. A hub that recovers and checkpoints would
// count the server's not yet checkpointed events a second time (it replays them) and write a watermark past them.
// An evaluate-only hub replays nothing and writes no checkpoint: the counts stay exact.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store } from '../../store/index.js';
import { makeDecision, tempDir } from '../../store/testing/fixtures.js';
import { buildReferenceProfile } from '../sketches/index.js';
import { MonitoringHub, type HubReference, type HubService, type HubWindowInput } from './monitoring-hub.js';

const HOUR = 3_600_000;
const hourWindow = (ms: number) => {
  const start = Math.floor(ms / HOUR) * HOUR;
  return { start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
};

function reference(): HubReference {
  const profile = buildReferenceProfile(Array.from({ length: 50 }, (_, i) => ({ input: { x: i }, outputLabel: 'a' })), [{ name: 'x', kind: 'numeric' }], {
    key: { service: 'beside', modelVersion: 'reference', window: 'reference' },
  });
  return { id: 'ref_beside', config: { features: profile.config.features, outputLabels: profile.config.outputLabels }, sketch: profile.sketch };
}

function service(seen: HubWindowInput[]): HubService {
  return {
    name: 'beside',
    window: hourWindow,
    segments: [],
    outputLabel: () => 'a',
    feedbackLabel: () => null,
    stages: ['total'],
    labelDelayMs: 0,
    windowsByEventTime: false,
    evaluate(input) {
      seen.push(input);
      return [{ monitor: 'volume', observed: 'ok', status: { state: 'ok' }, value: input.counts.decisions, message: `${input.counts.decisions} decisions` }];
    },
  };
}

describe('an evaluate-only hub beside a writer', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock = Date.parse('2026-12-07T10:30:00.000Z');
  beforeEach(async () => {
    clock = Date.parse('2026-12-07T10:30:00.000Z');
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  for (const evaluateOnly of [true, false]) {
    it(`${evaluateOnly ? 'counts' : 'a recovering one would not count'} every decision once: 30 checkpointed, 20 only in the writer's memory and in the log`, async () => {
      const seen: HubWindowInput[] = [];
      const options = { store, services: [service(seen)], loadReference: () => Promise.resolve(reference()), now: () => new Date(clock) };
      const writer = new MonitoringHub({ ...options, services: [service([])] });
      await writer.start();
      const decide = async (i: number) => {
        const decision = makeDecision({ service: 'beside', id: newId('dec'), createdAt: new Date((clock += 10)).toISOString(), version: 'v1', outcome: 'auto', confidence: 0.9, input: { x: i }, output: { label: 'a' }, explanation: {}, timings: {} });
        await store.decisions.append(decision);
        writer.observeDecision(decision);
      };
      for (let i = 0; i < 30; i++) await decide(i);
      await writer.checkpoint();
      for (let i = 30; i < 50; i++) await decide(i);

      const beside = new MonitoringHub({ ...options, evaluateOnly });
      await beside.start();
      await beside.evaluate('beside', [hourWindow(clock).start]);
      await beside.close();
      await writer.checkpoint();
      await writer.close();

      const after = new MonitoringHub({ ...options, services: [service(seen)] });
      await after.start();
      await after.evaluate('beside', [hourWindow(clock).start]);
      await after.close();
      if (evaluateOnly) {
        // While the writer ran, the evaluation saw what it had checkpointed; then every decision, once.
        expect(seen.map((input) => input.counts.decisions)).toEqual([30, 50]);
      } else {
        expect(seen.at(-1)!.counts.decisions).toBe(70);
      }
    });
  }
});
