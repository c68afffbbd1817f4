// The dataset export over a real SQLite store: the window, the final label's precedence with superseding
// rows, CSV quoting, a digest that is the file's sha256sum, and the lineage round trip into the registry.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModelRegistry } from '../governance/index.js';
import { openStore, type Store, type StoredFeedback } from '../store/index.js';
import { makeDecision, makeFeedback, tempDir } from '../store/testing/fixtures.js';
import { checkExportRequest, finalLabel, writeDatasetExport, type DatasetExportOptions } from './dataset-export.js';

const since = '2025-01-31T00:00:00.000Z';
const until = '2025-02-01T00:00:00.000Z';
const at = (h: number, m = 0) => new Date(Date.UTC(2025, 0, 31, h, m)).toISOString();

describe('dataset export', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const options = (o: Partial<DatasetExportOptions> = {}): DatasetExportOptions => ({ service: 'spam-filter', since, until, format: 'jsonl', createdBy: 'ana', now: () => new Date('2025-02-02T00:00:00.000Z'), ...o });

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('picks appeal over override over label, the newest per kind, none for a superseded head', () => {
    const fb = (kind: StoredFeedback['kind'], value: unknown, createdAt: string, o: Partial<StoredFeedback> = {}) => makeFeedback('dec_x', { kind, value, createdAt, ...o });
    const l1 = fb('label', 'ham', at(1));
    const l2 = fb('label', 'spam', at(5), { supersedes: l1.id });
    const v1 = fb('override', 'ham', at(2), { source: 'rev:bo' });
    // An override older than the ground truth still wins: a human's answer outranks the caller's label.
    expect(finalLabel([l1, l2, v1])).toMatchObject({ value: 'ham', provenance: { kind: 'override', source: 'rev:bo', feedbackId: v1.id } });
    const a1 = fb('appeal', 'spam', at(3), { supersedes: v1.id, source: 'rev:cy' });
    expect(finalLabel([a1, l1, v1, l2])).toMatchObject({ value: 'spam', provenance: { kind: 'appeal', feedbackId: a1.id, at: at(3) } });
    // A second appeal supersedes the first: the newest appeal wins.
    const a2 = fb('appeal', 'ham', at(4), { supersedes: a1.id });
    expect(finalLabel([l1, v1, a1, a2])?.provenance.feedbackId).toBe(a2.id);
    // Equal times: the larger id is newer (feedback-effect's order).
    const [x, y] = [fb('label', 'a', at(6), { id: 'fb_a' }), fb('label', 'b', at(6), { id: 'fb_b' })];
    expect(finalLabel([y, x])?.value).toBe('b');
    // The newest ground truth retracted (an outcome row superseding it): no label, not the older one.
    expect(finalLabel([l1, l2, fb('outcome', { complaint: true }, at(7), { supersedes: l2.id })])).toBeNull();
    expect(finalLabel([fb('outcome', { override: true }, at(1))])).toBeNull();
  });

  it('exports the window only, labelled rows by default, with provenance; the digest is the file’s sha256sum', async () => {
    const inside = makeDecision({ createdAt: at(10), explanation: { revision: 4 } });
    const unlabeled = makeDecision({ createdAt: at(11) });
    const before = makeDecision({ createdAt: '2025-01-30T23:59:59.999Z' });
    const atUntil = makeDecision({ createdAt: until });
    const other = makeDecision({ service: 'other', createdAt: at(10) });
    for (const d of [inside, unlabeled, before, atUntil, other]) await store.decisions.append(d);
    const override = makeFeedback(inside.id, { kind: 'override', value: 'ham', source: 'rev:bo', createdAt: at(12) });
    for (const f of [makeFeedback(inside.id, { value: 'spam', createdAt: at(13) }), override, makeFeedback(before.id), makeFeedback(atUntil.id), makeFeedback(other.id)]) await store.feedback.append(f);

    const file = path.join(tmp.dir, 'out.jsonl');
    const { manifest, manifestFile } = await writeDatasetExport(store, options(), file);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { decisionId: inside.id, createdAt: at(10), version: 'v1', revision: 4, input: inside.input, output: inside.output, outcome: 'auto', confidence: 0.93, label: 'ham', provenance: { kind: 'override', source: 'rev:bo', feedbackId: override.id, at: at(12) } },
    ]);
    const sha = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    expect(manifest).toMatchObject({ service: 'spam-filter', window: { since, until }, format: 'jsonl', rows: 1, labels: { label: 0, override: 1, appeal: 0, none: 0 }, sha256: sha, createdBy: 'ana', createdAt: '2025-02-02T00:00:00.000Z', bytes: readFileSync(file).length });
    expect(manifest.queryMs).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(manifestFile, 'utf8'))).toEqual(manifest);

    const all = await writeDatasetExport(store, options({ includeUnlabeled: true }), path.join(tmp.dir, 'all.jsonl'));
    expect(all.manifest).toMatchObject({ rows: 2, labels: { override: 1, none: 1 } });
    expect(readFileSync(path.join(tmp.dir, 'all.jsonl'), 'utf8')).toContain(`"decisionId":"${unlabeled.id}"`);
  });

  it('writes RFC 4180 CSV: input fields as columns, nested values as JSON, quotes doubled, pages joined', async () => {
    const tricky = makeDecision({ createdAt: at(1), input: { subject: 'He said "win", now\r\nclick', tags: ['a', 'b'], meta: { n: 1 } } });
    const plain = makeDecision({ createdAt: at(2), input: { subject: 'hi', extra: 7 } });
    const third = makeDecision({ createdAt: at(3), input: { subject: 'x' } });
    for (const d of [tricky, plain, third]) await store.decisions.append(d);
    const labels = [tricky, plain, third].map((d) => makeFeedback(d.id, { value: { label: 'spam, surely' }, createdAt: at(4) }));
    for (const f of labels) await store.feedback.append(f);
    const file = path.join(tmp.dir, 'out.csv');
    const { manifest } = await writeDatasetExport(store, options({ format: 'csv', pageSize: 2 }), file);
    const text = readFileSync(file, 'utf8');
    // The embedded CRLF is inside quotes: split lines 1 and 2 are the first record's halves.
    const [header, first] = text.split('\r\n');
    expect(header).toBe('decision_id,created_at,version,revision,outcome,confidence,output,label,label_kind,label_source,label_feedback_id,label_at,input.subject,input.tags,input.meta,input.extra');
    expect(manifest.schema.join(',')).toBe(header);
    expect(first).toBe(`${tricky.id},${at(1)},v1,,auto,0.93,"{""label"":""spam""}","{""label"":""spam, surely""}",label,reviewer:ana,${labels[0]!.id},${at(4)},"He said ""win"", now`);
    expect(text).toContain(`click","[""a"",""b""]","{""n"":1}",\r\n${plain.id}`);
    expect(text).toContain(',hi,,,7\r\n');
    expect(manifest.rows).toBe(3);
    expect(execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]).toBe(manifest.sha256);
  });

  it('refuses since ≥ until and an unknown format with a pointer', () => {
    expect(() => checkExportRequest({ since: until, until: since })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID', issues: [expect.objectContaining({ pointer: '/since' })] }));
    expect(() => checkExportRequest({ since, until, format: 'parquet' })).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ pointer: '/format' })] }));
    expect(() => checkExportRequest({ since: 'yesterday', until })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    expect(checkExportRequest({ since: '2025-01-31T00:00:00Z', until })).toEqual({ since, until, format: 'jsonl' });
  });

  it('round-trips into the registry: trainingData names the export and its manifest digest, which the registry re-hashes to the same value', async () => {
    const d = makeDecision({ createdAt: at(10) });
    await store.decisions.append(d);
    await store.feedback.append(makeFeedback(d.id, { createdAt: at(11) }));
    const { manifest } = await writeDatasetExport(store, options(), path.join(tmp.dir, 'train.jsonl'));
    writeFileSync(path.join(tmp.dir, 'model.mjs'), 'export default 1;\n');
    const registry = createModelRegistry({ store });
    const actor = { principal: 'ana', keyId: null, role: 'operator' };
    const spec = { adapter: { kind: 'module', path: 'model.mjs' }, trainingData: { ref: 'train.jsonl', sha256: manifest.sha256, rows: manifest.rows } };
    await registry.register({ service: 'spam-filter', name: 'v2', spec, baseDir: tmp.dir }, { actor });
    const stored = await store.registry.get('spam-filter', 'v2');
    expect(stored?.spec).toMatchObject({ trainingData: { ref: 'train.jsonl', sha256: manifest.sha256, rows: 1 } });
    // Without the digest given, the registry hashes the local file itself: the same digest.
    await registry.register({ service: 'spam-filter', name: 'v3', spec: { ...spec, trainingData: { ref: 'train.jsonl' } }, baseDir: tmp.dir }, { actor });
    expect((await registry.get('spam-filter', 'v3'))?.spec.trainingData?.sha256).toBe(manifest.sha256);
    // A digest the file does not have is refused.
    await expect(registry.register({ service: 'spam-filter', name: 'v4', spec: { ...spec, trainingData: { ref: 'train.jsonl', sha256: '0'.repeat(64) } }, baseDir: tmp.dir }, { actor })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
