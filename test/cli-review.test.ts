// `ballast review …` and `ballast appeals …` (the built command) against a real server on loopback
// with API keys: a reviewer takes an item, someone without the lease is refused, the holder decides,
// the caller files an appeal that another reviewer takes.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../src/cli/exit-codes.js';
import { runCli } from './helpers/run-cli.js';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

describe('ballast review and appeals', () => {
  let t: TestBallast;
  let server: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestBallast(undefined, { auth: 'keys' });
    for (const [principal, role] of [
      ['app', 'decider'],
      ['ana', 'reviewer'],
      ['bo', 'reviewer'],
    ] as const) {
      tokens[principal] = (await t.server.keys.create({ principal, role, kind: principal === 'app' ? 'workload' : 'person' }, { actor: { principal: 'local:test', keyId: null, role: 'admin' } })).token;
    }
    await t.server.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(t.server.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  const cli = (who: string, ...args: string[]) => runCli([...args, '--server', server], { env: { BALLAST_API_KEY: tokens[who]! } });

  // Each step spawns the built CLI (about a second each).
  it('takes, refuses without the lease, decides, shows, and appeals', { timeout: 120_000 }, async () => {
    expect((await cli('ana', 'review', 'next')).stdout).toBe('the queue is empty: nothing you may take\n');
    const answer = await t.server.app.inject({ method: 'POST', url: '/v1/services/loans/decisions', headers: { authorization: `Bearer ${tokens.app}`, 'content-type': 'application/json' }, payload: JSON.stringify({ input: { text: 'unsure case', amount: 500, certainty: 0.5 } }) });
    const decision = answer.json();
    expect(decision.outcome).toBe('review');
    const id = decision.review.id as string;

    const next = await cli('ana', 'review', 'next', '--service', 'loans');
    expect(next.code).toBe(exitCodes.ok);
    expect(next.stdout).toContain(`${id}  decision of decision ${decision.id}  service loans  state claimed`);
    expect(next.stdout).toContain('input: {"text":"unsure case","amount":500,"certainty":0.5}');
    expect(next.stdout).toMatch(/suggestion: \{"label":"approve".*\(confidence 0\.5\)/);
    expect(next.stdout).toMatch(/lease: ana until \S+/);

    // bo does not hold the lease: refused with the problem's code, and nothing is written.
    const refused = await cli('bo', 'review', 'decide', id, '--accept');
    expect(refused.code).toBe(exitCodes.failure);
    expect(refused.stderr).toMatch(/^error: bo does not hold review item .*\[REVIEW_LEASE_LOST\]$/m);
    // A bad verdict is refused before it reaches the store (exit 4, with its pointers).
    const bad = await cli('ana', 'review', 'decide', id, '--override', '--label', '{"label":"deny","score":0.2}');
    expect(bad.code).toBe(exitCodes.invalidInput);
    expect(bad.stderr).toContain('/rationale: an override must say why (required)');
    expect((await cli('ana', 'review', 'decide', id, '--accept', '--escalate')).code).toBe(exitCodes.usage);
    expect((await t.runtime.store.reviews.get(id))?.decisions).toEqual([]);

    const decided = await cli('ana', 'review', 'decide', id, '--override', '--label', '{"label":"deny","score":0.2}', '--rationale', 'income not verified');
    expect(decided.stdout).toBe(`${id}: decided (override)\n`);
    const shown = await cli('app', 'review', 'show', id, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, state: 'decided', outcome: { verdict: 'override', output: { label: 'deny', score: 0.2 }, reviewers: ['ana'] } });
    // The caller's key sees the outcome, not the input.
    expect(JSON.parse(shown.stdout).decision).toBeUndefined();
    expect((await cli('ana', 'review', 'list', '--state', 'decided')).stdout).toMatch(new RegExp(`^${id}  loans +decision decided +priority 0 `, 'm'));
    const stats = await cli('ana', 'review', 'stats', '--service', 'loans');
    expect(stats.stdout).toContain('settled 1: accepted 0, overridden 1; override rate 100.0%');
    expect(stats.stdout).toMatch(/ana +1 decisions \(0 accept, 1 override, 0 escalate\); agreement with the model 0\.0%/);

    const filed = await cli('app', 'appeals', 'file', decision.id, '--statement', 'I sent my payslips', '--reference', 'case-7', '--representative');
    expect(filed.stdout).toMatch(new RegExp(`^filed appeal rvw_\\S+ of ${decision.id}; due \\S+\\n$`));
    const again = await cli('app', 'appeals', 'file', decision.id, '--statement', 'again');
    expect(again.stderr).toContain('[APPEAL_PENDING]');
    // ana decided this decision: the appeal goes to bo.
    expect((await cli('ana', 'review', 'next')).stdout).toBe('the queue is empty: nothing you may take\n');
    const appeal = await cli('bo', 'review', 'next');
    expect(appeal.stdout).toContain('appeal by the representative (reference case-7): I sent my payslips');
    const appealId = /^(rvw_\S+)/.exec(appeal.stdout)![1]!;
    const renewed = await cli('bo', 'review', 'renew', appealId);
    expect(renewed.stdout).toMatch(new RegExp(`^${appealId}: held by bo until \\S+\\n$`));
    // Someone else cannot renew bo's lease.
    expect((await cli('ana', 'review', 'renew', appealId)).stderr).toContain('[REVIEW_LEASE_LOST]');
        expect((await cli('bo', 'review', 'release', appealId)).stdout).toBe(`${appealId}: released (open)\n`);
    const listed = JSON.parse((await cli('app', 'appeals', 'list', decision.id, '--json')).stdout);
    expect(listed.appeals).toMatchObject([{ id: appealId, kind: 'appeal', state: 'open', detail: { filedBy: 'representative', reference: 'case-7' } }]);
  });
});
