// Monitoring state over Kysely: sketch deltas and checkpoints, evaluation history, current statuses.
// Low-rate writes, each batch in one transaction on the reading connection (ctx.write).
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { StoredCheckpoint, StoredEvaluation, StoredMonitorStatus, StoredSketch } from './monitoring-records.js';
import type { MonitorEvaluationsTable, MonitorSketchesTable, MonitorStatusTable } from './schema.js';

/** Which sketches to read: one service, windows starting in [since, until). */
export interface SketchQuery {
  readonly service: string;
  readonly since?: string;
  readonly until?: string;
}

/** Which evaluations to read, newest first. */
export interface EvaluationQuery {
  readonly service: string;
  readonly monitor?: string;
  readonly version?: string;
  readonly segment?: string;
  /** Only evaluations of windows starting at or after this instant. */
  readonly windowsSince?: string;
  readonly limit: number;
}

export interface MonitoringRepository {
  /** Writes sketch deltas and the checkpoint that covers them in one transaction. */
  checkpoint(sketches: readonly StoredSketch[], checkpoint: StoredCheckpoint): Promise<void>;
  /** The most recent checkpoint of any writer. */
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  listSketches(query: SketchQuery): Promise<StoredSketch[]>;
  /**
   * Replaces sketch rows by one row holding their merge, in one transaction; resolves false (and
   * changes nothing) when any of them is already gone (another process compacted them first).
   */
  compactSketches(removeIds: readonly string[], merged: StoredSketch): Promise<boolean>;
  /** The distinct window starts with sketches for a service, oldest first (without reading the sketches). */
  listWindowStarts(service: string): Promise<string[]>;
  /** Appends evaluations to the history and sets the statuses they lead to, in one transaction. */
  recordEvaluations(evaluations: readonly StoredEvaluation[], statuses: readonly StoredMonitorStatus[]): Promise<void>;
  /** Newest first, at most `limit` (clamped to 1000). */
  listEvaluations(query: EvaluationQuery): Promise<StoredEvaluation[]>;
  /** Current statuses, of one service or all. */
  listStatuses(service?: string): Promise<StoredMonitorStatus[]>;
}

const json = (value: unknown) => JSON.stringify(value);

/** Thrown inside a compaction's transaction to roll it back when its rows were compacted elsewhere. */
class CompactionRaced extends Error {}

function sketchRow(s: StoredSketch): MonitorSketchesTable {
  checkInstant(s.windowStart, 'windowStart');
  return {
    id: s.id,
    service: s.service,
    version: s.version,
    segment: s.segment,
    window_start: s.windowStart,
    window_end: s.windowEnd,
    reference_id: s.referenceId,
    writer: s.writer,
    created_at: s.createdAt,
    last_event_at: s.lastEventAt,
    events: s.events,
    body: json(s.body),
  };
}

