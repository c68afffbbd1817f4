// Reads reference rows from CSV (header row, csv-parse's streaming parser) or JSONL (one object per
// line), reporting bytes read; every problem is a REQUEST_INVALID naming the file and the line.
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { BallastError } from '../../errors/index.js';

export const referenceFileFormats = ['csv', 'jsonl'] as const;
export type ReferenceFileFormat = (typeof referenceFileFormats)[number];

/** The format a file name implies (`.csv`; `.jsonl`, `.ndjson`), or undefined. */
export function formatOfPath(file: string): ReferenceFileFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

export interface ReferenceFileOptions {
  readonly format: ReferenceFileFormat;
  /** CSV columns whose cells are read as numbers (numeric features, the confidence); other cells stay text. */
  readonly numericColumns?: ReadonlySet<string>;
  /** Called as the file is read, with the bytes read so far in this pass and the file's size. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** One record of the file: its fields (an empty CSV cell is absent) and the line it ends on. */
export interface ReferenceFileRecord {
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

// A decimal number as people write one in CSV, plus the non-finite spellings that sketches count apart.
const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const nonFinite: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '+Infinity': Infinity, '-Infinity': -Infinity };

/** A CSV cell of a numeric column: a number when it reads as one, else the text (counted as invalid by the sketches). */
export function parseNumericCell(cell: string): unknown {
  const text = cell.trim();
  if (decimal.test(text)) return Number(text);
  return Object.hasOwn(nonFinite, text) ? nonFinite[text] : cell;
}

const maxTrackedColumns = 10_000;

/** A CSV or JSONL reference file; `records()` reads it from the start each time it is called. */
export class ReferenceFileReader {
  readonly path: string;
  readonly options: ReferenceFileOptions;
  /** Column names seen in the current read: the CSV header, or the keys of the JSONL objects (up to 10,000). */
  readonly columns = new Set<string>();

  constructor(file: string, options: ReferenceFileOptions) {
    this.path = file;
    this.options = options;
  }

  /** The file's size in bytes; REQUEST_INVALID when it cannot be read. */
  size(): number {
    try {
      const stat = statSync(this.path);
      if (!stat.isFile()) throw new BallastError('REQUEST_INVALID', { detail: `${this.path} is not a file` });
      return stat.size;
    } catch (error) {
      if (error instanceof BallastError) throw error;
      throw this.unreadable(error);
    }
  }

  records(): AsyncGenerator<ReferenceFileRecord> {
    return this.options.format === 'csv' ? this.csv() : this.jsonl();
  }

  private fail(line: number, message: string, cause?: unknown): BallastError {
    return new BallastError('REQUEST_INVALID', { detail: `${this.path} line ${line}: ${message}`, cause });
  }

  private unreadable(error: unknown): BallastError {
    const code = error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : '';
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : error instanceof Error ? error.message : String(error);
    return new BallastError('REQUEST_INVALID', { detail: `cannot read ${this.path}: ${reason}`, cause: error });
  }

  private open(): ReadStream {
    const total = this.size();
    const stream = createReadStream(this.path);
    let read = 0;
    const onProgress = this.options.onProgress;
    if (onProgress !== undefined) {
      stream.on('data', (chunk) => {
        read += chunk.length;
        onProgress(read, total);
      });
    }
    return stream;
  }

  private async *csv(): AsyncGenerator<ReferenceFileRecord> {
    const stream = this.open();
    const parser = stream.pipe(parse({ bom: true, info: true, skip_empty_lines: true }));
    stream.on('error', (error) => parser.destroy(this.unreadable(error)));
    const numeric = this.options.numericColumns ?? new Set<string>();
    let header: string[] | undefined;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (header === undefined) {
          header = record;
          this.columns.clear();
          header.forEach((name, i) => {
            if (name === '') throw this.fail(info.lines, `column ${i + 1} of the header has no name`);
            if (this.columns.has(name)) throw this.fail(info.lines, `the header names column ${JSON.stringify(name)} twice`);
            this.columns.add(name);
          });
          continue;
        }
        const values: Record<string, unknown> = {};
        for (let i = 0; i < header.length; i++) {
          const cell = record[i] as string;
          if (cell === '') continue;
          const name = header[i] as string;
          values[name] = numeric.has(name) ? parseNumericCell(cell) : cell;
        }
        yield { line: info.lines, values };
      }
    } catch (error) {
      if (error instanceof BallastError) throw error;
      const lines = error !== null && typeof error === 'object' && 'lines' in error && typeof error.lines === 'number' ? error.lines : undefined;
      if (lines !== undefined && error instanceof Error) throw this.fail(lines, error.message, error);
      throw this.unreadable(error);
    } finally {
      stream.destroy();
    }
  }

  private async *jsonl(): AsyncGenerator<ReferenceFileRecord> {
    const stream = this.open();
    let failure: unknown;
    stream.on('error', (error) => (failure = error));
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    this.columns.clear();
    try {
      for await (const raw of lines) {
        line++;
        const text = line === 1 && raw.startsWith('\ufeff') ? raw.slice(1) : raw;
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          throw this.fail(line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`, error);
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          throw this.fail(line, `must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
        }
        if (this.columns.size < maxTrackedColumns) for (const key of Object.keys(value)) this.columns.add(key);
        yield { line, values: value as Record<string, unknown> };
      }
      if (failure !== undefined) throw this.unreadable(failure);
    } catch (error) {
      if (error instanceof BallastError) throw error;
      throw this.unreadable(failure ?? error);
    } finally {
      lines.close();
      stream.destroy();
    }
  }
}
