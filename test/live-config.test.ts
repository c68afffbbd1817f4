// Live configuration: apply validates, plans and swaps a whole revision without a restart; a request
// runs on exactly one revision from its first stage to its last, even while revisions change under load.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBallast, startTestBallastIn, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const actor = { principal: 'p-operator', keyId: null, role: 'operator' };

/** A configuration whose pre and post rules both name `tag`, so a decision shows which revision each stage ran on. */
const tagged = (tag: string) =>
  testConfigYaml({
    extraRules: `        - { name: pre-${tag.toLowerCase()}, stage: pre, when: 'true', action: flag, reason: 'pre ${tag}' }
        - { name: post-${tag.toLowerCase()}, stage: post, when: 'true', action: flag, reason: 'post ${tag}' }`,
  });

describe('live configuration', () => {
  let t: TestBallast;
  const decide = (amount = 500) => t.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ input: { text: 'hello world', amount } }) });
  const apply = (config: string, extra: Record<string, unknown> = {}) => t.server.app.inject({ method: 'POST', url: '/v1/config', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ config, source: 'test.yaml', ...extra }) });

  beforeAll(async () => {
    t = await startTestBallast(tagged('A'));
  });
  afterAll(async () => {
    await t.close();
  });

  it('serve --config is revision 1, and every decision records the revision it was made under', async () => {
    const list = (await t.server.app.inject({ method: 'GET', url: '/v1/revisions' })).json();
    expect(list.running).toBe(1);
    expect(list.revisions.map((r: { number: number }) => r.number)).toEqual([1]);
    const d = (await decide()).json();
    expect(d.explanation.revision).toBe(1);
  });

  it('plans without applying on a dry run, and applies the same file as the next revision', async () => {
    const dry = await apply(tagged('B'), { dryRun: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json().applied).toBe(false);
    expect(dry.json().revision).toBe(1);
    expect(dry.json().plan.changes.map((c: { path: string }) => c.path)).toEqual(['/services/loans/policy/rules']);
    expect((await decide()).json().explanation.revision).toBe(1);

    const done = await apply(tagged('B'), { reason: 'tag B' });
    expect(done.json()).toMatchObject({ applied: true, revision: 2 });
    const d = (await decide()).json();
    expect(d.explanation.revision).toBe(2);
    expect(d.explanation.rules.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['pre-b', 'post-b']));

    const again = await apply(tagged('B'));
    expect(again.json()).toMatchObject({ applied: false, revision: 2, plan: { changes: [] } });
  });

  it('refuses a bad file whole, with the validate errors, and keeps serving the running revision', async () => {
    const bad = tagged('C').replace('thresholds: { auto: 0.8, reject: 0.2 }', 'thresholds: { auto: "high", reject: 0.2 }').replace("when: 'true', action: flag, reason: 'post C'", "when: 'input.nope +', action: flag, reason: 'post C'");
    const refused = await apply(bad);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('CONFIG_INVALID');
    expect(refused.json().issues.some((i: { pointer: string }) => i.pointer.startsWith('/services/loans/policy/thresholds'))).toBe(true);
    const d = (await decide()).json();
    expect(d.explanation.revision).toBe(2);
  });

  it('refuses a change only a restart applies (a monitoring block, a new service), naming each path', async () => {
    const withMonitoring = tagged('B').replace('    live: v1\n', '    live: v1\n    monitoring: {}\n');
    const refused = await apply(withMonitoring);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('CONFIG_RESTART_REQUIRED');
    expect(refused.json().issues.map((i: { pointer: string }) => i.pointer)).toEqual(['/services/loans/monitoring']);
  });

  it('refuses an apply planned against a revision that is no longer running', async () => {
    const stale = await apply(tagged('D'), { expectRevision: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('CONFIG_CONFLICT');
  });

  it('re-applying an old revision makes a new one, and every apply is audited', async () => {
    const re = await t.server.app.inject({ method: 'POST', url: '/v1/revisions/1/apply', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ reason: 'back to A' }) });
    expect(re.json()).toMatchObject({ applied: true, revision: 3 });
    expect((await decide()).json().explanation.rules.map((r: { name: string }) => r.name)).toContain('pre-a');
    const shown = (await t.server.app.inject({ method: 'GET', url: '/v1/revisions/3' })).json();
    expect(shown).toMatchObject({ number: 3, source: 'revision 1', running: true, basedOn: 2 });
    expect(shown.text).toBe(tagged('A'));
    const events = await t.runtime.store.audit.list({ limit: 100 });
    const applied = events.filter((e) => e.action.startsWith('config.'));
    expect(applied.map((e) => [e.action, e.resource.id])).toEqual([
      ['config.applied', '1'],
      ['config.applied', '2'],
      ['config.reapplied', '3'],
    ]);
    expect((await t.server.app.inject({ method: 'GET', url: '/v1/revisions/99' })).json().code).toBe('REVISION_NOT_FOUND');
  });

  it('under concurrent load, no decision mixes two revisions', async () => {
    const base = t.runtime.catalog.revision;
    const tags = ['E', 'F', 'G', 'H', 'I', 'J'];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
    const responses: { json(): any }[] = [];
    let applying = true;
    // Eight callers decide in a loop while the revisions change under them.
    const callers = Array.from({ length: 8 }, async () => {
      while (applying) responses.push(await decide());
    });
    for (const tag of tags) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      await t.runtime.live.apply({ text: tagged(tag), source: 'load.yaml', actor });
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
    applying = false;
    await Promise.all(callers);
    const seen = new Map<number, Set<string>>();
    for (const response of responses) {
      const d = response.json();
      const tagsSeen = new Set((d.explanation.rules as { name: string }[]).filter((r) => /^(pre|post)-/.test(r.name)).map((r) => r.name.split('-')[1]!.toUpperCase()));
      // Both rules fired, from the same revision.
      expect(tagsSeen.size).toBe(1);
      const tag = [...tagsSeen][0]!;
      const revision = d.explanation.revision as number;
      const expected = revision === base ? 'A' : tags[revision - base - 1];
      expect(tag).toBe(expected);
      seen.set(revision, (seen.get(revision) ?? new Set()).add(tag));
    }
    // The load spanned several revisions.
    expect(seen.size).toBeGreaterThan(2);
    expect(t.runtime.catalog.revision).toBe(base + tags.length);
  });

  it('keeps a breaker forced open across an apply that does not change its version', async () => {
    const version = t.runtime.catalog.get('loans')!.versions.get('v1')!;
    version.forceBreaker('open', 'test');
    await t.runtime.live.apply({ text: tagged('K'), source: 'k.yaml', actor });
    const after = t.runtime.catalog.get('loans')!.versions.get('v1')!;
    expect(after).toBe(version);
    expect(after.breaker!.snapshot().state).toBe('open');
    after.forceBreaker('closed', 'test');
  });
});

