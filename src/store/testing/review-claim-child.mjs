// A replica of the review-queue test: opens the real store (transpiled, see transpile-store.mjs) on a
// file that another process opens too, waits for `go` on stdin, runs <claims> claimNext calls from
// four concurrent callers, prints `claimed <id>` or `none` for each, and exits.
// Usage: node review-claim-child.mjs <build dir> <database path> <claims> <name>
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileStore } from './transpile-store.mjs';

const [buildDir, dbPath, claims, name] = process.argv.slice(2);
const entry = existsSync(join(buildDir, 'store', 'index.js')) ? join(buildDir, 'store', 'index.js') : await transpileStore(buildDir);
const { openStore } = await import(pathToFileURL(entry).href);
const store = await openStore({ kind: 'sqlite', path: dbPath });
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const now = '2026-12-07T06:00:01.000Z';
// Four callers, each claiming with a pause between claims as a replica serving requests would:
// one process taking the lock back to back would keep the other waiting in its busy handler, and
// the two would rarely interleave.
const results = [];
await Promise.all(
  Array.from({ length: 4 }, async (_, caller) => {
    for (let i = caller; i < Number(claims); i += 4) {
      results.push(await store.reviews.claimNext({ reviewer: `${name}-${i}`, role: 'reviewer', now, leaseMs: 60000 }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }),
);
for (const r of results) process.stdout.write(r === undefined ? 'none\n' : `claimed ${r.id}\n`);
await store.close();
