// `ballast monitor | head`: a reader that goes away after the first line must not end the command
// with an EPIPE stack trace. The CLI runs as built (dist/ via bin/ballast.js).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { testConfigYaml } from './helpers/test-ballast.js';

let dir: string;
let config: string;
let dataDir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-closed-stdout-'));
  config = path.join(dir, 'ballast.yaml');
  dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  writeFileSync(config, testConfigYaml());
  // Enough monitor rows that the output is far larger than a pipe's buffer (64 KiB).
  const store = await openStore({ kind: 'sqlite', path: path.join(dataDir, 'ballast.db') });
  const evaluations = [];
  const statuses = [];
  for (let i = 0; i < 2000; i++) {
    const at = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString();
    const body = { state: 'ok', since: at, message: `accuracy 95.0% of 200 labels (row ${i})`, value: 0.95, window: { start: at, end: at } };
    evaluations.push({ id: `eval_${i}`, service: 'loans', monitor: 'accuracy', version: 'v1', segment: '', windowStart: at, windowEnd: at, evaluatedAt: at, observed: 'labels', state: 'ok', value: 0.95, body });
    statuses.push({ service: 'loans', monitor: 'accuracy', version: 'v1', segment: `country=C${i}`, updatedAt: at, body });
  }
  await store.monitoring.recordEvaluations(evaluations, statuses);
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port free on loopback now (the kernel's choice for port 0, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns the CLI with its stdout piped into a reader that closes the pipe after the first line. */
function runUntilFirstLine(args: readonly string[], onFirstLine: (line: string, child: ChildProcess) => void = () => {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; firstLine: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let firstLine = '';
    child.stdout.on('data', (d: Buffer) => {
      if (firstLine !== '') return;
      stdout += d.toString();
      const end = stdout.indexOf('\n');
      if (end >= 0) {
        firstLine = stdout.slice(0, end);
        child.stdout.destroy();
        onFirstLine(firstLine, child);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, firstLine, stderr });
    });
  });
}

describe('a reader that closes stdout early', () => {
  it.each([
    ['the status table', ['monitor', '--config', '<config>', '--data-dir', '<data>'], /^SERVICE\s+MONITOR/],
    ['a history', ['monitor', '--config', '<config>', '--data-dir', '<data>', '--service', 'loans', '--monitor', 'accuracy', '--limit', '1000'], /^loans accuracy: 1000 evaluations/],
    ['JSON', ['monitor', '--config', '<config>', '--data-dir', '<data>', '--json'], /^\[/],
  ])('`ballast monitor` (%s) exits 0 without a stack trace', async (_name, args, first) => {
    const r = await runUntilFirstLine(args.map((a) => (a === '<config>' ? config : a === '<data>' ? dataDir : a)));
    expect(r.firstLine).toMatch(first);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at .+:\d+:\d+/);
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  }, 90_000);

  it('`ballast serve` keeps serving, then drains on SIGTERM and exits 0', async () => {
    let health: Promise<number> | undefined;
    // A port chosen beforehand: which line serve prints first (the log's "Server listening at …", the first admin key,
    // "serving …") depends on timing, and the lines after the first go nowhere.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const r = await runUntilFirstLine(['serve', '--config', config, '--data-dir', path.join(dir, 'serve-data'), '--port', String(port)], (_line, child) => {
      health = (async () => {
        await new Promise((done) => setTimeout(done, 300));
        const status = (await request(`${url}/healthz`)).statusCode;
        child.kill('SIGTERM');
        return status;
      })();
    });
    expect(await health).toBe(200);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at .+:\d+:\d+/);
    expect(r.code).toBe(0);
  }, 90_000);

  it('`ballast monitor -n` above the store\'s page of 1000 is a usage error, not a silent cut', async () => {
    const r = await runCli(['monitor', '--config', config, '--data-dir', dataDir, '--service', 'loans', '--monitor', 'accuracy', '-n', '2000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '-n, --limit <n>' argument '2000' is invalid. must be at most 1000");
    const all = await runCli(['monitor', '--config', config, '--data-dir', dataDir, '--service', 'loans', '--monitor', 'accuracy', '-n', '1000']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^loans accuracy: 1000 evaluations, oldest first/);
  }, 90_000);
});
