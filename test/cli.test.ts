import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { runCli, startCli } from './helpers/run-cli.js';
import { keywordModelPath, testConfigYaml } from './helpers/test-ballast.js';

let dir: string;
let good: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-cli-'));
  good = path.join(dir, 'ballast.yaml');
  writeFileSync(good, testConfigYaml());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('ballast CLI', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['serve', 'validate', 'decide', 'demo']) expect(r.stdout).toContain(command);
  });

  it('an unknown command or option exits 2 with a hint', async () => {
    const r = await runCli(['serv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/i);
    expect((await runCli(['serve', '--prot', '1'])).code).toBe(2);
  });

  it('validate accepts a good file', async () => {
    const r = await runCli(['validate', good]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is valid: 1 service (loans)');
  });

  it('validate names file, line, column and path of every problem, without a stack trace', async () => {
    const bad = path.join(dir, 'bad.yaml');
    const text = testConfigYaml().replace('thresholds: { auto: 0.8, reject: 0.2 }', 'thresholds: { auto: 1.8, reject: 0.2 }').replace('live: v1', 'live: v1\n    colour: blue');
    writeFileSync(bad, text);
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(3);
    const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(r.stderr).toContain(`${bad}:${line('auto: 1.8')}:`);
    expect(r.stderr).toContain('/services/loans/policy/thresholds/auto');
    expect(r.stderr).toContain('/services/loans/colour');
    noStack(r.stderr);
  });

  it('validate reports a CEL syntax error at the rule', async () => {
    const bad = path.join(dir, 'bad-rule.yaml');
    const text = testConfigYaml().replace(`input.amount > 200000`, `input.amount >> 200000`);
    writeFileSync(bad, text);
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/services/loans/policy/rules/1/when');
    const line = text.split('\n').findIndex((l) => l.includes('>> 200000')) + 1;
    expect(r.stderr).toContain(`${bad}:${line}:`);
    noStack(r.stderr);
  });

  it('validate reports YAML syntax errors and missing files', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'services:\n  loans: [\n');
    const r = await runCli(['validate', broken]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${broken}:`);
    const missing = await runCli(['validate', path.join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('CONFIG_NOT_FOUND');
    noStack(missing.stderr);
  });

  it('decide makes one decision from the shell and exits 4 on invalid input', async () => {
    const data = path.join(dir, 'decide-data');
    const ok = await runCli(['decide', '--config', good, '--service', 'loans', '--input', '{"text":"fine","amount":500}', '--data-dir', data]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const decision = JSON.parse(ok.stdout);
    expect(decision.outcome).toBe('auto');
    const piped = await runCli(['decide', '--config', good, '--service', 'loans', '--data-dir', data], { input: '{"text":"bad","amount":500}' });
    expect(JSON.parse(piped.stdout).output.label).toBe('deny');
    const invalid = await runCli(['decide', '--config', good, '--service', 'loans', '--input', '{"text":1}', '--data-dir', data]);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain('CONTRACT_INVALID_INPUT');
    expect(invalid.stderr).toContain('/input/amount');
    noStack(invalid.stderr);
    const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
    expect(await store.decisions.get(decision.id)).toMatchObject({ id: decision.id, outcome: 'auto' });
    await store.close();
  });

  it('serve answers on a real socket; SIGTERM finishes in-flight decisions, flushes and exits 0', async () => {
    const data = path.join(dir, 'serve-data');
    const server = await startCli(['serve', '--config', good, '--port', '0', '--data-dir', data, '--log-level', 'warn'], /on (http:\/\/127\.0\.0\.1:\d+)/);
    const url = server.match[1]!;
    const health = await request(`${url}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    // The first start on an empty data directory made an admin key and printed it once.
    const adminKey = /created the first admin key bk_\w+ \(principal admin\); it is shown only now:\n {2}(bk_[0-9a-z]{10}_[\w-]{43})\n/.exec(server.output())![1]!;
    const anonymous = await request(`${url}/v1/services`);
    expect(anonymous.statusCode).toBe(401);
    expect(((await anonymous.body.json()) as { code: string }).code).toBe('AUTH_REQUIRED');
    const inFlight = request(`${url}/v1/services/loans/decisions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` }, body: JSON.stringify({ input: { text: 'slow300', amount: 500 } }) });
    await new Promise((r) => setTimeout(r, 100));
    server.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.statusCode).toBe(200);
    const decision = (await answer.body.json()) as { id: string; outcome: string };
    expect(decision.outcome).toBe('auto');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('decision log flushed');
    await expect(request(`${url}/healthz`)).rejects.toThrow();
    const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
    expect((await store.decisions.get(decision.id))?.outcome).toBe('auto');
    const [created] = await store.audit.list({ action: 'key.created', limit: 10 });
    expect(created).toMatchObject({ actor: { principal: expect.stringMatching(/^local:/), role: 'admin' }, resource: { kind: 'api_key', id: adminKey.slice(0, 13) } });
    await store.close();

    // A second start on the same data directory makes no new key.
    const again = await startCli(['serve', '--config', good, '--port', '0', '--data-dir', data, '--log-level', 'warn'], /on (http:\/\/127\.0\.0\.1:\d+)/);
    expect(again.output()).not.toContain('first admin key');
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('--insecure-no-auth serves without keys on loopback only, with a warning at every start', async () => {
    const refused = await runCli(['serve', '--config', good, '--port', '0', '--host', '0.0.0.0', '--insecure-no-auth', '--data-dir', path.join(dir, 'open')]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--insecure-no-auth is only allowed on a loopback address');
    const server = await startCli(['serve', '--config', good, '--port', '0', '--insecure-no-auth', '--data-dir', path.join(dir, 'open'), '--log-level', 'warn'], /on (http:\/\/127\.0\.0\.1:\d+)/);
    expect(server.output()).toContain('WARNING: serving WITHOUT authentication');
    const listed = await request(`${server.match[1]!}/v1/services`);
    expect(listed.statusCode).toBe(200);
    await listed.body.dump();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('keys create prints the secret once; list never shows it; revoke and rotate are audited; init makes the first admin key', async () => {
    const data = path.join(dir, 'keys-data');
    const init = await runCli(['init', '--data-dir', data]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/admin key \(shown once; store it now\): bk_[0-9a-z]{10}_[\w-]{43}/);
    expect((await runCli(['init', '--data-dir', data])).stdout).toContain('already has keys');
    const created = await runCli(['keys', 'create', '--principal', 'fraud-svc', '--role', 'decider', '--service', 'loans', '--expires', '90d', '--data-dir', data]);
    expect(created.code).toBe(0);
    const token = /key \(shown once; store it now\): (bk_[0-9a-z]{10}_[\w-]{43})/.exec(created.stdout)![1]!;
    const id = token.slice(0, 13);
    const listed = await runCli(['keys', 'list', '--data-dir', data]);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/fraud-svc +decider +loans +active/);
    expect(listed.stdout).not.toContain(token.slice(14));
    const rotated = await runCli(['keys', 'rotate', id, '--grace', '1h', '--data-dir', data]);
    expect(rotated.stdout).toMatch(new RegExp(`rotated ${id} → bk_\\w+; ${id} stays valid until `));
    expect((await runCli(['keys', 'revoke', id, '--data-dir', data])).code).toBe(0);
    const bad = await runCli(['keys', 'create', '--principal', 'x', '--role', 'emperor', '--data-dir', data]);
    expect(bad.code).toBe(2);
    expect((await runCli(['keys', 'revoke', 'bk_nosuchkey0', '--data-dir', data])).stderr).toContain('[KEY_NOT_FOUND]');
    const store = await openStore({ kind: 'sqlite', path: path.join(data, 'ballast.db') });
    const actions = (await store.audit.list({ limit: 100 })).map((e) => e.action);
    expect(actions).toEqual(['principal.created', 'key.created', 'principal.created', 'key.created', 'key.rotated', 'key.created', 'key.revoked']);
    await store.close();
  });

  it('audit: checkpoint, prove an entry, check the proof offline, verify the log; tampering exits 5', async () => {
    const data = path.join(dir, 'audit-data');
    expect((await runCli(['init', '--data-dir', data])).code).toBe(0);
    expect((await runCli(['keys', 'create', '--principal', 'ci', '--role', 'viewer', '--data-dir', data])).code).toBe(0);
    const events = await runCli(['audit', 'events', '--data-dir', data, '--json']);
    const lines = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; action: string });
    expect(lines.map((e) => e.action)).toEqual(['principal.created', 'key.created', 'principal.created', 'key.created']);
    const checkpoint = await runCli(['audit', 'checkpoint', '--data-dir', data]);
    expect(checkpoint.stdout).toMatch(/^checkpoint of 4 entries, root [0-9a-f]{64}\nballast\.audit\/[0-9a-f]{12}\n4\n[\w+/]{43}=\n\n— ballast\.audit\//);
    const proved = await runCli(['audit', 'prove', lines[3]!.id, '--data-dir', data]);
    expect(proved.code).toBe(0);
    const proofFile = path.join(dir, 'proof.json');
    writeFileSync(proofFile, proved.stdout);
    // Checked with nothing but the proof and the verifier key file: no store, no server.
    const offline = await runCli(['audit', 'verify', '--proof', proofFile, '--verifier-key', path.join(data, 'audit-verifier.key')], { cwd: os.tmpdir() });
    expect(offline.stdout).toMatch(/^ok: audit aud_\w+ is leaf 3 of the log of 4 entries signed by ballast\.audit\//);
    expect(offline.code).toBe(0);
    const forged = proved.stdout.replace('key.created', 'key.revoked');
    expect(forged).not.toBe(proved.stdout);
    writeFileSync(proofFile, forged);
    const refused = await runCli(['audit', 'verify', '--proof', proofFile, '--data-dir', data]);
    expect(refused.stdout).toContain('FAILED: the leaf data does not hash to the leaf hash');
    expect(refused.code).toBe(5);
    // Without a verifier key (none given, none in the data directory) nothing is trusted.
    const keyless = await runCli(['audit', 'verify', '--proof', path.join(dir, 'proof.json'), '--data-dir', path.join(dir, 'no-such-dir')]);
    expect(keyless.stderr).toContain('give the log\'s verifier key with --verifier-key');
    expect(keyless.code).toBe(4);
    const verified = await runCli(['audit', 'verify', '--data-dir', data]);
    expect(verified.stdout).toContain('4 entries, 1 signed checkpoint, 0 entries after the last checkpoint\nok:');
    expect(verified.code).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(data, 'ballast.db'));
    db.prepare("UPDATE audit_events SET actor_role = 'viewer' WHERE action = 'key.created'").run();
    db.close();
    const tampered = await runCli(['audit', 'verify', '--data-dir', data]);
    expect(tampered.stdout).toMatch(/FAILED: 2 problems\n {2}edited: leaf 1: the audit aud_\w+ was changed after it was logged/);
    expect(tampered.code).toBe(5);
  });

  it('a start whose file changed a registered model under its old name is refused with exit 3, naming the version', async () => {
    const data = path.join(dir, 'registry');
    const first = await startCli(['serve', '--config', good, '--port', '0', '--data-dir', data, '--log-level', 'warn'], /on (http:\/\/127\.0\.0\.1:\d+)/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const changed = path.join(dir, 'changed-model.yaml');
    writeFileSync(changed, testConfigYaml({ adapter: `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel, options: { confidence: 0.5 } }` }));
    const r = await runCli(['serve', '--config', changed, '--port', '0', '--data-dir', data]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[MODEL_VERSION_CONFLICT\]/);
    expect(r.stderr).toContain('/services/loans/models/v1');
    noStack(r.stderr);
  });

  it('a port that is taken is a clear error with exit 1, not a stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const r = await runCli(['serve', '--config', good, '--port', String(port), '--data-dir', path.join(dir, 'taken')]);
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use [SERVER_LISTEN_FAILED]`);
    noStack(r.stderr);
  });
});
