// What the queue's numbers say: how much waits, how long people take, how often they override the
// model, and each reviewer's agreement with it. Computed from the store (items and the append-only
// human decisions), so every replica and every restart gives the same answer.
import type { ReviewDecisionWithItem, ReviewItemWithDecisions, ReviewState, Store } from '../store/index.js';
import { acceptedOutput, agreesWithModel, outcomeOf } from './review-queue.js';

export interface ReviewerFigures {
  readonly reviewer: string;
  readonly decisions: number;
  readonly accepts: number;
  readonly overrides: number;
  readonly escalations: number;
  /** Accepts and overrides that gave the model's answer, over accepts and overrides; null with none. */
  readonly agreementWithModel: number | null;
  /** Median time from taking the item to deciding it. */
  readonly medianDecideMs: number | null;
}

export interface ReviewStatsReport {
  readonly service: string | null;
  readonly since: string | null;
  readonly until: string | null;
  /** Items as they stand now (whatever the window). */
  readonly queue: Readonly<Record<ReviewState, number>> & { readonly overdue: number; readonly slaBreaches: number };
  /** Items settled in the window: by a final accept or override. */
  readonly settled: number;
  readonly accepted: number;
  readonly overridden: number;
  /** overridden / settled; null when nothing was settled. */
  readonly overrideRate: number | null;
  /** From the item's creation to its settling decision, over the settled items. */
  readonly queueTimeMs: { readonly p50: number | null; readonly p95: number | null; readonly max: number | null };
  readonly appeals: { readonly settled: number; readonly overturned: number; readonly overturnRate: number | null };
  readonly reviewers: readonly ReviewerFigures[];
}

export interface ReviewStats {
  compute(options: { readonly service?: string; readonly since?: string; readonly until?: string }): Promise<ReviewStatsReport>;
}

/** The nearest-rank quantile of sorted values; null when there are none. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function createReviewStats(deps: { readonly store: Store; readonly now?: () => Date }): ReviewStats {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  async function decisionsIn(options: { service?: string; since?: string; until?: string }): Promise<ReviewDecisionWithItem[]> {
    const all: ReviewDecisionWithItem[] = [];
    const seen = new Set<string>();
    let since = options.since;
    // Pages by time: rows of the boundary instant come again and are skipped by id.
    for (;;) {
      const page = await store.reviews.listDecisions({ ...options, ...(since === undefined ? {} : { since }), limit: 1000 });
      let added = 0;
      for (const row of page) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        all.push(row);
        added++;
      }
      if (page.length < 1000 || added === 0) return all;
      since = page.at(-1)!.at;
    }
  }

  return {
    async compute(options) {
      const counts = await store.reviews.countByState({ ...(options.service === undefined ? {} : { service: options.service }), now: now().toISOString() });
      const rows = await decisionsIn(options);
      const outputs = new Map<string, unknown>();
      for (const id of new Set(rows.map((r) => r.decisionId))) outputs.set(id, (await store.decisions.get(id))?.output ?? null);
      // An item is settled by its last non-escalating decision once its state is decided.
      const byItem = new Map<string, ReviewDecisionWithItem[]>();
      for (const r of rows) byItem.set(r.itemId, [...(byItem.get(r.itemId) ?? []), r]);
      let accepted = 0;
      let overridden = 0;
      let appealsSettled = 0;
      let overturned = 0;
      const queueTimes: number[] = [];
      const items = new Map<string, ReviewItemWithDecisions | undefined>();
      for (const [itemId, decisions] of byItem) {
        const item = await store.reviews.get(itemId);
        items.set(itemId, item);
        if (item?.state !== 'decided') continue;
        const last = item.decisions.at(-1)!;
        // Settled in the window only if its settling decision is in it.
        if (!decisions.some((d) => d.id === last.id)) continue;
        if (item.kind === 'appeal') {
          appealsSettled += 1;
          // Overturned: the final answer is not the one appealed (an override that gives the same answer upholds it).
          const outcome = outcomeOf(item, await store.decisions.get(item.decisionId), null);
          if (outcome?.overturned ?? last.decision === 'override') overturned += 1;
          continue;
        }
        if (last.decision === 'accept') accepted += 1;
        else if (last.decision === 'override') overridden += 1;
        queueTimes.push(Date.parse(last.at) - Date.parse(item.createdAt));
      }
      queueTimes.sort((a, b) => a - b);
      const reviewers = new Map<string, { d: number; a: number; o: number; e: number; agree: number; judged: number; times: number[] }>();
      for (const r of rows) {
        const f = reviewers.get(r.reviewer) ?? { d: 0, a: 0, o: 0, e: 0, agree: 0, judged: 0, times: [] };
        f.d += 1;
        if (r.decision === 'accept') f.a += 1;
        else if (r.decision === 'override') f.o += 1;
        else f.e += 1;
        const item = items.get(r.itemId);
        const model = outputs.get(r.decisionId);
        const agrees = agreesWithModel(r, model, item === undefined ? model : acceptedOutput(item, { output: model }));
        if (agrees !== null) {
          f.judged += 1;
          if (agrees) f.agree += 1;
        }
        if (r.claimedAt !== null) f.times.push(Date.parse(r.at) - Date.parse(r.claimedAt));
        reviewers.set(r.reviewer, f);
      }
      const settled = accepted + overridden;
      return {
        service: options.service ?? null,
        since: options.since ?? null,
        until: options.until ?? null,
        queue: { ...counts.states, overdue: counts.overdue, slaBreaches: counts.breached },
        settled,
        accepted,
        overridden,
        overrideRate: settled === 0 ? null : overridden / settled,
        queueTimeMs: { p50: quantile(queueTimes, 0.5), p95: quantile(queueTimes, 0.95), max: queueTimes.at(-1) ?? null },
        appeals: { settled: appealsSettled, overturned, overturnRate: appealsSettled === 0 ? null : overturned / appealsSettled },
        reviewers: [...reviewers.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([reviewer, f]) => ({
            reviewer,
            decisions: f.d,
            accepts: f.a,
            overrides: f.o,
            escalations: f.e,
            agreementWithModel: f.judged === 0 ? null : f.agree / f.judged,
            medianDecideMs: quantile([...f.times].sort((x, y) => x - y), 0.5),
          })),
      };
    },
  };
}
