import { BallastError, classifyError } from '../errors/index.js';
import { ConfigError, formatConfigProblem } from './config-file.js';
import { exitCodes } from './exit-codes.js';

/** Prints an error for a person (no stack trace for anything Ballast understands) and picks the exit code. */
export function reportError(error: unknown, write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): number {
  if (error instanceof ConfigError) {
    write(`error: invalid configuration (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'})`);
    for (const problem of error.problems) write(`  ${formatConfigProblem(problem)}`);
    return exitCodes.invalidConfig;
  }
  const failure = error instanceof BallastError ? error : classifyError(error);
  if (failure.code === 'INTERNAL') {
    write(`error: unexpected failure (a bug in Ballast; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return exitCodes.failure;
  }
  write(`error: ${failure.detail} [${failure.code}]`);
  for (const issue of failure.issues) write(`  ${issue.pointer || '/'}: ${issue.message} (${issue.code})`);
  // A model version the configuration names that cannot be registered as written is a configuration problem too.
  if (failure.code.startsWith('CONFIG_') || failure.code === 'MODEL_VERSION_CONFLICT' || failure.code === 'MODEL_ARTIFACT_UNREADABLE') return exitCodes.invalidConfig;
  if (failure.code.startsWith('REQUEST_') || failure.code.startsWith('CONTRACT_')) return exitCodes.invalidInput;
  return exitCodes.failure;
}
