// `ballast dataset export`: a service's decisions with their final labels, from a running server's
// API (the export is audited there, as dataset.exported). The body is streamed to --out while it is
// hashed; the digest must equal the server's manifest, which is written beside it as <out>.manifest.json.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Option, type Command } from 'commander';
import { BallastError, isErrorCode } from '../../errors/index.js';
import { checkExportRequest, datasetFormats, manifestPathOf, type DatasetManifest } from '../../review/index.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

const defaultServer = 'http://127.0.0.1:8080';

export interface DatasetExportFlags {
  readonly server?: string;
  readonly apiKey?: string;
  readonly service: string;
  readonly since: string;
  readonly until: string;
  readonly format: string;
  readonly out: string;
  readonly includeUnlabeled?: boolean;
}

/** Fetches the export to `flags.out`, checks its digest against the manifest, writes the manifest beside it. */
export async function fetchDatasetExport(flags: DatasetExportFlags, apiKey: string | undefined): Promise<DatasetManifest> {
  // Checked here too, so a bad window is named before any request.
  const { since, until, format } = checkExportRequest(flags);
  if (apiKey === undefined) throw new BallastError('AUTH_REQUIRED', { detail: `the export needs an auditor's or admin's API key: --api-key or ${environmentVariables.apiKey}` });
  const url = new URL(`/v1/services/${encodeURIComponent(flags.service)}/dataset`, flags.server ?? defaultServer);
  url.search = new URLSearchParams({ since, until, format, includeUnlabeled: String(flags.includeUnlabeled === true) }).toString();
  let response: Response;
  try {
    response = await fetch(url, { method: 'GET', headers: { authorization: `Bearer ${apiKey}` } });
  } catch (error) {
    throw new BallastError('UPSTREAM_UNAVAILABLE', { detail: `the Ballast server at ${url.origin} could not be reached (is it running? --server)`, cause: error });
  }
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    throw new BallastError(isErrorCode(answer.code) ? answer.code : 'INTERNAL', { detail: typeof answer.detail === 'string' ? answer.detail : `HTTP ${response.status}`, ...(Array.isArray(answer.issues) ? { issues: answer.issues } : {}) });
  }
  const header = response.headers.get('ballast-manifest');
  if (header === null || response.body === null) throw new BallastError('UPSTREAM_MALFORMED_RESPONSE', { detail: 'the server sent no Ballast-Manifest header or no body (an older server?)' });
  const manifest = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as DatasetManifest;
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), tee, createWriteStream(flags.out));
  } catch (error) {
    throw new BallastError('REQUEST_INVALID', { detail: `cannot write the export to '${flags.out}' (${(error as NodeJS.ErrnoException).code ?? String(error)})`, cause: error });
  }
  const actual = hash.digest('hex');
  if (actual !== manifest.sha256) {
    await rm(flags.out, { force: true });
    throw new BallastError('UPSTREAM_MALFORMED_RESPONSE', { detail: `the file received has sha256 ${actual}, not the manifest's ${manifest.sha256}: removed, try again` });
  }
  await writeFile(manifestPathOf(flags.out), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Adds `dataset export` to the program. */
export function registerDatasetCommand(program: Command, { env, out }: Context): void {
  const dataset = program.command('dataset').description("training data from a running server's decision log: decisions with their final labels and where they came from");
  dataset
    .command('export')
    .description('export a service\'s decisions in [since, until) with their final label (appeal over override over ground truth) as JSON lines or CSV, and <out>.manifest.json beside it (rows, label counts, sha256 for trainingData:)')
    .requiredOption('-s, --service <name>', 'the service')
    .requiredOption('--since <time>', 'ISO 8601, inclusive')
    .requiredOption('--until <time>', 'ISO 8601, exclusive')
    .addOption(new Option('--format <format>', 'jsonl or csv').choices(datasetFormats).default('jsonl'))
    .requiredOption('-o, --out <file>', 'the data file to write')
    .option('--include-unlabeled', 'rows without a label too')
    .option('--server <url>', `the server (default ${defaultServer})`)
    .addOption(new Option('--api-key <key>', `an auditor's or admin's key (decisions:read-raw) [env ${environmentVariables.apiKey}]`))
    .option('--json', 'print the manifest as JSON')
    .action(async (opts: DatasetExportFlags & { json?: boolean }) => {
      const manifest = await fetchDatasetExport(opts, opts.apiKey ?? env.apiKey);
      if (opts.json === true) {
        out(JSON.stringify(manifest, null, 2));
        return;
      }
      const l = manifest.labels;
      out(`${manifest.rows} rows of ${manifest.service} [${manifest.window.since}, ${manifest.window.until}) → ${opts.out} (${manifest.format}, ${manifest.bytes} bytes)`);
      out(`labels: ${l.appeal} appeal, ${l.override} override, ${l.label} label${manifest.includeUnlabeled ? `, ${l.none} none` : ''}`);
      out(`sha256 ${manifest.sha256} (checked); manifest ${manifestPathOf(opts.out)}`);
      out(`lineage: trainingData: { ref: ${opts.out}, sha256: ${manifest.sha256}, rows: ${manifest.rows} }`);
    });
}
