// Dataset export: a service's decisions in [since, until) with their final label and where it came
// from, as JSON lines or CSV, and a manifest whose SHA-256 is taken while the file is written (never
// held in memory), so the registry's trainingData can name the file and its digest.
//
// The final label of a decision, from its feedback rows:
// - within a kind, the newest row wins, in the order every reader uses (createdAt, then id; as
//   monitoring/hub/feedback-effect.ts); if another row supersedes that newest row it was retracted and
//   the kind gives no label (as the fairness rows and reference windows treat a superseded label);
// - across kinds, `appeal` (the re-decision of an appeal) wins over `override` (a reviewer's label),
//   which wins over `label` (ground truth from the caller), whatever their times.
// Note: monitoring counts the newest label row of any kind instead; they differ only when ground truth
// arrives after a human's answer.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { BallastError } from '../errors/index.js';
import type { Outcome, Store, StoredDecision, StoredFeedback } from '../store/index.js';

export const datasetFormats = ['jsonl', 'csv'] as const;
export type DatasetFormat = (typeof datasetFormats)[number];

/** Kinds that can give the final label, weakest first. */
export const labelPrecedence = ['label', 'override', 'appeal'] as const;
export type LabelKind = (typeof labelPrecedence)[number];

export interface LabelProvenance {
  readonly kind: LabelKind;
  /** Who reported it: a system name, a reviewer's principal. */
  readonly source: string | null;
  readonly feedbackId: string;
  readonly at: string;
}

export interface FinalLabel {
  readonly value: unknown;
  readonly provenance: LabelProvenance;
}

export interface DatasetRow {
  readonly decisionId: string;
  readonly createdAt: string;
  readonly version: string | null;
  /** explanation.revision: the configuration revision the decision ran on. */
  readonly revision: number | null;
  /** As stored: already redacted. */
  readonly input: unknown;
  readonly output: unknown;
  readonly outcome: Outcome;
  readonly confidence: number | null;
  /** null: no label. */
  readonly label: unknown;
  readonly provenance: LabelProvenance | null;
}

export interface DatasetExportOptions {
  readonly service: string;
  readonly since: string;
  readonly until: string;
  readonly format: DatasetFormat;
  /** Rows without a label too (default: only labelled ones). */
  readonly includeUnlabeled?: boolean;
  /** The principal the export is for. */
  readonly createdBy: string;
  readonly now?: () => Date;
  /** Decisions per store page (default 1000). */
  readonly pageSize?: number;
}

