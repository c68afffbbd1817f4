// The process the crash test kills: appends decisions from 32 concurrent callers through the real
// store and prints `acked <id>` the moment each append resolves, until it is SIGKILLed.
// Usage: node crash-child.mjs <build dir> <database path> [full|process]  (the store's durability, default full)
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileStore } from './transpile-store.mjs';

const [buildDir, dbPath, durability = 'full'] = process.argv.slice(2);
// Restarts after a crash reuse the build of the first run.
const entry = existsSync(join(buildDir, 'store', 'index.js')) ? join(buildDir, 'store', 'index.js') : await transpileStore(buildDir);
const { openStore, newId } = await import(pathToFileURL(entry).href);
const store = await openStore({ kind: 'sqlite', path: dbPath, durability });
// What the connections really use, so the test knows which mode it killed.
const { sqliteSynchronousOf } = await import(pathToFileURL(join(dirname(entry), 'sqlite', 'sqlite-store.js')).href);
const synchronous = sqliteSynchronousOf(store);
process.stdout.write(`synchronous ${synchronous.main} ${synchronous.writer}\nready\n`);

async function caller(n) {
  for (let i = 0; ; i++) {
    const id = newId('dec');
    await store.decisions.append({
      id,
      service: 'crash',
      version: 'v1',
      createdAt: new Date().toISOString(),
      outcome: 'auto',
      confidence: 0.5,
      subjectHash: null,
      input: { caller: n, i, text: 'x'.repeat(200) },
      context: null,
      output: { label: 'ham' },
      explanation: null,
      timings: { total: 1 },
    });
    // Synchronous on Linux when stdout is a pipe: once this returns, the parent will read it.
    process.stdout.write(`acked ${id}\n`);
  }
}

await Promise.all(Array.from({ length: 32 }, (_, n) => caller(n)));
