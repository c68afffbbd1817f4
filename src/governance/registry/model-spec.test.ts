// The spec's schema compiles in strict mode, takes a full spec and points at what is wrong.
import { describe, expect, it } from 'vitest';
import { createSchemaValidator } from '../../contracts/index.js';
import { modelVersionSpecDocumentSchema, specOfModelConfig } from './model-spec.js';

describe('modelVersionSpecSchema', () => {
  const validate = createSchemaValidator(modelVersionSpecDocumentSchema as unknown as Record<string, unknown>);

  it('takes a full spec', () => {
    const result = validate({
      adapter: { kind: 'module', path: 'm.mjs' },
      artifacts: [{ name: 'w', path: 'w.bin', sha256: 'a'.repeat(64) }, { name: 't', url: 'https://x.example/t' }],
      trainingData: { ref: 'train.csv', rows: 10 },
      evaluation: { dataset: 'holdout', metrics: { accuracy: 0.9 }, subgroups: { fr: { accuracy: 0.8 } } },
      card: { intendedUse: 'triage', limits: ['english only'], owners: ['ana'], extra: 'kept' },
    });
    expect(result.ok).toBe(true);
  });

  it('refuses an artifact with neither path nor url, a bad sha256 and a non-numeric metric', () => {
    const result = validate({ adapter: { kind: 'http' }, artifacts: [{ name: 'w' }], trainingData: { ref: 'x', sha256: 'XYZ' }, evaluation: { metrics: { accuracy: 'high' } } });
    expect(result.ok).toBe(false);
    const pointers = result.ok ? [] : result.issues.map((i) => i.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/artifacts/0', '/trainingData/sha256', '/evaluation/metrics/accuracy']));
  });

  it('takes the spec out of a config model block, without its operational settings', () => {
    expect(specOfModelConfig({ adapter: { kind: 'http', url: 'http://m' }, timeoutMs: 500, resilience: { retries: 1 }, card: { owners: ['ana'] } })).toEqual({ adapter: { kind: 'http', url: 'http://m' }, card: { owners: ['ana'] } });
  });
});
