import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { AuditLedger } from '../../governance/index.js';
import type { Store, StoredAuditCheckpoint } from '../../store/index.js';
import { limitOf } from './query.js';

interface Deps {
  readonly store: Store;
  readonly ledger: AuditLedger;
}

type EventQuery = { Querystring: { since?: string; until?: string; action?: string; resource?: string; principal?: string; service?: string; after?: string; limit?: string } };

function sizeOf(raw: string | undefined, name: string): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new BallastError('REQUEST_INVALID', { detail: `${name} must be a tree size (a whole number)`, issues: [{ pointer: `/${name}`, code: 'type', message: raw === undefined ? 'is required' : `got '${raw}'` }] });
  }
  return n;
}

const checkpointView = (c: StoredAuditCheckpoint) => ({ id: c.id, createdAt: c.createdAt, treeSize: c.treeSize, rootHash: c.rootHash, note: c.note });

/** The audit log for auditors: events (who did what), oldest first, in pages; checkpoints and proofs of the Merkle log. */
export function registerAuditRoutes(app: FastifyInstance, { store, ledger }: Deps): void {
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

  app.get<{ Querystring: { limit?: string } }>('/v1/audit/checkpoints', async (request) => {
    const checkpoints = await store.audit.listCheckpoints({ limit: request.query.limit === undefined ? 100 : limitOf(request.query.limit), newestFirst: true, withFrontier: false });
    return { verifierKey: ledger.verifierKey, leaves: await store.audit.leafCount(), checkpoints: checkpoints.map(checkpointView) };
  });

  app.post('/v1/audit/checkpoints', async (_request, reply) => {
    const checkpoint = await ledger.checkpoint();
    return reply.code(201).send({ verifierKey: ledger.verifierKey, ...checkpointView(checkpoint) });
  });

  app.get<{ Params: { id: string } }>('/v1/audit/proofs/inclusion/:id', async (request) => ledger.proveInclusion(request.params.id));

  app.get<{ Querystring: { from?: string; to?: string } }>('/v1/audit/proofs/consistency', async (request) => {
    const from = sizeOf(request.query.from, 'from');
    const to = sizeOf(request.query.to, 'to');
    const proof = await ledger.proveConsistency(from, to);
    const [fromCheckpoint, toCheckpoint] = await Promise.all([store.audit.checkpointAt(from), store.audit.checkpointAt(to)]);
    return { ...proof, fromCheckpoint: fromCheckpoint?.note ?? null, toCheckpoint: toCheckpoint?.note ?? null, verifierKey: ledger.verifierKey };
  });
}
