// Dataset export over HTTP: the data file as the body, its manifest (digest, counts, schema) in the
// Ballast-Manifest header. The export is written to a temporary file first, so the manifest's
// digest is known before the first byte is sent; the file is streamed, never held in memory.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { auditEvent } from '../../governance/index.js';
import { checkExportRequest, writeDatasetExport } from '../../review/index.js';
import type { Store } from '../../store/index.js';
import { actorOf } from './key-routes.js';

type DatasetQuery = { Params: { service: string }; Querystring: { since?: string; until?: string; format?: string; includeUnlabeled?: string } };

/** The manifest header: base64url of the manifest's JSON (header values must be ASCII). */
export const manifestHeader = 'ballast-manifest';

export function registerDatasetRoutes(app: FastifyInstance, deps: { readonly hasService: (service: string) => boolean; readonly store: Store }): void {
  app.get<DatasetQuery>('/v1/services/:service/dataset', async (request, reply) => {
    const { service } = request.params;
    if (!deps.hasService(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}' (GET /v1/services lists them)` });
    const { since, until, format } = checkExportRequest(request.query);
    const flag = request.query.includeUnlabeled ?? 'false';
    if (flag !== 'true' && flag !== 'false') throw new BallastError('REQUEST_INVALID', { detail: "includeUnlabeled must be 'true' or 'false'", issues: [{ pointer: '/includeUnlabeled', code: 'enum', message: `got '${flag}'` }] });
    const actor = actorOf(request);
    const dir = await mkdtemp(path.join(tmpdir(), 'ballast-dataset-'));
    try {
      const file = path.join(dir, `${service}.${format}`);
      const { manifest } = await writeDatasetExport(deps.store, { service, since, until, format, includeUnlabeled: flag === 'true', createdBy: actor.principal }, file);
      // An export of inputs is data access: audited before a byte leaves.
      await deps.store.audit.append(
        auditEvent({ actor, action: 'dataset.exported', resource: { kind: 'dataset', id: `${service}/${manifest.sha256}` }, service, after: { window: manifest.window, format, includeUnlabeled: manifest.includeUnlabeled, rows: manifest.rows, labels: manifest.labels, sha256: manifest.sha256 }, requestId: request.id }),
      );
      const body = createReadStream(file);
      const cleanup = () => void rm(dir, { recursive: true, force: true });
      body.once('close', cleanup);
      return reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header(manifestHeader, Buffer.from(JSON.stringify(manifest), 'utf8').toString('base64url'))
        .header('content-disposition', `attachment; filename="${service}.${format}"`)
        .send(body);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  });
}