describe('a restart after the configuration changed on the running server', () => {
  it('resumes the newer revision instead of undoing it with the older file; a changed file is a new revision', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-restart-'));
    try {
      const file = tagged('A');
      let t = await startTestBallastIn(dir, file);
      // A change applied to the server (as a rollout's promotion is): revision 2, not in the file.
      await t.runtime.live.apply({ text: tagged('B'), source: 'b.yaml', actor });
      expect(t.runtime.catalog.revision).toBe(2);
      await t.close();

      // The same file again: revision 2 keeps serving, and no revision is added.
      t = await startTestBallastIn(dir, file);
      expect(t.runtime.catalog.revision).toBe(2);
      const d = (await t.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ input: { text: 'hello world', amount: 500 } }) })).json();
      expect(d.explanation.revision).toBe(2);
      expect((d.explanation.rules as { name: string }[]).map((r) => r.name)).toContain('pre-b');
      expect((await t.runtime.store.revisions.latest())?.number).toBe(2);
      await t.close();

      // Another file is a deliberate change: it is the next revision and serves.
      t = await startTestBallastIn(dir, tagged('C'));
      expect(t.runtime.catalog.revision).toBe(3);
      await t.close();
      // The first file again, after a start with another file: a deliberate change too, revision 4.
      t = await startTestBallastIn(dir, file);
      expect(t.runtime.catalog.revision).toBe(4);
      await t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
