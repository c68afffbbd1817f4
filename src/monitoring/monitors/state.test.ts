import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { monitorStates, nextState, parseMonitorStatus, type MonitorState, type MonitorStatus } from './state.js';

const rank = (s: MonitorState): number => ({ unknown: -1, ok: 0, warning: 1, alert: 2 })[s];
const run = (observations: readonly MonitorState[], hysteresis: { raiseAfter: number; clearAfter: number }): MonitorStatus[] => {
  const out: MonitorStatus[] = [];
  let status: MonitorStatus | undefined;
  for (const observed of observations) {
    status = nextState(status, observed, hysteresis);
    out.push(status);
  }
  return out;
};

const stateArb = fc.constantFrom(...monitorStates);
const knownArb = fc.constantFrom<MonitorState>('ok', 'warning', 'alert');
const hysteresisArb = fc.record({ raiseAfter: fc.integer({ min: 1, max: 5 }), clearAfter: fc.integer({ min: 1, max: 5 }) });

describe('nextState', () => {
  it('starts unknown and follows the first known observation at once with the defaults', () => {
    const h = { raiseAfter: 1, clearAfter: 2 };
    expect(nextState(undefined, 'unknown', h)).toEqual({ state: 'unknown', observed: 'unknown', pending: null, streaks: { warning: 0, alert: 0 }, changed: false });
    expect(nextState(undefined, 'alert', h)).toMatchObject({ state: 'alert', changed: true, streaks: { warning: 1, alert: 1 } });
    expect(run(['alert', 'ok'], h).map((s) => s.state)).toEqual(['alert', 'alert']);
    expect(run(['alert', 'ok', 'ok'], h).map((s) => s.state)).toEqual(['alert', 'alert', 'ok']);
  });

  it('steps down one level at a time when the observations do', () => {
    const h = { raiseAfter: 1, clearAfter: 2 };
    // warning, ok: two below alert (alert clears), only one below warning (warning held).
    expect(run(['alert', 'warning', 'ok', 'ok'], h).map((s) => s.state)).toEqual(['alert', 'alert', 'warning', 'ok']);
  });

  it('reports a raise that is pending', () => {
    const h = { raiseAfter: 3, clearAfter: 1 };
    const states = run(['ok', 'alert', 'alert', 'alert'], h);
    expect(states.map((s) => [s.state, s.pending])).toEqual([
      ['ok', null],
      ['ok', 'alert'],
      ['ok', 'alert'],
      ['alert', null],
    ]);
    expect(states.map((s) => s.changed)).toEqual([true, false, false, true]);
  });

  it('keeps the status through unknown observations', () => {
    const h = { raiseAfter: 2, clearAfter: 2 };
    const [a, b, c] = run(['alert', 'unknown', 'alert'], h);
    expect(a?.state).toBe('ok');
    expect(b).toMatchObject({ state: 'ok', observed: 'unknown', pending: 'alert', changed: false });
    expect(c?.state).toBe('alert');
  });

  it('rejects a hysteresis below 1', () => {
    expect(() => nextState(undefined, 'ok', { raiseAfter: 0, clearAfter: 1 })).toThrow(RangeError);
    expect(() => nextState(undefined, 'ok', { raiseAfter: 1, clearAfter: 1.5 })).toThrow(RangeError);
  });

  it('with raiseAfter = clearAfter = 1 reports the latest known observation', () => {
    fc.assert(
      fc.property(fc.array(stateArb, { maxLength: 40 }), (obs) => {
        const h = { raiseAfter: 1, clearAfter: 1 };
        let lastKnown: MonitorState = 'unknown';
        run(obs, h).forEach((status, i) => {
          if (obs[i] !== 'unknown') lastKnown = obs[i] as MonitorState;
          expect(status.state).toBe(lastKnown);
        });
      }),
    );
  });

  it('does not flap on alternating input: raises at most once and never clears', () => {
    fc.assert(
      fc.property(
        fc.record({ raiseAfter: fc.integer({ min: 1, max: 5 }), clearAfter: fc.integer({ min: 2, max: 5 }) }),
        fc.constantFrom<MonitorState>('warning', 'alert'),
        fc.integer({ min: 2, max: 60 }),
        fc.boolean(),
        (h, high, length, startHigh) => {
          const obs = Array.from({ length }, (_, i) => ((i % 2 === 0) === startHigh ? high : 'ok'));
          const states = run(obs, h);
          const changes = states.filter((s, i) => i > 0 && s.changed).length;
          expect(changes).toBeLessThanOrEqual(1);
          if (h.raiseAfter >= 2) expect(states.every((s) => s.state === 'ok')).toBe(true);
          else expect(states.at(-1)?.state).toBe(high);
        },
      ),
    );
  });

  it('raises a level only after raiseAfter consecutive known observations at or above it', () => {
    fc.assert(
      fc.property(hysteresisArb, fc.array(stateArb, { maxLength: 60 }), (h, obs) => {
        const states = run(obs, h);
        const known: MonitorState[] = [];
        states.forEach((status, i) => {
          const o = obs[i] as MonitorState;
          if (o !== 'unknown') known.push(o);
          const before = i === 0 ? -1 : rank(states[i - 1]!.state);
          const now = rank(status.state);
          if (now > Math.max(before, 0)) {
            const lastK = known.slice(-h.raiseAfter);
            expect(lastK.length).toBe(h.raiseAfter);
            expect(lastK.every((k) => rank(k) >= now)).toBe(true);
          }
        });
      }),
    );
  });

  it('clears a level only after clearAfter consecutive known observations below it', () => {
    fc.assert(
      fc.property(hysteresisArb, fc.array(stateArb, { maxLength: 60 }), (h, obs) => {
        const states = run(obs, h);
        const known: MonitorState[] = [];
        states.forEach((status, i) => {
          const o = obs[i] as MonitorState;
          if (o !== 'unknown') known.push(o);
          if (i === 0) return;
          const before = rank(states[i - 1]!.state);
          const now = rank(status.state);
          // Every level in (now, before] was left: the last clearAfter known observations are below it.
          for (let level = now + 1; level <= before; level++) {
            const lastK = known.slice(-h.clearAfter);
            expect(lastK.length).toBe(h.clearAfter);
            expect(lastK.every((k) => rank(k) < level)).toBe(true);
          }
        });
      }),
    );
  });

  it('ignores unknown observations wherever they are inserted', () => {
    fc.assert(
      fc.property(hysteresisArb, fc.array(fc.tuple(knownArb, fc.nat({ max: 3 })), { maxLength: 40 }), (h, pairs) => {
        const plain = run(
          pairs.map(([o]) => o),
          h,
        ).map((s) => s.state);
        const withGaps: MonitorState[] = [];
        for (const [o, gaps] of pairs) withGaps.push(...Array<MonitorState>(gaps).fill('unknown'), o);
        const gapped = run(withGaps, h);
        const atKnown = gapped.filter((_, i) => withGaps[i] !== 'unknown').map((s) => s.state);
        expect(atKnown).toEqual(plain);
        gapped.forEach((s, i) => {
          if (withGaps[i] === 'unknown') expect(s.state).toBe(i === 0 ? 'unknown' : gapped[i - 1]!.state);
        });
      }),
    );
  });

  it('settles on a constant observation after max(raiseAfter, clearAfter) evaluations', () => {
    fc.assert(
      fc.property(hysteresisArb, fc.array(stateArb, { maxLength: 20 }), knownArb, (h, prefix, constant) => {
        const obs = [...prefix, ...Array<MonitorState>(Math.max(h.raiseAfter, h.clearAfter)).fill(constant)];
        expect(run(obs, h).at(-1)?.state).toBe(constant);
      }),
    );
  });

  it('round-trips through JSON and refuses what is not a status', () => {
    fc.assert(
      fc.property(hysteresisArb, fc.array(stateArb, { minLength: 1, maxLength: 20 }), (h, obs) => {
        const last = run(obs, h).at(-1)!;
        expect(parseMonitorStatus(JSON.parse(JSON.stringify(last)))).toEqual(last);
      }),
    );
    expect(parseMonitorStatus(null)).toBeUndefined();
    expect(parseMonitorStatus({ state: 'fine', observed: 'ok', pending: null, streaks: { warning: 0, alert: 0 } })).toBeUndefined();
    expect(parseMonitorStatus({ state: 'ok', observed: 'ok', pending: null, streaks: { warning: 0.5, alert: 0 } })).toBeUndefined();
  });
});
