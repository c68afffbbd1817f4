// What the server hands to metrics beside decisions: the runtime gauges' provider (revision, rollouts,
// kill switches, registry) read at each scrape, and shadow copies compared with the served answer.
// Monitoring may not import governance or the pipeline, so the server reads them and passes plain facts.
import type { DecisionMetrics, ObservedRuntime, ObservedServiceRuntime } from '../monitoring/metrics/index.js';
import { labelOf } from '../monitoring/reference/index.js';
import { ServiceCatalog, type Service, type ShadowResult } from '../pipeline/index.js';
import type { ModelRegistry, RolloutController } from '../governance/index.js';
import type { RoutingPlan } from '../routing/index.js';

export interface RuntimeSources {
  readonly services: ReadonlyMap<string, Service>;
  readonly routing?: (service: string) => RoutingPlan | undefined;
  readonly rollouts?: Pick<RolloutController, 'list'>;
  readonly registry?: Pick<ModelRegistry, 'list'>;
}

/**
 * The runtime gauges' provider. Revision, weights and the kill switch are what this process routes by (no
 * I/O); the latest rollout's state (running vs paused, and how the last one ended) and the registry's counts
 * are one indexed read each from the store per scrape.
 */
export function runtimeProvider(sources: RuntimeSources): () => Promise<ObservedRuntime> {
  return async () => {
    const revision = sources.services instanceof ServiceCatalog ? sources.services.revision : 0;
    const names = [...sources.services.keys()];
    const services = await Promise.all(
      names.map(async (service): Promise<ObservedServiceRuntime> => {
        const plan = sources.routing?.(service);
        const r = plan?.rollout;
        const latest = sources.rollouts === undefined ? undefined : (await sources.rollouts.list(service, 1))[0];
        // Without the controller, a plan's rollout is all that is known: it claims traffic, so it runs.
        const rolloutState = latest?.state ?? (r === undefined ? 'none' : 'running');
        return { service, rolloutState, killed: plan?.killed !== undefined, ...(r === undefined ? {} : { rollout: { candidate: r.candidate, step: r.step, weight: r.weight, shadowShare: r.shadowShare } }) };
      }),
    );
    if (sources.registry === undefined) return { revision, services };
    const counts = new Map<string, { service: string; state: string; count: number }>();
    for (const v of await sources.registry.list()) {
      const key = `${v.service}\u0000${v.state}`;
      const entry = counts.get(key) ?? { service: v.service, state: v.state, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return { revision, services, models: [...counts.values()] };
  };
}

/** Feeds metrics from the shadow runner's results; the agreement is of output labels, as the rollout analysis compares them. */
export function observeShadowResult(metrics: DecisionMetrics): (result: ShadowResult) => void {
  return (result) => {
    let sameOutput: boolean | undefined;
    if (result.result === 'answered' && result.served !== undefined) {
      const candidate = labelOf(result.output);
      const served = labelOf(result.served);
      if (candidate !== undefined && served !== undefined) sameOutput = candidate === served;
    }
    metrics.observeShadow({ service: result.service, version: result.version, result: result.result, ...(sameOutput === undefined ? {} : { sameOutput }) });
  };
}
