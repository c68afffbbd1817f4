// The one-sentence description (package.json, shown by the registry and by `ballast --help`) claims
// only what is built: rollouts, the review queue, approvals and the dashboard are on the roadmap.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { description: string };

describe("Ballast's description", () => {
  it('names no capability that is not built yet', () => {
    expect(pkg.description).toMatch(/^The production harness for AI models: /);
    for (const unbuilt of [/rollout/i, /canary/i, /shadow/i, /review/i, /approval/i, /dashboard/i, /rollback/i]) expect(pkg.description).not.toMatch(unbuilt);
    for (const built of ['contracts', 'decision policy', 'explanations', 'decision log', 'circuit breakers', 'fallbacks', 'monitoring']) expect(pkg.description).toContain(built);
  });

  it('is what `ballast --help` says Ballast is', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(pkg.description);
  });
});