export function createMonitoringRepository(ctx: RepositoryContext): MonitoringRepository {
  return {
    async checkpoint(sketches, checkpoint) {
      checkInstant(checkpoint.createdAt, 'checkpoint.createdAt');
      const rows = sketches.map(sketchRow);
      await ctx.write(async (tx) => {
        // Bounded statements: SQLite allows 32,766 parameters per statement.
        for (let i = 0; i < rows.length; i += 500) await tx.insertInto('monitor_sketches').values(rows.slice(i, i + 500)).execute();
        await tx
          .insertInto('monitor_checkpoints')
          .values({
            id: checkpoint.id,
            writer: checkpoint.writer,
            created_at: checkpoint.createdAt,
            decisions_from: checkpoint.decisionsFrom,
            feedback_from: checkpoint.feedbackFrom,
            seen: json(checkpoint.seen),
          })
          .execute();
      });
    },

    latestCheckpoint: () =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('monitor_checkpoints').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        if (row === undefined) return undefined;
        return {
          id: row.id,
          writer: row.writer,
          createdAt: row.created_at,
          decisionsFrom: row.decisions_from,
          feedbackFrom: row.feedback_from,
          seen: JSON.parse(row.seen) as string[],
        };
      }),

    listSketches: (query) =>
      ctx.read(async (db) => {
        let q = db.selectFrom('monitor_sketches').selectAll().where('service', '=', query.service).orderBy('window_start').orderBy('id');
        if (query.since !== undefined) q = q.where('window_start', '>=', query.since);
        if (query.until !== undefined) q = q.where('window_start', '<', query.until);
        return (await q.execute()).map((r) => ({
          id: r.id,
          service: r.service,
          version: r.version,
          segment: r.segment,
          windowStart: r.window_start,
          windowEnd: r.window_end,
          referenceId: r.reference_id,
          writer: r.writer,
          createdAt: r.created_at,
          lastEventAt: r.last_event_at,
          events: Number(r.events),
          body: JSON.parse(r.body) as unknown,
        }));
      }),

    async compactSketches(removeIds, merged) {
      const row = sketchRow(merged);
      try {
        await ctx.write(async (tx) => {
          let deleted = 0;
          for (let i = 0; i < removeIds.length; i += 500) {
            const result = await tx.deleteFrom('monitor_sketches').where('id', 'in', removeIds.slice(i, i + 500)).executeTakeFirst();
            deleted += Number(result.numDeletedRows);
          }
          if (deleted !== removeIds.length) throw new CompactionRaced();
          await tx.insertInto('monitor_sketches').values(row).execute();
        });
        return true;
      } catch (error) {
        // ctx.write wraps what it does not know in a BallastError; the cause says it was ours.
        if (error instanceof CompactionRaced || (error instanceof Error && error.cause instanceof CompactionRaced)) return false;
        throw error;
      }
    },

    listWindowStarts: (service) =>
      ctx.read(async (db) => {
        const rows = await db.selectFrom('monitor_sketches').select('window_start').distinct().where('service', '=', service).orderBy('window_start').execute();
        return rows.map((r) => r.window_start);
      }),

    async recordEvaluations(evaluations, statuses) {
      const rows: MonitorEvaluationsTable[] = evaluations.map((e) => ({
        id: e.id,
        service: e.service,
        monitor: e.monitor,
        version: e.version,
        segment: e.segment,
        window_start: e.windowStart,
        window_end: e.windowEnd,
        evaluated_at: e.evaluatedAt,
        observed: e.observed,
        state: e.state,
        value: e.value !== null && Number.isFinite(e.value) ? e.value : null,
        body: json(e.body),
      }));
      const statusRows: MonitorStatusTable[] = statuses.map((s) => ({
        service: s.service,
        monitor: s.monitor,
        version: s.version,
        segment: s.segment,
        updated_at: s.updatedAt,
        body: json(s.body),
      }));
      await ctx.write(async (tx) => {
        for (let i = 0; i < rows.length; i += 500) await tx.insertInto('monitor_evaluations').values(rows.slice(i, i + 500)).execute();
        for (const row of statusRows) {
          await tx
            .insertInto('monitor_status')
            .values(row)
            .onConflict((oc) => oc.columns(['service', 'monitor', 'version', 'segment']).doUpdateSet({ updated_at: row.updated_at, body: row.body }))
            .execute();
        }
      });
    },

    listEvaluations: (query) =>
      ctx.read(async (db) => {
        const limit = pageSize(query.limit);
        if (limit === 0) return [];
        let q = db.selectFrom('monitor_evaluations').selectAll().where('service', '=', query.service).orderBy('evaluated_at', 'desc').orderBy('id', 'desc').limit(limit);
        if (query.monitor !== undefined) q = q.where('monitor', '=', query.monitor);
        if (query.version !== undefined) q = q.where('version', '=', query.version);
        if (query.segment !== undefined) q = q.where('segment', '=', query.segment);
        if (query.windowsSince !== undefined) q = q.where('window_start', '>=', query.windowsSince);
        return (await q.execute()).map((r) => ({
          id: r.id,
          service: r.service,
          monitor: r.monitor,
          version: r.version,
          segment: r.segment,
          windowStart: r.window_start,
          windowEnd: r.window_end,
          evaluatedAt: r.evaluated_at,
          observed: r.observed,
          state: r.state,
          value: r.value === null ? null : Number(r.value),
          body: JSON.parse(r.body) as unknown,
        }));
      }),

    listStatuses: (service) =>
      ctx.read(async (db) => {
        let q = db.selectFrom('monitor_status').selectAll().orderBy('service').orderBy('monitor').orderBy('version').orderBy('segment');
        if (service !== undefined) q = q.where('service', '=', service);
        return (await q.execute()).map((r) => ({
          service: r.service,
          monitor: r.monitor,
          version: r.version,
          segment: r.segment,
          updatedAt: r.updated_at,
          body: JSON.parse(r.body) as unknown,
        }));
      }),
  };
}
