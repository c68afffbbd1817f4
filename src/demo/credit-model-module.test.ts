import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdapter } from '../index.js';
import { creditRequestInput } from './credit-config.js';
import { loadGermanCredit, splitCreditRows } from './credit-data.js';
import moduleDefault, { createModel } from './credit-model-module.js';
import { createCreditPredictor, trainCreditModel } from './credit-model.js';

const dir = mkdtempSync(join(tmpdir(), 'credit-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { train, live } = splitCreditRows(loadGermanCredit());
const weights = trainCreditModel(train);
const weightsPath = join(dir, 'credit-model.json');
writeFileSync(weightsPath, JSON.stringify(weights));
const ctx = (): { signal: AbortSignal; decisionId: string } => ({ signal: new AbortController().signal, decisionId: 'd-1' });

describe('credit-model-module', () => {
  it('is a factory, exported by name and as default, that predicts like the predictor from the JSON', () => {
    expect(moduleDefault).toBe(createModel);
    const model = createModel({ weightsPath });
    const input = creditRequestInput(live[0]!);
    expect(model.predict(input, ctx())).toEqual(createCreditPredictor(weights).predict(input));
    model.close();
    expect(() => model.predict(input, ctx())).toThrow(/closed/);
  });

  it('answers through the real module adapter with output, confidence and attributions', async () => {
    const adapter = await createAdapter({ kind: 'module', path: fileURLToPath(new URL('./credit-model-module.ts', import.meta.url)), export: 'createModel', options: { weightsPath } }, { baseDir: dir, secrets: {} });
    const predictor = createCreditPredictor(weights);
    for (const row of live.slice(0, 20)) {
      const input = creditRequestInput(row);
      const result = await adapter.invoke(input, { signal: AbortSignal.timeout(5000), decisionId: `d-${row.index}` });
      const expected = predictor.predict(input);
      expect(result).toEqual({ output: expected.output, confidence: expected.confidence, attributions: expected.attributions });
      expect(['approve', 'decline']).toContain((result.output as { label: string }).label);
    }
    await adapter.close();
  });

  it('refuses an aborted call and a file that is not credit-model weights', () => {
    const model = createModel({ weightsPath });
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    expect(() => model.predict(creditRequestInput(live[0]!) , { signal: controller.signal, decisionId: 'd-2' })).toThrow('deadline');
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, JSON.stringify({ format: 'ballast-spam-logreg' }));
    expect(() => createModel({ weightsPath: bogus })).toThrow(TypeError);
    expect(() => createModel({ weightsPath: join(dir, 'missing.json') })).toThrow(/ENOENT/);
    expect(() => createModel({} as never)).toThrow(/weightsPath/);
  });
});
