// `ballast reference build|list`: a service's reference profile from a CSV or JSONL file, stored as statistics.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { BallastError } from '../../errors/index.js';
import { auditEvent, localActor } from '../../governance/index.js';
import {
  DEFAULT_REFERENCE_NAME,
  ReferenceFileReader,
  buildReferenceRecord,
  formatOfPath,
  referenceFeaturesOf,
  referenceFileFormats,
  referenceNamePattern,
  type ReferenceFeature,
  type ReferenceFileFormat,
  type ReferencePass,
  type ReferenceProfileRecord,
  type ReferenceRow,
  type ReferenceSource,
  type SkippedField,
} from '../../monitoring/reference/index.js';
import { newId, type StoredReferenceSummary } from '../../store/index.js';
import { loadConfigFile } from '../config-file.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { localUser, startRuntime, type Runtime } from '../runtime.js';

const namePattern = new RegExp(referenceNamePattern);

export interface ReferenceBuildOptions {
  readonly configPath: string;
  readonly service: string;
  readonly file: string;
  readonly name: string;
  /** From the extension when not given. */
  readonly format?: ReferenceFileFormat;
  readonly labelField?: string;
  readonly predictionField?: string;
  readonly confidenceField?: string;
  readonly dataDir: string;
  readonly redactionKey?: string;
  /** Where the progress bar (a TTY) or the final progress line goes. */
  readonly progress?: { readonly stream: NodeJS.WriteStream; readonly bar: boolean };
}

export interface ReferenceListOptions {
  readonly configPath: string;
  readonly service: string;
  readonly dataDir: string;
  readonly redactionKey?: string;
}

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
  readonly dataDir: (flag?: string) => string;
  readonly dataDirOption: () => Option;
}

/** Adds `reference build` and `reference list` to the program. */
export function registerReferenceCommand(program: Command, { env, out, dataDir, dataDirOption }: Context): void {
  const configOption = () => new Option('-c, --config <file>', `config file [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml');
  const reference = program.command('reference').description("a service's reference profile (its training data kept as statistics), which drift monitors compare live traffic with");

  reference
    .command('build')
    .description('build a reference profile from a CSV (header row) or JSONL file, reading it twice, and store it; the features are the contract\'s annotated input fields (pii fields are never sketched)')
    .argument('<file>', 'the reference data: .csv or .jsonl')
    .requiredOption('-s, --service <name>', 'the service the reference is for')
    .addOption(configOption())
    .option('-n, --name <name>', `the profile's name; monitors use "${DEFAULT_REFERENCE_NAME}"`, DEFAULT_REFERENCE_NAME)
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(referenceFileFormats))
    .option('--label-field <field>', 'the column with the true label')
    .option('--prediction-field <field>', "the column with the model's predicted label")
    .option('--confidence-field <field>', "the column with the model's confidence in [0, 1]")
    .addOption(dataDirOption())
    .action(async (file: string, opts: { service: string; config: string; name: string; format?: ReferenceFileFormat; labelField?: string; predictionField?: string; confidenceField?: string; dataDir?: string }, command: Command) => {
      const format = opts.format ?? formatOfPath(file);
      if (format === undefined) command.error(`error: cannot tell the format of ${file} from its extension; pass --format csv or --format jsonl`);
      if (!namePattern.test(opts.name)) command.error(`error: --name must match ${referenceNamePattern}`);
      await referenceBuildCommand(
        { ...opts, file, format, configPath: opts.config, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey, progress: { stream: process.stderr, bar: process.stderr.isTTY === true } },
        out,
      );
    });

  reference
    .command('list')
    .description("list a service's stored reference profiles, newest first per name")
    .requiredOption('-s, --service <name>', 'the service')
    .addOption(configOption())
    .addOption(dataDirOption())
    .action(async (opts: { service: string; config: string; dataDir?: string }) => {
      await referenceListCommand({ service: opts.service, configPath: opts.config, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey }, out);
    });
}

