// Digests of model versions: files hashed (against an independent SHA-256 of the bytes), urls recorded
// and never fetched, a digest that moves with behaviour and not with metadata, issues that point.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BallastError } from '../../errors/index.js';
import { digestModelVersion, specDifferences } from './model-digest.js';
import type { ModelVersionSpec } from './model-spec.js';

const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

describe('digestModelVersion', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ballast-digest-'));
    writeFileSync(path.join(dir, 'model.mjs'), 'export default () => ({ predict: () => ({}) });\n');
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.from([0, 1, 2, 3, 255]));
    writeFileSync(path.join(dir, 'train.csv'), 'text,label\nhello,ham\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (overrides: Partial<ModelVersionSpec> = {}): ModelVersionSpec => ({
    adapter: { kind: 'module', path: './model.mjs' },
    description: 'v2',
    artifacts: [{ name: 'weights', path: 'weights.bin' }, { name: 'tokenizer', url: 'https://models.example/tok.json' }],
    trainingData: { ref: 'train.csv', rows: 1 },
    evaluation: { metrics: { accuracy: 0.91 } },
    card: { intendedUse: 'spam triage' },
    ...overrides,
  });

  it('fills in each file\'s SHA-256 and the module adapter\'s file, and is deterministic', async () => {
    const a = await digestModelVersion(spec(), { baseDir: dir });
    const b = await digestModelVersion(spec(), { baseDir: dir });
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
    expect(a.spec.artifacts?.[0]?.sha256).toBe(sha(Buffer.from([0, 1, 2, 3, 255])));
    expect(a.spec.trainingData?.sha256).toBe(sha('text,label\nhello,ham\n'));
    expect(a.spec.adapterFile).toEqual({ path: './model.mjs', sha256: sha('export default () => ({ predict: () => ({}) });\n') });
    // The url is kept as given, with no digest: unverified.
    expect(a.spec.artifacts?.[1]).toEqual({ name: 'tokenizer', url: 'https://models.example/tok.json', sha256: null });
    expect(a.unverified).toEqual(['/artifacts/1']);
  });

  it('never downloads a url', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const d = await digestModelVersion(spec({ trainingData: { ref: 'https://data.example/train.parquet', sha256: 'A'.repeat(64) } }), { baseDir: dir });
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
    expect(d.spec.trainingData?.sha256).toBe('a'.repeat(64));
    expect(d.unverified).toEqual(['/artifacts/1']);
  });

  it('moves when one byte of an artifact, the adapter file or the adapter config changes', async () => {
    const base = (await digestModelVersion(spec(), { baseDir: dir })).digest;
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.from([0, 1, 2, 3, 254]));
    const weights = (await digestModelVersion(spec(), { baseDir: dir })).digest;
    expect(weights).not.toBe(base);
    writeFileSync(path.join(dir, 'model.mjs'), 'export default () => ({ predict: () => ({ x: 1 }) });\n');
    const code = (await digestModelVersion(spec(), { baseDir: dir })).digest;
    expect(code).not.toBe(weights);
    const config = (await digestModelVersion(spec({ adapter: { kind: 'module', path: './model.mjs', export: 'other' } }), { baseDir: dir })).digest;
    expect(config).not.toBe(code);
    const url = (await digestModelVersion(spec({ artifacts: [{ name: 'weights', path: 'weights.bin' }, { name: 'tokenizer', url: 'https://models.example/tok.json', sha256: 'b'.repeat(64) }] }), { baseDir: dir })).digest;
    expect(url).not.toBe(code);
  });

  it('does not move with description, evaluation, card or key order', async () => {
    const base = (await digestModelVersion(spec(), { baseDir: dir })).digest;
    const meta = await digestModelVersion(spec({ description: 'other', evaluation: { metrics: { accuracy: 0.5 } }, card: { limits: ['none'] }, trainingData: { ref: 'train.csv', rows: 99, description: 'x' } }), { baseDir: dir });
    expect(meta.digest).toBe(base);
    const reordered = await digestModelVersion({ card: { intendedUse: 'spam triage' }, trainingData: { rows: 1, ref: 'train.csv' }, artifacts: spec().artifacts!, adapter: { path: './model.mjs', kind: 'module' } }, { baseDir: dir });
    expect(reordered.digest).toBe(base);
  });

  it('refuses a given sha256 the file does not have, with a pointer (CONFIG_INVALID)', async () => {
    const wrong = 'c'.repeat(64);
    const error = await digestModelVersion(spec({ artifacts: [{ name: 'weights', path: 'weights.bin', sha256: wrong }] }), { baseDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BallastError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ pointer: '/artifacts/0/sha256', code: 'digest_mismatch' }] });
    // The right one passes.
    const right = sha(Buffer.from([0, 1, 2, 3, 255]));
    await expect(digestModelVersion(spec({ artifacts: [{ name: 'weights', path: 'weights.bin', sha256: right }] }), { baseDir: dir })).resolves.toMatchObject({ spec: { artifacts: [{ sha256: right }] } });
  });

  it('reports every unreadable file with its pointer (MODEL_ARTIFACT_UNREADABLE)', async () => {
    const error = await digestModelVersion(spec({ adapter: { kind: 'module', path: 'gone.mjs' }, trainingData: { ref: 'missing.csv' } }), { baseDir: dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_ARTIFACT_UNREADABLE' });
    expect((error as BallastError).issues.map((i) => i.pointer).sort()).toEqual(['/adapter/path', '/trainingData/ref']);
  });

  it('names what differs between two specs', async () => {
    const a = await digestModelVersion(spec(), { baseDir: dir });
    const b = await digestModelVersion(spec({ card: { intendedUse: 'other' }, artifacts: [{ name: 'weights', path: 'weights.bin' }, { name: 'tokenizer', url: 'https://models.example/tok2.json' }] }), { baseDir: dir });
    expect(specDifferences(a.spec, b.spec)).toEqual(['/artifacts/1', '/card/intendedUse']);
    expect(specDifferences(a.spec, a.spec)).toEqual([]);
  });
});
