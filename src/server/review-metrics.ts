// The review queue's Prometheus series: SLA breaches and human decisions as counters, the queue's
// items per state (and overdue) read from the store at each scrape, so every replica reports the
// shared queue.
import { Counter, Gauge, type Registry } from 'prom-client';
import { reviewStates, type Store } from '../store/index.js';

export interface ReviewMetrics {
  observeBreach(service: string): void;
  observeDecision(service: string, decision: string): void;
}

export function createReviewMetrics(registry: Registry, options: { readonly store: Store; readonly services: () => Iterable<string> }): ReviewMetrics {
  const breaches = new Counter({ name: 'ballast_review_sla_breaches_total', help: 'Review items escalated because their SLA passed (once each), by service.', labelNames: ['service'] as const, registers: [registry] });
  const decisions = new Counter({ name: 'ballast_review_decisions_total', help: 'Human decisions on review items, by service and decision (accept, override, escalate).', labelNames: ['service', 'decision'] as const, registers: [registry] });
  new Gauge({
    name: 'ballast_review_items',
    help: 'Review items by service and state, and `overdue` (undecided past their due time), as the store holds them.',
    labelNames: ['service', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const at = new Date().toISOString();
      for (const service of options.services()) {
        try {
          const counts = await options.store.reviews.countByState({ service, now: at });
          for (const state of reviewStates) this.set({ service, state }, counts.states[state]);
          this.set({ service, state: 'overdue' }, counts.overdue);
        } catch {
          // A store that does not answer leaves the series out of this scrape.
        }
      }
    },
  });
  return {
    observeBreach: (service) => breaches.inc({ service }),
    observeDecision: (service, decision) => decisions.inc({ service, decision }),
  };
}
