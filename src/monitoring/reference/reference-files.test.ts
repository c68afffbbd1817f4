import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BallastError } from '../../errors/index.js';
import { ReferenceFileReader, formatOfPath, parseNumericCell, type ReferenceFileOptions } from './reference-files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ballast-reference-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(p: string, options: ReferenceFileOptions) {
  const reader = new ReferenceFileReader(p, options);
  const records = [];
  for await (const r of reader.records()) records.push(r);
  return { reader, records };
}

async function failure(p: string, options: ReferenceFileOptions): Promise<BallastError> {
  try {
    await readAll(p, options);
  } catch (error) {
    expect(error).toBeInstanceOf(BallastError);
    return error as BallastError;
  }
  throw new Error('expected the read to fail');
}

describe('CSV reference files', () => {
  it('reads a header row, quoted fields, a BOM, CRLF, empty cells as missing, numbers only in numeric columns', async () => {
    const p = file('a.csv', '\ufeffamount,country,text,label\r\n12.5,FR,"hello, ""world""",spam\r\n,,"two\r\nlines",\r\n -3e2 ,007,,ham\r\n\r\nNaN,x,y,1\r\nabc,DE,z,0\r\n');
    const { reader, records } = await readAll(p, { format: 'csv', numericColumns: new Set(['amount']) });
    expect([...reader.columns]).toStrictEqual(['amount', 'country', 'text', 'label']);
    expect(records.map((r) => r.values)).toStrictEqual([
      { amount: 12.5, country: 'FR', text: 'hello, "world"', label: 'spam' },
      { text: 'two\r\nlines' },
      { amount: -300, country: '007', label: 'ham' },
      { amount: NaN, country: 'x', text: 'y', label: '1' },
      { amount: 'abc', country: 'DE', text: 'z', label: '0' },
    ]);
    expect(records[0]!.line).toBe(2);
  });

  it('names the line of a row with the wrong number of cells, an unclosed quote and a bad header', async () => {
    const short = await failure(file('short.csv', 'a,b\n1,2\n3\n4,5\n'), { format: 'csv' });
    expect(short.code).toBe('REQUEST_INVALID');
    expect(short.detail).toMatch(/short\.csv line 3: /);
    const quote = await failure(file('quote.csv', 'a,b\n1,2\n3,"4\n'), { format: 'csv' });
    expect(quote.detail).toMatch(/quote\.csv line 3: .*[Qq]uote/);
    const twice = await failure(file('twice.csv', 'a,b,a\n1,2,3\n'), { format: 'csv' });
    expect(twice.detail).toMatch(/twice\.csv line 1: the header names column "a" twice/);
    const unnamed = await failure(file('unnamed.csv', 'a,,c\n1,2,3\n'), { format: 'csv' });
    expect(unnamed.detail).toMatch(/line 1: column 2 of the header has no name/);
  });

  it('reads a header-only or empty file as no rows', async () => {
    expect((await readAll(file('header.csv', 'a,b\n'), { format: 'csv' })).records).toStrictEqual([]);
    expect((await readAll(file('empty.csv', ''), { format: 'csv' })).records).toStrictEqual([]);
  });

  it('reports progress up to the file size and reads the same rows again on a second pass', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `${i},${i % 7}`).join('\n');
    const p = file('big.csv', `n,k\n${rows}\n`);
    const seen: [number, number][] = [];
    const reader = new ReferenceFileReader(p, { format: 'csv', numericColumns: new Set(['n']), onProgress: (read, total) => seen.push([read, total]) });
    const size = reader.size();
    for (let pass = 0; pass < 2; pass++) {
      let n = 0;
      let wrong = 0;
      for await (const r of reader.records()) if (r.values.n !== n++) wrong++;
      expect([n, wrong]).toStrictEqual([50_000, 0]);
    }
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toStrictEqual([size, size]);
    expect(seen.every(([read, total]) => total === size && read > 0 && read <= size)).toBe(true);
    // Each pass counts up from its first chunk to the size: exactly one drop, between the passes.
    const drops = seen.filter(([read], i) => i > 0 && read < seen[i - 1]![0]).length;
    expect(drops).toBe(1);
    expect(seen.filter(([read]) => read === size)).toHaveLength(2);
    expect([...reader.columns]).toStrictEqual(['n', 'k']);
  });

  it('refuses a missing file or a directory with REQUEST_INVALID', async () => {
    const missing = await failure(path.join(dir, 'nope.csv'), { format: 'csv' });
    expect(missing.detail).toMatch(/cannot read .*nope\.csv: no such file/);
    const directory = await failure(dir, { format: 'jsonl' });
    expect(directory.detail).toMatch(/is not a file/);
  });
});

describe('JSONL reference files', () => {
  it('reads one object per line, with a BOM, CRLF and blank lines, and collects the keys seen', async () => {
    const p = file('a.jsonl', '\ufeff{"amount": 1.5, "text": "hi"}\r\n\r\n   \n{"amount": "2", "label": {"label": "spam"}, "__proto__": 1}\n{"text": null}');
    const { reader, records } = await readAll(p, { format: 'jsonl', numericColumns: new Set(['amount']) });
    expect(records.map((r) => r.line)).toStrictEqual([1, 4, 5]);
    expect(records[0]!.values).toStrictEqual({ amount: 1.5, text: 'hi' });
    // JSON keeps its own types: a string stays a string even in a numeric column.
    expect(records[1]!.values.amount).toBe('2');
    expect(records[1]!.values.label).toStrictEqual({ label: 'spam' });
    expect(Object.getPrototypeOf(records[1]!.values)).toBe(Object.prototype);
    expect(records[2]!.values).toStrictEqual({ text: null });
    expect([...reader.columns]).toStrictEqual(['amount', 'text', 'label', '__proto__']);
  });

  it('names the line number of a bad line', async () => {
    const bad = await failure(file('bad.jsonl', '{"a":1}\n{"a":2}\n\n{"a":\n{"a":4}\n'), { format: 'jsonl' });
    expect(bad.code).toBe('REQUEST_INVALID');
    expect(bad.detail).toMatch(/bad\.jsonl line 4: not valid JSON/);
    const array = await failure(file('array.jsonl', '{"a":1}\n[1,2]\n'), { format: 'jsonl' });
    expect(array.detail).toMatch(/array\.jsonl line 2: must be a JSON object, got an array/);
    const scalar = await failure(file('scalar.jsonl', 'null\n'), { format: 'jsonl' });
    expect(scalar.detail).toMatch(/line 1: must be a JSON object, got null/);
  });
});

describe('formats and cells', () => {
  it('tells the format from the extension', () => {
    expect(formatOfPath('/x/train.CSV')).toBe('csv');
    expect(formatOfPath('a.jsonl')).toBe('jsonl');
    expect(formatOfPath('a.ndjson')).toBe('jsonl');
    expect(formatOfPath('a.json')).toBeUndefined();
    expect(formatOfPath('noext')).toBeUndefined();
  });

  it('reads numeric cells as numbers only when they are written as numbers', () => {
    expect(parseNumericCell('1')).toBe(1);
    expect(parseNumericCell(' -0.5e-3 ')).toBe(-0.0005);
    expect(parseNumericCell('.5')).toBe(0.5);
    expect(parseNumericCell('5.')).toBe(5);
    expect(parseNumericCell('-Infinity')).toBe(-Infinity);
    expect(parseNumericCell('NaN')).toBeNaN();
    for (const text of ['0x10', '1,5', '1e', 'abc', '--1', 'Infinity1', '1 2']) expect(parseNumericCell(text)).toBe(text);
  });
});
