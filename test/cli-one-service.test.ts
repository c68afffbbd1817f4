// A command that acts on one service (`reference build|list`, `decide`) needs that service's
// secrets only: another service's OpenAI key is not asked for. The CLI runs as built (dist/).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

const secret = 'BALLAST_TEST_ASSISTANT_KEY_NEVER_SET';
let dir: string;
let config: string;
let csv: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-one-service-'));
  config = path.join(dir, 'ballast.yaml');
  csv = path.join(dir, 'train.csv');
  writeFileSync(
    config,
    testConfigYaml() +
      `  assistant:
    contract:
      input: { schema: { type: object, required: [q], properties: { q: { type: string } } }, fields: { q: { kind: text } } }
      output: { schema: { type: object, required: [label], properties: { label: { enum: [yes, no] } } } }
    policy:
      thresholds: { auto: 0.8 }
    models:
      v1:
        adapter: { kind: openai, baseUrl: 'http://127.0.0.1:9/v1', model: m, apiKeySecret: ${secret} }
    live: v1
`,
  );
  writeFileSync(csv, 'text,amount\ngood customer,500\nbad customer,1200\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { [secret]: '' };
const slow = 60_000;

describe('commands for one service', () => {
  it('reference build and list for one service do not need another service\'s secret', async () => {
    const data = path.join(dir, 'data');
    const built = await runCli(['reference', 'build', '-c', config, '-s', 'loans', '--data-dir', data, csv], { env });
    expect(built.stderr).not.toContain(secret);
    expect(built.code).toBe(0);
    expect(built.stdout).toContain("Reference profile 'default' of loans stored as");
    const list = await runCli(['reference', 'list', '-c', config, '-s', 'loans', '--data-dir', data], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^default +ref_/m);
  }, slow);

  it('the chosen service\'s own secret is still required, named at its adapter', async () => {
    const r = await runCli(['reference', 'build', '-c', config, '-s', 'assistant', '--data-dir', path.join(dir, 'data-assistant'), csv], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`/services/assistant/models/v1/adapter: The openai adapter needs the secret '${secret}', which is not set.`);
  }, slow);

  it('decide for one service does not need another service\'s secret', async () => {
    const r = await runCli(['decide', '-c', config, '-s', 'loans', '--data-dir', path.join(dir, 'data-decide'), '--input', '{"text":"good customer","amount":500}'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ service: 'loans' });
  }, slow);
});
