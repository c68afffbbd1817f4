import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalibrationTable } from '../src/monitoring/monitors/calibration-table.js';
import { loadReferenceProfile, referenceSketchKey } from '../src/monitoring/reference/index.js';
import { buildReferenceProfile } from '../src/monitoring/sketches/index.js';
import { openStore } from '../src/store/index.js';
import { runCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

let dir: string;
let config: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-reference-cli-'));
  config = path.join(dir, 'ballast.yaml');
  writeFileSync(config, testConfigYaml());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
// Each test spawns the CLI several times (about 2 s each on a busy machine).
const slow = 90_000;

// The rows as the test means them; the CSV below spells them out with a BOM, quotes, an embedded
// comma, newline and quote, empty cells, a pii column and a column the contract does not know.
const rows = [
  { text: 'good customer', amount: 500, country: 'DE', truth: 'approve', pred: 'approve', conf: 0.93 },
  { text: 'bad, bad "loan"', amount: 1200.5, country: 'FR', truth: 'deny', pred: 'deny', conf: 0.88 },
  { text: 'two\nlines', country: 'DE', truth: 'deny', pred: 'approve', conf: 0.61 },
  { text: 'good', amount: 75, truth: 'approve', pred: 'approve' },
  { amount: 20000, country: 'NL', pred: 'deny', conf: 0.55 },
  { text: 'Grüße 👋', amount: -3, country: 'XX', truth: 'approve', pred: 'approve', conf: 1 },
] as const;

const csv =
  '\ufeff' +
  [
    'text,amount,country,email,colour,truth,pred,conf',
    'good customer,500,DE,a@x.com,red,approve,approve,0.93',
    '"bad, bad ""loan""",1200.5,FR,b@x.com,red,deny,deny,0.88',
    '"two\nlines",,DE,c@x.com,blue,deny,approve,0.61',
    'good,75,,d@x.com,,approve,approve,',
    ',2e4,NL,,green,,deny,0.55',
    'Grüße 👋,-3,XX,e@x.com,red,approve,approve,1',
  ].join('\n') +
  '\n';

describe('ballast reference', () => {
  it('build stores a profile equal to buildReferenceProfile over the same rows, prints a summary, and list shows it', async () => {
    const data = path.join(dir, 'data');
    const file = path.join(dir, 'train.csv');
    writeFileSync(file, csv);
    const r = await runCli(['reference', 'build', '--config', config, '--service', 'loans', '--label-field', 'truth', '--prediction-field', 'pred', '--confidence-field', 'conf', '--data-dir', data, file]);
    expect(r.stderr).toBe(`Read ${file} twice: 6 rows, ${Buffer.byteLength(csv)} bytes\n`);
    expect(r.code).toBe(0);
    const id = /stored as (ref_[0-9A-Z]{26}): 6 rows from /.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    // The vocabulary keeps tokens seen at least twice: `good` and `bad`.
    expect(r.stdout).toMatch(/^ {2}text +text +\d+ length bins?, \d+ token-count bins?, vocabulary of 2 tokens$/m);
    expect(r.stdout).toMatch(/^ {2}amount +numeric +\d+ bins from -3 to 20000$/m);
    expect(r.stdout).toMatch(/^ {2}country +categorical +4 categories tracked$/m);
    expect(r.stdout).toMatch(/^ {2}email +pii: never sketched$/m);
    expect(r.stdout).toMatch(/^ {2}colour +not an annotated input field of the contract$/m);
    expect(r.stdout).not.toMatch(/^ {2}(truth|pred|conf) /m);
    expect(r.stdout).toContain('Accuracy: 80.0% over 5 labelled rows');

    const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
    try {
      const stored = await store.references.get('loans', 'default');
      expect(stored?.id).toBe(id);
      expect(stored?.source).toStrictEqual({ kind: 'file', path: file, format: 'csv', rows: 6 });
      // Independently: the same rows, as objects, through the one-shot builder (the contract's field order).
      const events = rows.map((row) => {
        const { truth: _truth, pred, conf, ...input } = row as Record<string, unknown>;
        return { input, outputLabel: pred, confidence: conf as number | undefined };
      });
      const expected = buildReferenceProfile(
        events,
        [
          { name: 'text', kind: 'text', vocabulary: new Set((stored!.vocabularies as Record<string, string[]>).text) },
          { name: 'amount', kind: 'numeric' },
          { name: 'country', kind: 'categorical' },
        ],
        { key: referenceSketchKey('loans') },
      );
      expect(JSON.stringify(stored!.sketch)).toBe(JSON.stringify(expected.sketch.toJSON()));
      // The emoji is not a token (not a letter, mark or digit).
      expect((stored!.vocabularies as Record<string, string[]>).text).toStrictEqual(['bad', 'good']);
      const calibration = new CalibrationTable();
      for (const row of rows) if ('truth' in row && 'conf' in row) calibration.update(row.conf, row.truth === row.pred, row.pred);
      expect(stored!.calibration).toStrictEqual(calibration.toJSON());
      expect(stored!.accuracy).toStrictEqual({ labelled: 5, correct: 4, accuracy: 0.8 });
      expect(loadReferenceProfile(stored!).config.features.map((f) => f.name)).toStrictEqual(['text', 'amount', 'country']);
    } finally {
      await store.close();
    }

    const again = await runCli(['reference', 'build', '--config', config, '--service', 'loans', '--data-dir', data, '--name', 'no-labels', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Accuracy: no row with both a true and a predicted label');
    const list = await runCli(['reference', 'list', '--config', config, '--service', 'loans', '--data-dir', data]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME +ID +CREATED +ROWS +SOURCE$/);
    expect(lines[1]).toMatch(new RegExp(`^default +${id} +\\S+Z +6 +${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(csv\\)$`));
    expect(lines[2]).toMatch(/^no-labels +ref_/);
  }, slow);

  it('reads JSONL: keys as columns, JSON types kept', async () => {
    const data = path.join(dir, 'data-jsonl');
    const jsonl = path.join(dir, 'live.jsonl');
    writeFileSync(jsonl, '{"text":"good","amount":1,"label":"approve"}\n{"text":"bad","amount":2,"label":"deny"}\n');
    const ok = await runCli(['reference', 'build', '-c', config, '-s', 'loans', '--data-dir', data, '--prediction-field', 'label', '--name', 'jsonl', jsonl]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2 rows from');
    expect(ok.stdout).toMatch(/^ {2}amount +numeric +10 bins from 1 to 2$/m);
    expect(ok.stdout).toContain('Predicted labels: 2 tracked (approve, deny)');
    expect(ok.stdout).toMatch(/^ {2}country +not a column of the file$/m);
  }, slow);

  it('refuses bad files with exit 4 naming the line, and stores nothing', async () => {
    const write = (name: string, content: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const badJson = write('bad.jsonl', '{"text":"a","amount":1}\n\n{"text": oops}\n');
    const badCsv = write('bad.csv', 'text,amount\nfine,1\nshort\n');
    const empty = write('empty.csv', 'text,amount\n');
    const labels = write('labels.csv', 'text,amount,label\nfine,1,approve\n');
    // Independent runs in parallel, each with its own data directory (a fresh database each).
    const dataOf = (file: string) => path.join(dir, `data-${path.basename(file)}`);
    const build = (file: string, ...args: string[]) => runCli(['reference', 'build', '-c', config, '-s', 'loans', '--data-dir', dataOf(file), ...args, file]);
    const [bad, short, none, noColumn, missing] = await Promise.all([build(badJson), build(badCsv), build(empty), build(labels, '--label-field', 'klass'), build(path.join(dir, 'nope.csv'))]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain(`${badJson} line 3: not valid JSON`);
    expect(bad.stderr).toContain('[REQUEST_INVALID]');
    noStack(bad.stderr);
    expect(short.code).toBe(4);
    expect(short.stderr).toContain(`${badCsv} line 3:`);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain(`${empty} has no rows`);
    expect(noColumn.code).toBe(4);
    expect(noColumn.stderr).toContain(`${labels} has no column 'klass' (columns: text, amount, label)`);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('nope.csv: no such file');
    // The last two got as far as the store, and left nothing in it.
    for (const file of [empty, labels]) {
      const store = await openStore({ kind: 'sqlite', path: path.join(dataOf(file), 'ballast.db') });
      expect(await store.references.list('loans')).toStrictEqual([]);
      await store.close();
    }
  }, slow);

  it('exits 3 for a config problem, 2 for an unknown format, 1 for an unknown service', async () => {
    const data = path.join(dir, 'data-usage');
    const file = path.join(dir, 'usage.csv');
    writeFileSync(file, csv);
    const missing = await runCli(['reference', 'build', '-c', path.join(dir, 'nope.yaml'), '-s', 'loans', '--data-dir', data, file]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('CONFIG_NOT_FOUND');
    const txt = path.join(dir, 'train.txt');
    writeFileSync(txt, csv);
    const format = await runCli(['reference', 'build', '-c', config, '-s', 'loans', '--data-dir', data, txt]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format csv');
    expect((await runCli(['reference', 'build', '-c', config, '-s', 'loans', '--data-dir', data, '--format', 'csv', txt])).code).toBe(0);
    const unknown = await runCli(['reference', 'list', '-c', config, '-s', 'nope', '--data-dir', data]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no service named 'nope'");
    noStack(unknown.stderr);
  }, slow);
});
