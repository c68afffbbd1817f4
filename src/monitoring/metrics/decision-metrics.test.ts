// Decision metrics without a server: the arm label's fixed set, shadow counters, and the runtime gauges
// read once per scrape from their provider (a failing provider empties them, never the scrape).
import { describe, expect, it } from 'vitest';
import { createDecisionMetrics, type ObservedDecision, type ObservedRuntime } from './decision-metrics.js';

const decision = (routing?: { arm?: string }, version: string | null = 'v1'): ObservedDecision => ({
  service: 's',
  version,
  outcome: 'auto',
  timings: { validate: 1, record: 3 },
  explanation: routing === undefined ? {} : { routing },
});

const lines = async (metrics: ReturnType<typeof createDecisionMetrics>, name: string) =>
  (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('decision metrics', () => {
  it('labels decisions and their latency with the arm, from a fixed set', async () => {
    const metrics = createDecisionMetrics({ defaultMetrics: false });
    metrics.observeDecision(decision());
    metrics.observeDecision(decision({ arm: 'stable' }));
    metrics.observeDecision(decision({ arm: 'candidate' }, 'v2'));
    metrics.observeDecision(decision({ arm: 'candidate' }, 'v2'));
    // In a rollout but not in its comparison (an experiment without a subject key), and an arm not in the set.
    metrics.observeDecision(decision({}));
    metrics.observeDecision(decision({ arm: 'rollout-7f3a' }));
    expect(await lines(metrics, 'ballast_decisions_total')).toEqual([
      'ballast_decisions_total{service="s",version="v1",outcome="auto",arm="none"} 2',
      'ballast_decisions_total{service="s",version="v1",outcome="auto",arm="stable"} 1',
      'ballast_decisions_total{service="s",version="v2",outcome="auto",arm="candidate"} 2',
      'ballast_decisions_total{service="s",version="v1",outcome="auto",arm="other"} 1',
    ]);
    const counts = await lines(metrics, 'ballast_decision_duration_seconds_count');
    expect(counts).toContain('ballast_decision_duration_seconds_count{service="s",version="v2",arm="candidate"} 2');
    expect(counts).toContain('ballast_decision_duration_seconds_count{service="s",version="v1",arm="none"} 2');
    const sums = await lines(metrics, 'ballast_decision_duration_seconds_sum');
    expect(sums).toContain('ballast_decision_duration_seconds_sum{service="s",version="v2",arm="candidate"} 0.008');
  });

  it('counts shadow copies by result and compares only answered ones with a label on both sides', async () => {
    const metrics = createDecisionMetrics({ defaultMetrics: false });
    metrics.observeShadow({ service: 's', version: 'v2', result: 'answered', sameOutput: true });
    metrics.observeShadow({ service: 's', version: 'v2', result: 'answered', sameOutput: false });
    metrics.observeShadow({ service: 's', version: 'v2', result: 'answered' });
    metrics.observeShadow({ service: 's', version: 'v2', result: 'error' });
    metrics.observeShadow({ service: 's', version: 'v2', result: 'skipped' });
    expect(await lines(metrics, 'ballast_shadow_decisions_total')).toEqual([
      'ballast_shadow_decisions_total{service="s",version="v2",result="answered"} 3',
      'ballast_shadow_decisions_total{service="s",version="v2",result="error"} 1',
      'ballast_shadow_decisions_total{service="s",version="v2",result="skipped"} 1',
    ]);
    expect(await lines(metrics, 'ballast_shadow_comparisons_total')).toEqual([
      'ballast_shadow_comparisons_total{service="s",version="v2",result="same"} 1',
      'ballast_shadow_comparisons_total{service="s",version="v2",result="different"} 1',
    ]);
  });

  it('reads the runtime gauges from one provider call per scrape, and follows it between scrapes', async () => {
    const metrics = createDecisionMetrics({ defaultMetrics: false });
    // Before a provider: no series (not a zero that would claim revision 0).
    expect(await lines(metrics, 'ballast_config_revision')).toEqual([]);
    let calls = 0;
    let runtime: ObservedRuntime = {
      revision: 3,
      services: [
        { service: 'a', rolloutState: 'running', rollout: { candidate: 'v2', step: 1, weight: 0.25, shadowShare: 0 }, killed: false },
        { service: 'b', rolloutState: 'rolled-back', killed: true },
      ],
      models: [
        { service: 'a', state: 'live', count: 1 },
        { service: 'a', state: 'canary', count: 1 },
        { service: 'a', state: 'registered', count: 2 },
      ],
    };
    const remove = metrics.observeRuntime(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return runtime;
    });
    const text = await metrics.registry.metrics();
    expect(calls).toBe(1);
    expect(text).toContain('\nballast_config_revision 3\n');
    expect(text).toContain('ballast_rollout_weight{service="a",candidate="v2"} 0.25');
    expect(text).toContain('ballast_rollout_step{service="a",candidate="v2"} 1');
    expect(text).toContain('ballast_rollout_shadow_share{service="a",candidate="v2"} 0');
    expect(text).not.toMatch(/ballast_rollout_weight\{service="b"/);
    expect(text).toContain('ballast_rollout_state{service="a",state="running"} 1');
    expect(text).toContain('ballast_rollout_state{service="a",state="none"} 0');
    expect(text).toContain('ballast_rollout_state{service="b",state="rolled-back"} 1');
    expect(text).toContain('ballast_kill_switch_engaged{service="b"} 1');
    expect(text).toContain('ballast_kill_switch_engaged{service="a"} 0');
    expect(text).toContain('ballast_model_versions{service="a",state="registered"} 2');
    expect(text).toContain('ballast_model_versions{service="a",state="retired"} 0');

    // The rollout ended: its weight series goes away rather than freezing at its last value.
    runtime = { revision: 4, services: [{ service: 'a', rolloutState: 'promoted', killed: false }] };
    const next = await metrics.registry.metrics();
    expect(calls).toBe(2);
    expect(next).toContain('\nballast_config_revision 4\n');
    expect(next).not.toContain('ballast_rollout_weight{');
    expect(next).toContain('ballast_rollout_state{service="a",state="promoted"} 1');
    expect(next).not.toContain('ballast_model_versions{');

    remove();
    expect(await lines(metrics, 'ballast_config_revision')).toEqual([]);
  });

  it('a provider that fails empties the runtime gauges for that scrape and the rest is served', async () => {
    const metrics = createDecisionMetrics({ defaultMetrics: false });
    metrics.observeDecision(decision());
    metrics.observeRuntime(() => {
      throw new Error('the store is closed');
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('ballast_decisions_total{service="s",version="v1",outcome="auto",arm="none"} 1');
    expect(text).not.toContain('\nballast_config_revision ');
    expect(text).not.toContain('ballast_rollout_state{');
  });
});
