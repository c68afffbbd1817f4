// `ballast audit events -n N` lists N events even past the store's page of 1,000 (it used to stop
// at 1,000 without a word). The CLI runs as built (dist/).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../src/governance/index.js';
import { openStore } from '../src/store/index.js';
import { runCli } from './helpers/run-cli.js';

let dir: string;
const total = 1250;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-audit-events-'));
  mkdirSync(path.join(dir, 'data'));
  const store = await openStore({ kind: 'sqlite', path: path.join(dir, 'data', 'ballast.db') });
  try {
    const start = Date.UTC(2026, 0, 1);
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        store.audit.append(auditEvent({ at: new Date(start + i * 1000).toISOString(), actor: { principal: 'tester', keyId: null, role: 'admin' }, action: i % 2 === 0 ? 'key.created' : 'key.revoked', resource: { kind: 'api_key', id: `bk_${String(i).padStart(5, '0')}` } })),
      ),
    );
    await store.flush();
  } finally {
    await store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (stdout: string) => stdout.trim().split('\n').map((line) => /api_key:(bk_\d+)$/.exec(line)?.[1]);

describe('ballast audit events', () => {
  it('-n beyond one page lists that many, oldest first, each once', async () => {
    const all = await runCli(['audit', 'events', '--data-dir', path.join(dir, 'data'), '-n', '5000']);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(ids(all.stdout)).toStrictEqual(Array.from({ length: total }, (_, i) => `bk_${String(i).padStart(5, '0')}`));
    const some = await runCli(['audit', 'events', '--data-dir', path.join(dir, 'data'), '-n', '1100', '--action', 'key.revoked']);
    expect(ids(some.stdout)).toStrictEqual(Array.from({ length: total / 2 }, (_, i) => `bk_${String(2 * i + 1).padStart(5, '0')}`));
    const three = await runCli(['audit', 'events', '--data-dir', path.join(dir, 'data'), '-n', '3']);
    expect(ids(three.stdout)).toStrictEqual(['bk_00000', 'bk_00001', 'bk_00002']);
  }, 60_000);
});
