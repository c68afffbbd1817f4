// A latency budget on a stage the decision path does not have (`model`) would keep its monitor
// `unknown` forever: it fails validation, at load and in `ballast validate`, with a pointer and the
// names it may use. The example in docs/configuration.md is valid.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../src/cli/config-file.js';
import { resolveMonitoringConfig } from '../src/monitoring/monitors/index.js';
import { stageNames } from '../src/pipeline/index.js';
import { latencyStages } from '../src/server/monitoring-runtime.js';
import { runCli } from './helpers/run-cli.js';
import { startTestBallast, testConfigYaml } from './helpers/test-ballast.js';

const withLatency = (budgets: string) => testConfigYaml().replace('    live: v1\n', `    live: v1\n    monitoring:\n      latency:\n${budgets}`);
const stageList = ['total', ...stageNames].join(', ');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-latency-stages-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('latency budgets name real stages', () => {
  it('the names are total and the decision path\'s stages', () => {
    expect(latencyStages).toStrictEqual(['total', 'validate', 'pre_rules', 'route', 'checkers', 'invoke', 'fallback', 'cross_check', 'post_rules', 'decide', 'explain', 'record']);
  });

  it('an unknown stage fails at load with a pointer to the field and the valid names', async () => {
    const failure = await startTestBallast(withLatency('        total: 250\n        model: { warning: 150, alert: 200 }\n')).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    const problems = (failure as ConfigError).problems;
    expect(problems.map((p) => p.pointer)).toStrictEqual(['/services/loans/monitoring/latency/model']);
    expect(problems[0]!.message).toBe(`there is no stage named 'model'; the stages are ${stageList}`);
  });

  it('`ballast validate` reports it as file:line:col /pointer with the valid names, exit 3', async () => {
    const file = path.join(dir, 'ballast.yaml');
    const text = withLatency('        model: 200\n        invoke: 150\n        queue: { alert: 5 }\n');
    writeFileSync(file, text);
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(3);
    const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(r.stderr).toContain(`${file}:${line('model: 200')}:`);
    expect(r.stderr).toContain(`/services/loans/monitoring/latency/model: there is no stage named 'model'; the stages are ${stageList}`);
    expect(r.stderr).toContain(`${file}:${line('queue: { alert: 5 }')}:`);
    expect(r.stderr).toContain('/services/loans/monitoring/latency/queue');
    expect(r.stderr).not.toContain('/latency/invoke');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 60_000);

  it('real stages load, and the example in docs/configuration.md is valid', async () => {
    const ok = await startTestBallast(withLatency('        total: 250\n        invoke: { warning: 150, alert: 200 }\n        record: 50\n'));
    await ok.close();
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Monitoring\n'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const monitoring = (parse(block) as { services: Record<string, { monitoring: Record<string, unknown> }> }).services['spam-filter']!.monitoring;
    expect(Object.keys(monitoring.latency as object)).toContain('total');
    // `alerts: [ ... ]` stands for the rules documented further on.
    const { alerts: _alerts, ...rest } = monitoring;
    expect(() => resolveMonitoringConfig(rest, { stages: latencyStages })).not.toThrow();
  });
});
