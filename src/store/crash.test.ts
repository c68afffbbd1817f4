// Nothing acknowledged is lost: a child process appends through the real store (transpiled to
// plain JavaScript, see testing/transpile-store.mjs), reports each resolved append, and is
// SIGKILLed at a random moment, then restarted on the same file (recovering its WAL) and killed
// again. Every id it ever reported must be in the database at the end.
//
// What this proves: an append resolves only after its transaction committed (on the writer
// thread, acknowledged across threads), and a committed transaction survives the death of the process. What it cannot prove: survival of a power cut
// (the OS page cache outlives a SIGKILL); that rests on synchronous = FULL, see sqlite-batch-insert.ts.
// The same runs with `durability: process` (synchronous = NORMAL): that mode promises exactly what
// a SIGKILL can test, so here the test is the whole guarantee.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { openStore } from './open-store.js';
import { tempDir } from './testing/fixtures.js';

const childScript = fileURLToPath(new URL('./testing/crash-child.mjs', import.meta.url));
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(() => tmp?.remove());

type Durability = 'full' | 'process';

/** Runs the child until it has appended for `killAfterMs`, SIGKILLs it, and returns the ids it acknowledged and its connections' `synchronous`. */
async function runAndKill(buildDir: string, dbPath: string, killAfterMs: number, durability: Durability): Promise<{ acked: string[]; synchronous: string }> {
  const child = spawn(process.execPath, [childScript, buildDir, dbPath, durability], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let synchronous = '';
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (line.startsWith('acked ')) acked.push(line.slice(6));
      else if (line.startsWith('synchronous ')) synchronous = line.slice(12);
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Everything the child wrote to the pipe before dying is still delivered before 'close'.
  const closed = new Promise<void>((resolve) => child.stdout.on('close', resolve));
  expect(await exited).toBe('SIGKILL');
  await closed;
  return { acked, synchronous };
}

// 2 is FULL, 1 NORMAL, on the store's connection and the writer thread's alike.
it.each([
  { durability: 'full' as const, synchronous: '2 2' },
  { durability: 'process' as const, synchronous: '1 1' },
])('keeps every acknowledged decision across repeated SIGKILLs mid-stream (durability: $durability)', async ({ durability, synchronous }) => {
  tmp = tempDir();
  const buildDir = join(tmp.dir, 'build');
  const acked: string[] = [];
  // Several rounds at random moments: one kill may land where nothing is at stake, five rarely all do.
  for (let round = 0; round < 5; round++) {
    const run = await runAndKill(buildDir, tmp.dbPath, 150 + Math.floor(Math.random() * 400), durability);
    expect(run.synchronous).toBe(synchronous);
    expect(run.acked.length).toBeGreaterThan(0);
    acked.push(...run.acked);
  }

  const store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  try {
    const found = new Set<string>();
    for (let after: string | undefined; ; ) {
      const page = await store.decisions.list({ limit: 1000, after });
      if (page.length === 0) break;
      page.forEach((d) => found.add(d.id));
      after = page[page.length - 1]!.id;
    }
    expect(acked.filter((id) => !found.has(id))).toEqual([]);
    // More rows than acknowledgements is expected (committed, killed before printing); fewer is not.
    expect(found.size).toBeGreaterThanOrEqual(acked.length);
  } finally {
    await store.close();
  }
});