export interface DatasetManifest {
  readonly service: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly format: DatasetFormat;
  readonly includeUnlabeled: boolean;
  readonly rows: number;
  /** Rows per label provenance kind, and `none` for unlabeled rows. */
  readonly labels: Readonly<Record<LabelKind | 'none', number>>;
  /** Milliseconds spent in store queries. */
  readonly queryMs: number;
  /** SHA-256 hex of the data file's bytes, as `sha256sum` prints it. */
  readonly sha256: string;
  readonly bytes: number;
  /** Column names (csv) or the keys of each JSON line (jsonl). */
  readonly schema: readonly string[];
  readonly labelRule: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export const labelRule = 'newest row per kind (createdAt, id), none if superseded; appeal over override over label';

const fixedColumns = ['decision_id', 'created_at', 'version', 'revision', 'outcome', 'confidence', 'output', 'label', 'label_kind', 'label_source', 'label_feedback_id', 'label_at'] as const;
const jsonlKeys = ['decisionId', 'createdAt', 'version', 'revision', 'input', 'output', 'outcome', 'confidence', 'label', 'provenance'] as const;

function newest(rows: readonly StoredFeedback[]): StoredFeedback | undefined {
  let best: StoredFeedback | undefined;
  for (const f of rows) if (best === undefined || best.createdAt < f.createdAt || (best.createdAt === f.createdAt && best.id < f.id)) best = f;
  return best;
}

/** A decision's final label by the rule at the head of this file, or null. `feedback`: that decision's rows. */
export function finalLabel(feedback: readonly StoredFeedback[]): FinalLabel | null {
  const superseded = new Set(feedback.flatMap((f) => (f.supersedes === null ? [] : [f.supersedes])));
  for (const kind of [...labelPrecedence].reverse()) {
    const head = newest(feedback.filter((f) => f.kind === kind));
    if (head === undefined || superseded.has(head.id)) continue;
    return { value: head.value, provenance: { kind, source: head.source, feedbackId: head.id, at: head.createdAt } };
  }
  return null;
}

/** Checks a window and format as the CLI and the route take them; returns the instants normalised. */
export function checkExportRequest(raw: { readonly since?: string; readonly until?: string; readonly format?: string }): { since: string; until: string; format: DatasetFormat } {
  const instant = (value: string | undefined, name: string): string => {
    if (value === undefined) throw new BallastError('REQUEST_INVALID', { detail: `${name} is required (an ISO 8601 instant)`, issues: [{ pointer: `/${name}`, code: 'required', message: 'missing' }] });
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) throw new BallastError('REQUEST_INVALID', { detail: `${name} must be an ISO 8601 instant`, issues: [{ pointer: `/${name}`, code: 'format', message: `got '${value}'` }] });
    return new Date(ms).toISOString();
  };
  const since = instant(raw.since, 'since');
  const until = instant(raw.until, 'until');
  if (since >= until) throw new BallastError('REQUEST_INVALID', { detail: `since (${since}) must be before until (${until}): the window is [since, until)`, issues: [{ pointer: '/since', code: 'range', message: 'not before until' }] });
  const format = raw.format ?? 'jsonl';
  if (!(datasetFormats as readonly string[]).includes(format)) {
    throw new BallastError('REQUEST_INVALID', { detail: `format must be one of ${datasetFormats.join(', ')}`, issues: [{ pointer: '/format', code: 'enum', message: `got '${format}'` }] });
  }
  return { since, until, format: format as DatasetFormat };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One CSV field, RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A value as CSV text: empty for null/undefined, strings as they are, anything else as JSON. */
function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The export's store reads, timed: decisions page by page with their feedback in one batched query per page. */
class Reader {
  queryMs = 0;
  constructor(
    private readonly store: Store,
    private readonly options: DatasetExportOptions,
  ) {}

  private async timed<T>(work: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work;
    } finally {
      this.queryMs += performance.now() - start;
    }
  }

  /** Pages of the window's decisions, stopping after `last` when given (so two passes see the same rows). */
  async *pages(last?: string): AsyncGenerator<StoredDecision[]> {
    const limit = this.options.pageSize ?? 1000;
    for (let after: string | undefined; ; ) {
      const page = await this.timed(this.store.decisions.list({ service: this.options.service, since: this.options.since, until: this.options.until, limit, ...(after === undefined ? {} : { after }) }));
      const end = last === undefined ? -1 : page.findIndex((d) => d.id === last);
      if (end >= 0) {
        yield page.slice(0, end + 1);
        return;
      }
      if (page.length > 0) yield page;
      if (page.length < limit) return;
      after = page.at(-1)!.id;
    }
  }

  async feedbackOf(page: readonly StoredDecision[]): Promise<Map<string, StoredFeedback[]>> {
    const byDecision = new Map<string, StoredFeedback[]>();
    for (const f of await this.timed(this.store.feedback.listForDecisions(page.map((d) => d.id)))) {
      const list = byDecision.get(f.decisionId) ?? [];
      list.push(f);
      byDecision.set(f.decisionId, list);
    }
    return byDecision;
  }
}

function rowOf(d: StoredDecision, label: FinalLabel | null): DatasetRow {
  const revision = isRecord(d.explanation) && typeof d.explanation.revision === 'number' ? d.explanation.revision : null;
  return { decisionId: d.id, createdAt: d.createdAt, version: d.version, revision, input: d.input, output: d.output, outcome: d.outcome, confidence: d.confidence, label: label?.value ?? null, provenance: label?.provenance ?? null };
}

