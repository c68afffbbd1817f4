import { describe, expect, it } from 'vitest';
import { QualityBreaker, type QualitySignal, type QualityTransition } from './quality-breaker.js';

const week = (start: string) => ({ start: `${start}T00:00:00.000Z`, end: `${start}T23:59:59.999Z` });
const signal = (monitor: string, value: number | null, start: string, state = 'ok'): QualitySignal => ({ monitor, value, state, message: `${monitor} ${value}`, window: week(start) });

function breaker(config: ConstructorParameters<typeof QualityBreaker>[0]) {
  const transitions: QualityTransition[] = [];
  let now = 1_000;
  const b = new QualityBreaker(config, { now: () => now, onTransition: (t) => transitions.push(t) });
  return { b, transitions, tick: (ms: number) => (now += ms) };
}

describe('QualityBreaker', () => {
  it('opens when the labelled accuracy falls below the floor, with the monitor values behind it', () => {
    const { b, transitions } = breaker({ accuracyFloor: 0.85 });
    b.observe(signal('accuracy', 0.91, '2002-09-02'));
    b.observe(signal('accuracy', 0.85, '2002-09-09'));
    expect(b.isOpen).toBe(false);
    b.observe(signal('accuracy', 0.78, '2002-09-23'));
    expect(b.isOpen).toBe(true);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ from: 'closed', to: 'open', forced: false, figures: { monitor: 'accuracy', value: 0.78, floor: 0.85 } });
    expect(transitions[0]!.reason).toBe('labelled accuracy 78.0% is below the floor 85.0% (window from 2002-09-23)');
  });

  it('stays open whatever the monitors say next: only a person closes it', () => {
    const { b, transitions } = breaker({ accuracyFloor: 0.85 });
    b.observe(signal('accuracy', 0.7, '2002-09-23'));
    b.observe(signal('accuracy', 0.99, '2002-09-30'));
    expect(b.isOpen).toBe(true);
    expect(transitions).toHaveLength(1);
  });

  it('uses the estimated accuracy only while the window has no labelled accuracy', () => {
    const { b } = breaker({ accuracyFloor: 0.85 });
    b.observe(signal('accuracy', 0.9, '2002-09-23'));
    b.observe(signal('estimated_accuracy', 0.6, '2002-09-23'));
    expect(b.isOpen).toBe(false);
    b.observe(signal('estimated_accuracy', 0.6, '2002-09-30'));
    expect(b.isOpen).toBe(true);
    expect(b.snapshot().figures).toMatchObject({ monitor: 'estimated_accuracy', value: 0.6 });
  });

  it('opens when a chosen monitor is in alert, and not for a warning or a monitor not chosen', () => {
    const { b } = breaker({ monitors: ['output_drift'] });
    b.observe(signal('output_drift', 0.3, '2002-09-23', 'warning'));
    b.observe(signal('input_drift', 0.01, '2002-09-23', 'alert'));
    expect(b.isOpen).toBe(false);
    b.observe(signal('output_drift', 0.01, '2002-09-23', 'alert'));
    expect(b.isOpen).toBe(true);
  });

  it('an operator close pardons the windows seen so far; a later bad window opens it again', () => {
    const { b, transitions } = breaker({ accuracyFloor: 0.85 });
    b.observe(signal('accuracy', 0.7, '2002-09-23'));
    const closed = b.forceClose('labels of that week were wrong');
    expect(closed).toMatchObject({ from: 'open', to: 'closed', forced: true, figures: { pardonedThrough: week('2002-09-23').start } });
    b.observe(signal('accuracy', 0.7, '2002-09-23'));
    expect(b.isOpen).toBe(false);
    b.observe(signal('accuracy', 0.8, '2002-09-30'));
    expect(b.isOpen).toBe(true);
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['closed>open', 'open>closed', 'closed>open']);
  });

  it('restores the state its history ends in, with the pardon of a close, without a transition', () => {
    const { b, transitions } = breaker({ accuracyFloor: 0.85 });
    b.restore('closed', 500, 'op: fine', { operator: 'fine', pardonedThrough: week('2002-09-23').start });
    b.observe(signal('accuracy', 0.7, '2002-09-23'));
    expect(b.isOpen).toBe(false);
    const other = breaker({ accuracyFloor: 0.85 });
    other.b.restore('open', 500, 'labelled accuracy 70%', { monitor: 'accuracy' });
    expect(other.b.isOpen).toBe(true);
    expect(other.b.snapshot()).toMatchObject({ state: 'open', since: 500 });
    expect([...transitions, ...other.transitions]).toEqual([]);
  });

  it('forcing it to the state it is in is a no-op', () => {
    const { b, transitions } = breaker({ accuracyFloor: 0.85 });
    expect(b.forceClose('x')).toBeUndefined();
    expect(b.forceOpen('y')).toMatchObject({ to: 'open', forced: true });
    expect(b.forceOpen('y')).toBeUndefined();
    expect(transitions).toHaveLength(1);
  });
});