/** Loads the config, checks the service and opens the runtime (store and compiled services) around `work`. */
async function withService<T>(options: { configPath: string; service: string; dataDir: string; redactionKey?: string }, before: () => void, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfigFile(options.configPath);
  if (!Object.hasOwn(config.services, options.service)) {
    throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${options.service}' in ${options.configPath} (services: ${Object.keys(config.services).join(', ')})` });
  }
  before();
  // Only this service is compiled: another service's adapter secrets (an OpenAI key) are not needed here.
  const runtime = await startRuntime(config, { dataDir: options.dataDir, redactionKey: options.redactionKey, configText: readFileSync(options.configPath, 'utf8'), services: [options.service] });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

function progressReporter(options: ReferenceBuildOptions, size: number) {
  const progress = options.progress;
  const file = path.basename(options.file);
  let pass: ReferencePass = 1;
  let rows = 0;
  let read = 0;
  const bar =
    progress?.bar === true
      ? new cliProgress.SingleBar({ stream: progress.stream, format: 'Reading {file} {bar} {percentage}% | pass {pass}/2 | {rows} rows', hideCursor: true }, cliProgress.Presets.shades_classic)
      : undefined;
  return {
    start: () => bar?.start(Math.max(2 * size, 1), 0, { file, pass, rows }),
    pass(next: ReferencePass) {
      pass = next;
      rows = 0;
    },
    row: () => void rows++,
    bytes(bytes: number) {
      read = bytes;
      bar?.update((pass - 1) * size + bytes, { file, pass, rows });
    },
    /** Ends the bar, or (without a terminal) writes one line of what was read once both passes are done. */
    stop(done: boolean) {
      if (bar !== undefined) {
        bar.update((pass - 1) * size + read, { file, pass, rows });
        bar.stop();
      } else if (done) {
        progress?.stream.write(`Read ${options.file} twice: ${rows} rows, ${size} bytes\n`);
      }
    },
  };
}

/** Builds a reference profile from a file and stores it; prints what it holds. */
export async function referenceBuildCommand(options: ReferenceBuildOptions, out: (line: string) => void): Promise<ReferenceProfileRecord> {
  const format = options.format ?? formatOfPath(options.file);
  if (format === undefined) throw new BallastError('REQUEST_INVALID', { detail: `cannot tell the format of ${options.file}; give csv or jsonl` });
  const file = path.resolve(options.file);
  return withService(
    options,
    // Before the runtime opens: an unreadable file is refused without touching the store.
    () => void new ReferenceFileReader(file, { format }).size(),
    async (runtime) => {
      const service = runtime.services.get(options.service)!;
      const { features, skipped: notSketched } = referenceFeaturesOf(service.contract.inputFields);
      const numericColumns = new Set([...features.filter((f) => f.kind === 'numeric').map((f) => f.name), ...(options.confidenceField === undefined ? [] : [options.confidenceField])]);
      const progress = progressReporter(options, new ReferenceFileReader(file, { format }).size());
      const reader = new ReferenceFileReader(file, { format, numericColumns, onProgress: (read) => progress.bytes(read) });
      let firstPassRows = 0;
      progress.start();
      const { record, skipped } = await buildReferenceRecord(() => rowsOf(reader, features, options, progress.row), {
        service: options.service,
        features,
        id: newId('ref'),
        name: options.name,
        createdAt: new Date().toISOString(),
        source: (rows): ReferenceSource => ({ kind: 'file', path: file, format, rows }),
        onPass: (pass) => progress.pass(pass),
        afterFirstPass: (rows) => {
          firstPassRows = rows;
          if (rows === 0) throw new BallastError('REQUEST_INVALID', { detail: `${file} has no rows` });
          for (const field of [options.labelField, options.predictionField, options.confidenceField]) {
            if (field !== undefined && !reader.columns.has(field)) {
              throw new BallastError('REQUEST_INVALID', { detail: `${file} has no column '${field}' (columns: ${[...reader.columns].slice(0, 50).join(', ')})` });
            }
          }
        },
      }).catch((error: unknown) => {
        progress.stop(false);
        throw error;
      });
      progress.stop(true);
      if (record.rows !== firstPassRows) throw new BallastError('REQUEST_INVALID', { detail: `${file} changed while it was read (${firstPassRows} rows, then ${record.rows}); nothing was stored` });
      const { sketch: _sketch, vocabularies: _vocabularies, calibration: _calibration, ...shown } = record;
      await runtime.store.references.put(record, auditEvent({ actor: localActor(localUser()), action: 'reference.built', resource: { kind: 'reference', id: record.id }, service: record.service, after: record, redact: () => shown, detail: `from ${path.basename(file)}` }));
      for (const line of summarize(record, skippedFields(reader.columns, options, features, notSketched, skipped))) out(line);
      return record;
    },
  );
}

async function* rowsOf(reader: ReferenceFileReader, features: readonly ReferenceFeature[], options: ReferenceBuildOptions, onRow: () => void): AsyncGenerator<ReferenceRow> {
  const { labelField, predictionField, confidenceField } = options;
  for await (const { values } of reader.records()) {
    onRow();
    const input: Record<string, unknown> = {};
    for (const f of features) if (Object.hasOwn(values, f.name)) input[f.name] = values[f.name];
    yield {
      input,
      ...(labelField !== undefined && Object.hasOwn(values, labelField) ? { label: values[labelField] } : {}),
      ...(predictionField !== undefined && Object.hasOwn(values, predictionField) ? { prediction: values[predictionField] } : {}),
      ...(confidenceField !== undefined && Object.hasOwn(values, confidenceField) ? { confidence: values[confidenceField] } : {}),
    };
  }
}

/** Every contract field and file column the profile does not sketch, with the reason. */
function skippedFields(columns: ReadonlySet<string>, options: ReferenceBuildOptions, features: readonly ReferenceFeature[], notSketched: readonly SkippedField[], empty: readonly SkippedField[]): SkippedField[] {
  const roles = new Set([options.labelField, options.predictionField, options.confidenceField].filter((f): f is string => f !== undefined));
  const known = new Set([...features.map((f) => f.name), ...notSketched.map((s) => s.name)]);
  return [
    ...empty.map((s) => (columns.has(s.name) ? s : { name: s.name, reason: 'not a column of the file' })),
    ...notSketched,
    ...[...columns].filter((c) => !known.has(c) && !roles.has(c)).map((name) => ({ name, reason: 'not an annotated input field of the contract' })),
  ];
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function describeFeature(spec: ReferenceProfileRecord['features'][number], record: ReferenceProfileRecord): string {
  switch (spec.kind) {
    case 'numeric':
      return `${count(spec.edges.length - 1, 'bin')} from ${spec.edges[0]} to ${spec.edges.at(-1)}`;
    case 'categorical':
      return `${count(spec.categories.length, 'category', 'categories')} tracked`;
    case 'text':
      return `${count(spec.lengthEdges.length - 1, 'length bin')}, ${count(spec.tokenEdges.length - 1, 'token-count bin')}, vocabulary of ${count(record.vocabularies[spec.name]?.length ?? 0, 'token')}`;
  }
}

function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

function summarize(record: ReferenceProfileRecord, skipped: readonly SkippedField[]): string[] {
  const lines = [`Reference profile '${record.name}' of ${record.service} stored as ${record.id}: ${record.rows} rows from ${describeSource(record.source)}`];
  lines.push(record.features.length === 0 ? 'Features: none (no annotated input field has a usable value)' : 'Features:');
  lines.push(...table(record.features.map((f) => [f.name, f.kind, describeFeature(f, record)])));
  if (skipped.length > 0) {
    lines.push('Skipped:');
    lines.push(...table(skipped.map((s) => [s.name, s.reason])));
  }
  const outputs = record.sketch.output.categories.length;
  lines.push(`Predicted labels: ${outputs === 0 ? 'none' : `${outputs} tracked (${record.sketch.output.categories.join(', ')})`}`);
  lines.push(record.accuracy === null ? 'Accuracy: no row with both a true and a predicted label' : `Accuracy: ${(100 * record.accuracy.accuracy).toFixed(1)}% over ${record.accuracy.labelled} labelled rows`);
  if (record.calibration !== null) lines.push(`Calibration: ${record.calibration.total.reduce((a, b) => a + b, 0)} labelled rows with a confidence`);
  return lines;
}

function describeSource(source: unknown): string {
  const s = source as ReferenceSource;
  if (s?.kind === 'file') return `${s.path} (${s.format})`;
  if (s?.kind === 'window') return `decisions from ${s.since} to ${s.until}`;
  return 'an unknown source';
}

/** Prints a service's stored profiles: the newest of each name is the one in use. */
export async function referenceListCommand(options: ReferenceListOptions, out: (line: string) => void): Promise<StoredReferenceSummary[]> {
  return withService(options, () => {}, async (runtime) => {
    const references = await runtime.store.references.list(options.service);
    if (references.length === 0) {
      out(`No reference profiles for ${options.service}; build one with: ballast reference build --service ${options.service} FILE`);
      return references;
    }
    const rows = [['NAME', 'ID', 'CREATED', 'ROWS', 'SOURCE']];
    references.forEach((r, i) => {
      const latest = i === 0 || references[i - 1]!.name !== r.name;
      rows.push([latest ? r.name : `${r.name} (older)`, r.id, r.createdAt, String(r.rows), describeSource(r.source)]);
    });
    for (const line of table(rows, '')) out(line);
    return references;
  });
}
