import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { Store } from '../../store/index.js';

interface Deps {
  readonly store: Store;
}

type EventQuery = { Querystring: { since?: string; until?: string; action?: string; resource?: string; principal?: string; service?: string; after?: string; limit?: string } };

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new BallastError('REQUEST_INVALID', { detail: 'limit must be an integer from 1 to 1000', issues: [{ pointer: '/limit', code: 'range', message: `got '${raw}'` }] });
  return n;
}

/** The audit log for auditors: events (who did what), oldest first, in pages. */
export function registerAuditRoutes(app: FastifyInstance, { store }: Deps): void {
  app.get<EventQuery>('/v1/audit/events', async (request) => {
    const q = request.query;
    const events = await store.audit.list({
      limit: limitOf(q.limit),
      ...(q.since === undefined ? {} : { since: q.since }),
      ...(q.until === undefined ? {} : { until: q.until }),
      ...(q.action === undefined ? {} : { action: q.action }),
      ...(q.resource === undefined ? {} : { resourceId: q.resource }),
      ...(q.principal === undefined ? {} : { principal: q.principal }),
      ...(q.service === undefined ? {} : { service: q.service }),
      ...(q.after === undefined ? {} : { after: q.after }),
    });
    return { events, next: events.length === 0 ? null : events[events.length - 1]!.id };
  });
}
