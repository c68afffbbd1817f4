// OpenAPI path of the dataset export.
import { datasetFormats } from '../review/index.js';

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

export const datasetPaths = {
  '/v1/services/{service}/dataset': {
    get: {
      operationId: 'exportDataset',
      summary:
        "The service's decisions made in [since, until) with their final label (the newest appeal, else the newest reviewer override, else the newest ground-truth label; a superseded newest row gives none) and its provenance, as JSON lines or CSV (input fields as input.<name> columns, nested values as JSON, RFC 4180). Inputs are as stored (redacted). The manifest (row count, label counts per provenance, query time, the body's SHA-256, schema, who and when) is the Ballast-Manifest header, base64url of its JSON. Every export is an audit event (dataset.exported).",
      parameters: [
        { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'since', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
        { name: 'until', in: 'query', required: true, schema: { type: 'string', format: 'date-time' }, description: 'Exclusive' },
        { name: 'format', in: 'query', schema: { enum: datasetFormats, default: 'jsonl' } },
        { name: 'includeUnlabeled', in: 'query', schema: { enum: ['true', 'false'], default: 'false' } },
      ],
      responses: {
        200: {
          description: 'The data file',
          headers: { 'Ballast-Manifest': { description: 'base64url of the manifest JSON', schema: { type: 'string' } } },
          content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } },
        },
        400: problemResponse('REQUEST_INVALID (a missing or bad since/until, since not before until, an unknown format)'),
        404: problemResponse('SERVICE_NOT_FOUND'),
      },
    },
  },
};
