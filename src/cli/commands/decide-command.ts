import { readFileSync } from 'node:fs';
import { parseJsonInput, resolveInputLimits } from '../../contracts/index.js';
import { BallastError } from '../../errors/index.js';
import { createDecisionPipeline } from '../../pipeline/index.js';
import { newId } from '../../store/index.js';
import { loadConfigFile } from '../config-file.js';
import { startRuntime } from '../runtime.js';

export interface DecideCommandOptions {
  readonly configPath: string;
  readonly service: string;
  /** Inline JSON, or undefined to read `inputFile`. */
  readonly input?: string;
  /** A file with the JSON input; `-` is standard input. */
  readonly inputFile?: string;
  readonly subjectKey?: string;
  readonly context?: string;
  readonly dataDir: string;
  readonly redactionKey?: string;
}

/** One decision from the shell, through the same pipeline and log as the HTTP API. */
export async function decideCommand(options: DecideCommandOptions, out: (line: string) => void): Promise<void> {
  const raw = options.input !== undefined ? Buffer.from(options.input, 'utf8') : readFileSync(options.inputFile === '-' || options.inputFile === undefined ? 0 : options.inputFile);
  const config = loadConfigFile(options.configPath);
  const limits = resolveInputLimits(config.limits);
  const input = parseJsonInput(raw, limits);
  const context = options.context === undefined ? undefined : parseJsonInput(Buffer.from(options.context, 'utf8'), limits);
  if (context !== undefined && (context === null || typeof context !== 'object' || Array.isArray(context))) {
    throw new BallastError('REQUEST_INVALID', { detail: '--context must be a JSON object' });
  }
  const runtime = await startRuntime(config, { dataDir: options.dataDir, redactionKey: options.redactionKey, configText: readFileSync(options.configPath, 'utf8'), services: [options.service] });
  try {
    const pipeline = createDecisionPipeline({ services: runtime.services, sink: runtime.store.decisions, newId: () => newId('dec'), hashSubject: runtime.hashSubject });
    const decision = await pipeline.decide({
      service: options.service,
      input,
      ...(options.subjectKey === undefined ? {} : { subjectKey: options.subjectKey }),
      ...(context === undefined ? {} : { context: context as Record<string, unknown> }),
    });
    out(JSON.stringify(decision, null, 2));
  } finally {
    await runtime.close();
  }
}
