// The entry of a decision worker process (forked by primary.ts through node:cluster).
import { runWorker } from './worker.js';

runWorker().catch((error: unknown) => {
  process.stderr.write(`ballast decision worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
