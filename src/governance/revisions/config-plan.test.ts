import { describe, expect, it } from 'vitest';
import { formatPlan, planConfigChange } from './config-plan.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are edited field by field
type Doc = any;

const base = {
  services: {
    spam: { live: 'v1', models: { v1: { adapter: { kind: 'module', path: 'a.mjs' } } }, policy: { rules: [{ when: 'true' }] }, monitoring: { windowMs: 1000 } },
  },
};

describe('planConfigChange', () => {
  it('lists nothing for equal configurations, whatever the key order', () => {
    const reordered = { services: { spam: { policy: { rules: [{ when: 'true' }] }, models: { v1: { adapter: { path: 'a.mjs', kind: 'module' } } }, live: 'v1', monitoring: { windowMs: 1000 } } } };
    expect(planConfigChange(base, reordered).changes).toEqual([]);
    expect(formatPlan(planConfigChange(base, reordered))).toEqual(['no changes']);
  });

  it('shows additions, removals and changes by pointer, and compares arrays whole', () => {
    const after = structuredClone(base) as Doc;
    after.services.spam.live = 'v2';
    after.services.spam.models.v2 = { adapter: { kind: 'module', path: 'b.mjs' } };
    after.services.spam.policy.rules.push({ when: 'false' });
    const plan = planConfigChange(base, after);
    expect(plan.changes.map((c) => [c.kind, c.path])).toEqual([
      ['change', '/services/spam/live'],
      ['add', '/services/spam/models/v2'],
      ['change', '/services/spam/policy/rules'],
    ]);
    expect(plan.restartRequired).toEqual([]);
    expect(formatPlan(plan)[0]).toBe('~ /services/spam/live: "v1" → "v2"');
  });

  it('marks what only a restart applies: store, monitoring, admission, new services', () => {
    const after = structuredClone(base) as Doc;
    after.services.spam.monitoring.windowMs = 2000;
    after.services.spam.resilience = { admission: { limit: 4 } };
    after.services.other = { live: 'x' };
    after.store = { kind: 'sqlite', path: 'x.db' };
    const plan = planConfigChange(base, after);
    expect(plan.restartRequired.map((i) => i.pointer)).toEqual(['/services/other', '/services/spam/monitoring/windowMs', '/services/spam/resilience', '/store']);
  });

  it('a resilience change other than admission is live', () => {
    const before = structuredClone(base) as Doc;
    before.services.spam.resilience = { deadlineMs: 100, admission: { limit: 4 } };
    const after = structuredClone(before);
    after.services.spam.resilience.deadlineMs = 200;
    const plan = planConfigChange(before, after);
    expect(plan.changes.map((c) => c.path)).toEqual(['/services/spam/resilience/deadlineMs']);
    expect(plan.restartRequired).toEqual([]);
  });

  it('escapes pointer segments', () => {
    const plan = planConfigChange({ services: {} }, { services: {}, 'a/b~c': 1 });
    expect(plan.changes[0]!.path).toBe('/a~1b~0c');
  });
});
