// Personal data and secrets stay out of everything Ballast writes: a unique marker sent in pii
// fields (of the input and of the context) and an API key given as a secret are looked for, byte for
// byte, in the SQLite file, its WAL, the server's log output (at debug level) and every answer, while
// an upstream that echoes its whole request (headers and body) in its error message does its worst.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCli } from './helpers/run-cli.js';

const secretName = 'BALLAST_PRIVACY_TEST_KEY';
const secret = 'sk-SECRETMARKER-9f3a7c1e55d04b2a';
const emailMarker = 'PIIMARKER-7d1e2c@example.org';
const contextMarker = 'CTXMARKER-41b9aa';

let dir: string;
let upstream: Server;
let upstreamUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-privacy-'));
  // The worst upstream: it refuses every request and quotes its key and prompt back.
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/json' });
      const messages = (JSON.parse(body) as { messages: { content: string }[] }).messages;
      res.end(JSON.stringify({ error: { message: `key ${String(req.headers.authorization)} may not ask '${messages.map((m) => m.content).join(' ')}'` } }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address();
  upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const configYaml = () => `version: 1
services:
  support:
    contract:
      input:
        schema:
          type: object
          required: [text, email]
          properties: { text: { type: string }, email: { type: string } }
        fields:
          text: { kind: text }
          email: { kind: categorical, pii: true }
      output:
        schema: { type: object, required: [label], properties: { label: { enum: [billing, other] } } }
      context:
        fields:
          customer: { pii: true }
    policy:
      thresholds: { auto: 0.8 }
    models:
      v1:
        timeoutMs: 2000
        adapter: { kind: openai, baseUrl: ${JSON.stringify(upstreamUrl)}, model: m, apiKeySecret: ${secretName}, prompt: 'Ticket {{/text}} from {{/email}}' }
    live: v1
`;

it('keeps pii markers and secrets out of the database, its WAL, the log and every answer; the files are the owner\'s only', { timeout: 60_000 }, async () => {
  const config = path.join(dir, 'ballast.yaml');
  writeFileSync(config, configYaml());
  const data = path.join(dir, 'data');
  process.env[secretName] = secret;
  const server = await startCli(['serve', '--config', config, '--port', '0', '--data-dir', data, '--log-level', 'debug'], /serving support on (http:\/\/127\.0\.0\.1:\d+)/);
  const base = server.match[1]!;
  const admin = /^ {2}(bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(server.output())![1]!;
  const answers: string[] = [];
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const r = await request(base + url, { method, headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.body.text();
    answers.push(text);
    return { status: r.statusCode, json: JSON.parse(text) as Record<string, unknown> & { explanation?: { modelError?: { message: string } } } };
  };
  try {
    const made = await call('POST', '/v1/services/support/decisions', { input: { text: 'my invoice is wrong', email: emailMarker }, context: { customer: contextMarker, tier: 'gold' } });
    expect(made.status).toBe(200);
    expect(made.json.outcome).toBe('review');
    // The upstream's words are kept (they explain the failure), its echo of the key and the pii is not.
    const message = made.json.explanation!.modelError!.message;
    expect(message).toContain('rejected the request with 400');
    expect(message).toContain('my invoice is wrong');
    expect(message).toContain('***');
    // A pii value where the contract refuses it: the error points at it without quoting it.
    const refused = await call('POST', '/v1/services/support/decisions', { input: { text: 42, email: emailMarker } });
    expect(refused.status).toBe(422);
    const id = made.json.id as string;
    const read = await call('GET', `/v1/decisions/${id}?view=raw`);
    expect(read.status).toBe(200);
    await call('POST', `/v1/decisions/${id}/feedback`, { kind: 'label', value: { label: 'billing' } });
    await call('GET', '/v1/services/support');
    await call('GET', `/v1/audit/events`);
    await call('GET', `/v1/audit/proofs/inclusion/${id}`);

    // While the server runs, the WAL holds the latest writes.
    const db = path.join(data, 'ballast.db');
    const files = [db, `${db}-wal`, `${db}-shm`].filter(existsSync);
    expect(files).toContain(`${db}-wal`);
    for (const file of files) expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    expect((statSync(data).mode & 0o777).toString(8)).toBe('700');
    for (const file of [...files, path.join(data, 'redaction.key'), path.join(data, 'audit-signing.key')]) {
      const bytes = readFileSync(file);
      for (const marker of [emailMarker, contextMarker, secret]) expect(bytes.includes(Buffer.from(marker)), `${marker} in ${file}`).toBe(false);
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    delete process.env[secretName];
  }
  const log = server.output();
  expect(log.length).toBeGreaterThan(0);
  for (const marker of [emailMarker, contextMarker, secret]) {
    expect(log.includes(marker), `${marker} in the log`).toBe(false);
    for (const answer of answers) expect(answer.includes(marker), `${marker} in ${answer.slice(0, 200)}`).toBe(false);
  }
  // After the stop (WAL checkpointed into the file), the database still holds none of them.
  const bytes = readFileSync(path.join(data, 'ballast.db'));
  for (const marker of [emailMarker, contextMarker, secret]) expect(bytes.includes(Buffer.from(marker))).toBe(false);
});