/**
 * Writes the export to `out` (ended when done) and resolves with its manifest. CSV reads the window
 * twice: first for the input's top-level fields (the columns, in order of first appearance, over every
 * decision of the window), then for the rows, stopping at the last decision the first pass saw.
 */
export async function exportDataset(store: Store, options: DatasetExportOptions, out: Writable): Promise<DatasetManifest> {
  const reader = new Reader(store, options);
  const includeUnlabeled = options.includeUnlabeled ?? false;
  const hash = createHash('sha256');
  let bytes = 0;
  const write = async (text: string): Promise<void> => {
    const chunk = Buffer.from(text, 'utf8');
    hash.update(chunk);
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };

  let inputColumns: string[] = [];
  let last: string | undefined;
  if (options.format === 'csv') {
    const seen = new Set<string>();
    for await (const page of reader.pages()) {
      for (const d of page) if (isRecord(d.input)) for (const k of Object.keys(d.input)) seen.add(k);
      last = page.at(-1)?.id;
    }
    inputColumns = [...seen];
  }
  // Input fields get an `input.` prefix: a field named like a fixed column cannot shadow it.
  const schema = options.format === 'csv' ? [...fixedColumns, ...inputColumns.map((k) => `input.${k}`)] : [...jsonlKeys];
  if (options.format === 'csv') await write(`${schema.map(csvField).join(',')}\r\n`);

  const labels: Record<LabelKind | 'none', number> = { label: 0, override: 0, appeal: 0, none: 0 };
  let rows = 0;
  // In csv mode an empty window has no last id: the second pass must read nothing.
  const pages = options.format === 'csv' && last === undefined ? [] : reader.pages(last);
  for await (const page of pages) {
    const feedback = await reader.feedbackOf(page);
    for (const d of page) {
      const label = finalLabel(feedback.get(d.id) ?? []);
      if (label === null && !includeUnlabeled) continue;
      const row = rowOf(d, label);
      labels[label?.provenance.kind ?? 'none'] += 1;
      rows += 1;
      if (options.format === 'jsonl') {
        await write(`${JSON.stringify(row)}\n`);
      } else {
        const p = row.provenance;
        const input = isRecord(row.input) ? row.input : {};
        const fields = [row.decisionId, row.createdAt, row.version, row.revision, row.outcome, row.confidence, row.output, row.label, p?.kind, p?.source, p?.feedbackId, p?.at, ...inputColumns.map((k) => input[k])];
        await write(`${fields.map((v) => csvField(csvText(v))).join(',')}\r\n`);
      }
    }
  }
  out.end();
  await once(out, 'finish');
  return {
    service: options.service,
    window: { since: options.since, until: options.until },
    format: options.format,
    includeUnlabeled,
    rows,
    labels,
    queryMs: Math.round(reader.queryMs * 1000) / 1000,
    sha256: hash.digest('hex'),
    bytes,
    schema,
    labelRule,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    createdBy: options.createdBy,
  };
}

/** The manifest's path for a data file. */
export function manifestPathOf(file: string): string {
  return `${file}.manifest.json`;
}

/** Exports to `file` and writes `<file>.manifest.json` beside it. */
export async function writeDatasetExport(store: Store, options: DatasetExportOptions, file: string): Promise<{ readonly file: string; readonly manifestFile: string; readonly manifest: DatasetManifest }> {
  const out = createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once('error', (error) => reject(new BallastError('REQUEST_INVALID', { detail: `cannot write the export to '${file}' (${(error as NodeJS.ErrnoException).code ?? error.message})`, cause: error }))));
  failed.catch(() => undefined);
  const manifest = await Promise.race([exportDataset(store, options, out), failed]);
  const manifestFile = manifestPathOf(file);
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { file, manifestFile, manifest };
}
