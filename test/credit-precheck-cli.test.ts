// The demo's credit-precheck service block, written to a config file as the demo will write it, passes
// `ballast validate` and decides through the built CLI (dist/: run `npm run build` first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_LARGE_AMOUNT, CREDIT_SERVICE, creditRequestInput, creditServiceConfig } from '../src/demo/credit-config.js';
import { loadGermanCredit, splitCreditRows } from '../src/demo/credit-data.js';
import { trainCreditModel } from '../src/demo/credit-model.js';
import { runCli } from './helpers/run-cli.js';

const builtModule = fileURLToPath(new URL('../dist/demo/credit-model-module.js', import.meta.url));
let dir: string;
let file: string;
const { train, live } = splitCreditRows(loadGermanCredit());

const write = (name: string, block: Record<string, unknown>): string => {
  const target = path.join(dir, name);
  writeFileSync(target, stringify({ version: 1, services: { [CREDIT_SERVICE]: block } }, { lineWidth: 0 }));
  return target;
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-credit-'));
  const weightsPath = path.join(dir, 'credit-model.json');
  writeFileSync(weightsPath, JSON.stringify(trainCreditModel(train)));
  file = write('ballast.yaml', creditServiceConfig(weightsPath, { modulePath: builtModule }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('credit-precheck through the CLI', () => {
  it('validate accepts the block, stakes, fairness and segments included', async () => {
    const r = await runCli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is valid: 1 service (credit-precheck)');
  });

  it('validate refuses a fairness field the contract does not have (raw age is not sent)', async () => {
    const block = creditServiceConfig(path.join(dir, 'credit-model.json'), { modulePath: builtModule });
    const bad = write('bad.yaml', { ...block, fairness: { favourable: { pointer: '/label', equals: 'approve' }, fields: ['age'] } });
    const r = await runCli(['validate', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('fairness/fields/0');
    expect(r.stderr).toContain("'age' is not a field of the input contract");
  });

  it('decide answers approve or decline; a large loan goes to high-stakes review', async () => {
    const data = path.join(dir, 'data');
    const input = creditRequestInput(live[0]!);
    const ok = await runCli(['decide', '--config', file, '--service', CREDIT_SERVICE, '--input', JSON.stringify(input), '--data-dir', data]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const decision = JSON.parse(ok.stdout) as { outcome: string; output: { label: string; good_probability: number } };
    expect(['approve', 'decline']).toContain(decision.output.label);
    expect(decision.output.good_probability).toBeGreaterThanOrEqual(0);
    const large = await runCli(['decide', '--config', file, '--service', CREDIT_SERVICE, '--input', JSON.stringify({ ...input, credit_amount: CREDIT_LARGE_AMOUNT + 1 }), '--data-dir', data]);
    expect(large.code).toBe(0);
    const reviewed = JSON.parse(large.stdout) as { outcome: string; reasons: { code: string }[] };
    expect(reviewed.outcome).toBe('review');
    expect(reviewed.reasons.map((r) => r.code)).toContain('large-amount');
  });
});
