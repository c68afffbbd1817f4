// Cross-check verdicts as a window accumulator counts them: read defensively from explanation.crossChecks, one count
// per decision and checker, exact through merge, toJSON and fromJSON in any split and order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SketchError } from '../sketches/index.js';
import { MAX_CROSS_CHECKS_PER_DECISION, verdictsOf, type CrossCheckVerdict } from './cross-check-counts.js';
import { WindowAccumulator } from './window-accumulator.js';

const config = { key: { service: 's', modelVersion: 'v1', window: '2026-11-23T10:00:00.000Z' }, features: [], outputLabels: ['spam', 'ham'], stages: ['total'] };
const entry = (name: unknown, verdict: unknown, extra: Record<string, unknown> = {}) => ({ name, kind: 'version', verdict, fields: [], ms: 1, ...extra });
const roundTrip = (acc: WindowAccumulator) => WindowAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())), acc.lastEventAt);
const plain = (acc: WindowAccumulator) => Object.fromEntries([...acc.crossChecks].map(([name, c]) => [name, { ...c }]));

describe('verdictsOf', () => {
  it('reads one verdict per checker that ran', () => {
    const explanation = {
      crossChecks: [
        entry('shadow-v2', 'agree', { version: 'v2', fields: [{ field: '/label', agree: true, served: 'spam', checker: 'spam' }] }),
        entry('rules_amount', 'disagree', { kind: 'rules', action: 'review' }),
        entry('v3', 'unavailable', { error: { code: 'MODEL_TIMEOUT', message: 'timed out' } }),
      ],
    };
    expect(verdictsOf(explanation)).toEqual([
      ['shadow-v2', 'agree'],
      ['rules_amount', 'disagree'],
      ['v3', 'unavailable'],
    ]);
  });

  it('skips what is not a well-formed verdict and never throws', () => {
    for (const explanation of [undefined, null, 'x', 42, [], {}, { crossChecks: null }, { crossChecks: 'agree' }, { crossChecks: { name: 'a', verdict: 'agree' } }]) {
      expect(verdictsOf(explanation)).toEqual([]);
    }
    const bad = [
      null,
      'agree',
      [],
      entry('Shadow', 'agree'), // upper case is not a checker name
      entry('', 'agree'),
      entry('-x', 'agree'),
      entry('a b', 'agree'),
      entry(7, 'agree'),
      entry('x'.repeat(129), 'agree'),
      entry('ok-name', 'maybe'),
      entry('ok-name', null),
      { name: 'no-verdict' },
    ];
    expect(verdictsOf({ crossChecks: [...bad, entry('good', 'disagree')] })).toEqual([['good', 'disagree']]);
    const throwing = Object.defineProperty({}, 'crossChecks', {
      get() {
        throw new Error('boom');
      },
    });
    expect(verdictsOf(throwing)).toEqual([]);
  });

  it('counts a repeated checker name once (the first well-formed entry), and reads a bounded number of entries', () => {
    expect(verdictsOf({ crossChecks: [entry('a', 'bogus'), entry('a', 'disagree'), entry('a', 'agree'), entry('b', 'agree')] })).toEqual([
      ['a', 'disagree'],
      ['b', 'agree'],
    ]);
    const many = Array.from({ length: MAX_CROSS_CHECKS_PER_DECISION + 5 }, (_, i) => entry(`c${i}`, 'agree'));
    expect(verdictsOf({ crossChecks: many })).toHaveLength(MAX_CROSS_CHECKS_PER_DECISION);
  });
});

describe('WindowAccumulator cross-check counts', () => {
  it('counts, merges and round-trips exactly; a delta without checks stores no crossChecks', () => {
    const a = WindowAccumulator.create(config);
    const b = WindowAccumulator.create(config);
    expect(a.toJSON()).not.toHaveProperty('crossChecks');
    expect(roundTrip(a).crossChecks.size).toBe(0);
    for (let i = 0; i < 7; i++) a.addCrossChecks(verdictsOf({ crossChecks: [entry('shadow', i < 5 ? 'agree' : 'disagree'), entry('rules', 'unavailable')] }));
    for (let i = 0; i < 4; i++) b.addCrossChecks(verdictsOf({ crossChecks: [entry('shadow', i === 0 ? 'unavailable' : 'agree')] }));
    expect(a.toJSON().crossChecks).toEqual([
      ['rules', 0, 0, 7],
      ['shadow', 5, 2, 0],
    ]);
    const merged = roundTrip(a).merge(roundTrip(b));
    expect(plain(merged)).toEqual({ shadow: { agree: 8, disagree: 2, unavailable: 1 }, rules: { agree: 0, disagree: 0, unavailable: 7 } });
    expect(plain(roundTrip(merged))).toEqual(plain(merged));
  });

  it('loads a delta stored before cross-checks were counted (no crossChecks) as none, and merges it', () => {
    const old = WindowAccumulator.create(config);
    const json = old.toJSON() as unknown as Record<string, unknown>;
    delete json.crossChecks;
    const loaded = WindowAccumulator.fromJSON(json, 0);
    expect(loaded.crossChecks.size).toBe(0);
    const current = WindowAccumulator.create(config);
    current.addCrossChecks([['shadow', 'agree']]);
    expect(plain(loaded.merge(current))).toEqual({ shadow: { agree: 1, disagree: 0, unavailable: 0 } });
  });

  it('rejects a malformed stored crossChecks', () => {
    const base = WindowAccumulator.create(config).toJSON();
    for (const crossChecks of [{}, 'x', [['shadow', 1, 2]], [['shadow', 1, 2, -1]], [['shadow', 1.5, 0, 0]], [['Shadow', 1, 0, 0]], [['a', 1, 0, 0], ['a', 0, 1, 0]], [null]]) {
      expect(() => WindowAccumulator.fromJSON({ ...base, crossChecks }, 0), JSON.stringify(crossChecks)).toThrow(SketchError);
    }
  });

  it('any split of the decisions into deltas, each stored and read back, merged in any order, gives the counts of one accumulator', () => {
    const verdict = fc.constantFrom<CrossCheckVerdict>('agree', 'disagree', 'unavailable');
    const decision = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'shadow-v2'), verdict), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(decision, fc.nat(4)), { maxLength: 60 }), fc.nat(), (decisions, seed) => {
        // Counted straight from the decisions: a checker's first verdict in a decision counts.
        const expected: Record<string, { agree: number; disagree: number; unavailable: number }> = {};
        for (const [checks] of decisions) {
          const seen = new Set<string>();
          for (const [name, v] of checks) {
            if (seen.has(name)) continue;
            seen.add(name);
            expected[name] ??= { agree: 0, disagree: 0, unavailable: 0 };
            expected[name][v]++;
          }
        }
        const deltas = Array.from({ length: 5 }, () => WindowAccumulator.create(config));
        for (const [checks, delta] of decisions) deltas[delta]!.addCrossChecks(verdictsOf({ crossChecks: checks.map(([name, v]) => entry(name, v)) }));
        const stored = deltas.map(roundTrip);
        const order = stored.map((_, i) => i).sort((x, y) => ((x * 7919 + seed) % 11) - ((y * 7919 + seed) % 11));
        const merged = WindowAccumulator.create(config);
        for (const i of order) merged.merge(stored[i]!);
        expect(plain(roundTrip(merged))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
