// `ballast drill` over a real config: the version's server is replaced by a fake that fails on
// purpose, and what the chain and the breaker did is printed, a line per decision.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-drill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = path.join(dir, 'ballast.yaml');
writeFileSync(
  config,
  `services:
  spam:
    contract:
      input: { schema: { type: object, required: [text], properties: { text: { type: string } } } }
      output: { schema: { type: object, required: [label], properties: { label: { enum: [spam, ham] } } } }
    policy: { thresholds: { auto: 0.8 } }
    models:
      v1:
        adapter: { kind: http, url: 'http://127.0.0.1:9/predict', request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: /score } }
        resilience: { timeouts: { totalMs: 300 }, breaker: { minimumCalls: 3, window: { calls: 5 } } }
    live: v1
    resilience:
      fallback:
        - rules: [{ name: free-is-spam, when: 'input.text.contains("free")', output: { label: '"spam"' } }]
        - static: { label: ham }
`,
);

describe('ballast drill', () => {
  it('a hanging model: each decision answered by the chain, retried once, until the breaker opens and the model is no longer called', async () => {
    const r = await runCli(['drill', '-c', config, '-s', 'spam', '--fault', 'hang', '-i', '{"text":"win free stuff"}', '-n', '5']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Drill: spam\/v1 through a fake that accepts the connection, reads the request, never answers \(hang, at http:\/\/127\.0\.0\.1:\d+\/predict\)$/);
    expect(lines[1]).toMatch(/^#1 fallback answered by fallback step 1 \(rules\(free-is-spam\)\) in \d+ ms; calls: v1#1 UPSTREAM_TIMEOUT 3\d\dms, v1#2 UPSTREAM_TIMEOUT 3\d\dms/);
    expect(lines[5]).toMatch(/^#5 fallback answered by fallback step 1 .* calls: v1#1 CIRCUIT_OPEN 0ms; breakers: v1 open$/);
    expect(r.stdout).toContain('Outcomes: fallback 5; the fake model received 3 requests');
    expect(r.stdout).toContain('Breaker of v1: open (3 calls in the window, 100% failed)');
  });

  it('a model that fails every other call recovers by retrying; a rules step that does not match hands over to the static output', async () => {
    const r = await runCli(['drill', '-c', config, '-s', 'spam', '--fault', 'flaky', '-i', '{"text":"hello"}', '-n', '1', '--answer', '{"label":"ham","score":0.95}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/#1 auto +answered by v1 in \d+ ms; calls: v1#1 UPSTREAM_SERVER_ERROR \d+ms, v1#2 ok \d+ms/);
    const violated = await runCli(['drill', '-c', config, '-s', 'spam', '--fault', 'violate', '-i', '{"text":"hello"}', '-n', '1']);
    expect(violated.stdout).toMatch(/#1 fallback answered by fallback step 2 \(static\) .*calls: v1#1 CONTRACT_INVALID_OUTPUT \d+ms; steps that did not answer: rules\(free-is-spam\): FALLBACK_NO_RULE_MATCHED/);
  });

  it('refuses an unknown fault with the list of those it knows', async () => {
    const r = await runCli(['drill', '-c', config, '-s', 'spam', '--fault', 'explode', '-i', '{"text":"x"}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown fault 'explode'; one of: hang, refuse/);
  });
});
