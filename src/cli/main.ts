import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerRetentionCommand } from './commands/retention-command.js';
import { decideCommand } from './commands/decide-command.js';
import { demoCommand } from './commands/demo-command.js';
import { registerKeysCommand } from './commands/keys-command.js';
import { registerBreakerCommand } from './commands/breaker-command.js';
import { registerApplyCommands } from './commands/apply-command.js';
import { registerApproveCommand, registerKillSwitchCommand } from './commands/approve-command.js';
import { registerRolloutCommands } from './commands/rollout-command.js';
import { registerModelsCommand } from './commands/models-command.js';
import { registerDatasetCommand } from './commands/dataset-command.js';
import { registerReviewCommand } from './commands/review-command.js';
import { registerAppealsCommand } from './commands/appeals-command.js';
import { registerAlertsCommands } from './commands/alerts-command.js';
import { drillCommand, drillFaults } from './commands/drill-command.js';
import { registerReferenceCommand } from './commands/reference-command.js';
import { monitorCommand } from './commands/monitor-command.js';
import { validateCommand } from './commands/validate-command.js';
import { environmentVariables, readEnvironment } from './environment.js';
import { exitCodes } from './exit-codes.js';
import { reportError } from './report.js';
import { startServing, untilSignal } from './serve-runtime.js';
import { startCluster } from './cluster/primary.js';
import { ballastDescription, ballastVersion } from './version.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return port;
}

function parseWorkerCount(value: string): number {
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new InvalidArgumentError("must be 'auto' (one per core) or an integer from 0 (one process) to 256");
  return n;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const closedStreams = new WeakSet<NodeJS.WriteStream>();

/**
 * A reader that stops early (`ballast monitor | head`) closes the pipe: the next write fails with
 * EPIPE, which Node raises as an 'error' event that would end the process with a stack trace.
 * Such a stream is marked closed and later writes to it are dropped; the command runs to its end
 * (nothing half-done in the store) and exits with its own code. Installed once per process.
 */
function watchForClosedReader(stream: NodeJS.WriteStream): void {
  if (stream.listeners('error').some((l) => (l as { ballastClosedReader?: true }).ballastClosedReader === true)) return;
  const onError = Object.assign(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
        closedStreams.add(stream);
        return;
      }
      throw error;
    },
    { ballastClosedReader: true as const },
  );
  stream.on('error', onError);
}

/** Writes a line unless the reader has gone away. */
export function writeLine(stream: NodeJS.WriteStream, line: string): void {
  if (closedStreams.has(stream) || stream.destroyed) return;
  stream.write(`${line}\n`);
}

/** A positive integer up to `max` (the store answers at most 1,000 rows a page, as the API's `limit` does). */
function parseLimit(max: number): (value: string) => number {
  return (value) => {
    const n = parsePositiveInt(value);
    if (n > max) throw new InvalidArgumentError(`must be at most ${max}`);
    return n;
  };
}

/** Runs the `ballast` command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  watchForClosedReader(process.stdout);
  watchForClosedReader(process.stderr);
  const env = readEnvironment();
  const out = (line: string) => writeLine(process.stdout, line);
  const dataDir = (flag?: string) => path.resolve(flag ?? env.dataDir ?? '.ballast');
  let exitCode: number = exitCodes.ok;

  const program = new Command()
    .name('ballast')
    .description(ballastDescription)
    .version(ballastVersion)
    // `ballast --version` prints Ballast's; after a command, --version is that command's (a model version).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText('after', `\nEnvironment: ${Object.values(environmentVariables).join(', ')} (flags win). Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid config, 4 invalid input, 5 audit log does not verify.`);

  const dataDirOption = () => new Option('--data-dir <dir>', `where the decision log and keys live [env ${environmentVariables.dataDir}] (default ./.ballast)`);

  program
    .command('serve')
    .description('serve the HTTP API for the services in a config file; SIGTERM drains and exits 0')
    .addOption(new Option('-c, --config <file>', `config file [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml'))
    .addOption(new Option('-p, --port <n>', `port [env ${environmentVariables.port}]`).argParser(parsePort).default(env.port === undefined ? 8080 : parsePort(env.port)))
    .addOption(new Option('--host <host>', `address to listen on [env ${environmentVariables.host}]`).default(env.host ?? '127.0.0.1'))
    .addOption(dataDirOption())
    .addOption(new Option('--log-level <level>', `pino log level [env ${environmentVariables.logLevel}]`).choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(env.logLevel ?? 'info'))
    .option('--insecure-no-auth', 'serve without API keys (every caller is an admin); only on a loopback address')
    .addOption(new Option('--workers <n>', 'decision worker processes sharing the port beside a primary that holds the store and the monitors (0: one process does everything; auto: one per core)').argParser(parseWorkerCount).default(0))
    .action(async (opts: { config: string; port: number; host: string; dataDir?: string; logLevel: string; insecureNoAuth?: boolean; workers: number }) => {
      const insecureNoAuth = opts.insecureNoAuth === true;
      const serveOptions = { configPath: opts.config, host: opts.host, port: opts.port, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey, logLevel: opts.logLevel, insecureNoAuth };
      const running = opts.workers > 0 ? await startCluster({ ...serveOptions, workers: opts.workers }) : await startServing(serveOptions);
      // Listen for the signal before saying we are ready: a supervisor may send it the moment it reads the line.
      const stopSignal = untilSignal();
      if (insecureNoAuth) process.stderr.write(`WARNING: serving WITHOUT authentication (--insecure-no-auth): anyone who can reach ${running.url} acts as an admin\n`);
      if (running.firstAdminKey !== undefined) {
        out(`created the first admin key ${running.firstAdminKey.id} (principal admin); it is shown only now:`);
        out(`  ${running.firstAdminKey.token}`);
        out('  use it as Authorization: Bearer <key>, and create narrower keys with `ballast keys create`');
      }
      out(`ballast ${ballastVersion} serving ${[...running.runtime.services.keys()].join(', ')} on ${running.url}${opts.workers > 0 ? ` with ${opts.workers} decision worker${opts.workers === 1 ? '' : 's'}` : ''}`);
      const signal = await stopSignal;
      running.logger.info({ signal }, 'draining');
      await running.stop();
      out('ballast stopped: in-flight decisions finished, decision log flushed');
    });

  program
    .command('validate')
    .description('check a config file: schema, contracts, rules and adapters; every error names file, line and path')
    .argument('<file>', 'the config file (YAML)')
    .action(async (file: string) => validateCommand(file, out));

  program
    .command('decide')
    .description('make one decision from the shell, recorded in the same log as the API; prints the decision as JSON')
    .requiredOption('-s, --service <name>', 'the service to ask')
    .addOption(new Option('-c, --config <file>', `config file [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml'))
    .option('-i, --input <json>', 'the input as inline JSON (else --input-file)')
    .option('-f, --input-file <file>', "a file with the JSON input; '-' reads standard input", '-')
    .option('--subject-key <key>', 'the subject key for sticky routing')
    .option('--context <json>', 'request context as a JSON object, visible to rules')
    .addOption(dataDirOption())
    .action(async (opts: { service: string; config: string; input?: string; inputFile: string; subjectKey?: string; context?: string; dataDir?: string }) => {
      await decideCommand({ ...opts, configPath: opts.config, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey }, out);
    });

  program
    .command('monitor')
    .description('show the state of every monitor, or one monitor\'s history with a small chart (read from the store; --evaluate evaluates first)')
    .addOption(new Option('-c, --config <file>', `config file [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml'))
    .option('-s, --service <name>', 'only this service')
    .option('-m, --monitor <name>', 'show this monitor\'s history (e.g. input_drift, feature_drift/body, accuracy)')
    .option('--model-version <name>', 'only this model version')
    .option('--segment <segment>', 'only this segment (e.g. country=DE); the history shows the unsegmented traffic by default')
    .addOption(new Option('-n, --limit <n>', 'history rows, newest (at most 1000)').argParser(parseLimit(1000)).default(30))
    .option('--evaluate', 'evaluate every stored window first, as the server\'s schedule does')
    .option('--json', 'print JSON instead of a table')
    .addOption(dataDirOption())
    .action(async (opts: { config: string; service?: string; monitor?: string; modelVersion?: string; segment?: string; limit: number; evaluate?: boolean; json?: boolean; dataDir?: string }) => {
      await monitorCommand({ ...opts, version: opts.modelVersion, configPath: opts.config, evaluate: opts.evaluate === true, json: opts.json === true, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey }, out);
    });

  registerReferenceCommand(program, { env, out, dataDir, dataDirOption });
  registerKeysCommand(program, { env, out, dataDir, dataDirOption });
  registerRetentionCommand(program, { env, out, dataDir, dataDirOption });
  registerBreakerCommand(program, { env, out });
  registerApplyCommands(program, { env, out });
  registerModelsCommand(program, { env, out });
  registerDatasetCommand(program, { env, out });
  registerRolloutCommands(program, { env, out });
  registerApproveCommand(program, { env, out });
  registerKillSwitchCommand(program, { env, out });
  registerReviewCommand(program, { env, out });
  registerAppealsCommand(program, { env, out });
  registerAlertsCommands(program, { env, out });
  registerAuditCommand(program, { env, out, dataDir, dataDirOption, setExitCode: (code) => (exitCode = code) });

  program
    .command('drill')
    .description("run a chosen failure against a config: the version's model server is replaced by a fake that fails on purpose, and each decision's outcome, fallback and calls are printed")
    .addOption(new Option('-c, --config <file>', `config file [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml'))
    .requiredOption('-s, --service <name>', 'the service')
    .option('--version <name>', 'the model version to break (default: the live one)')
    .requiredOption('--fault <fault>', `what the fake does: ${Object.keys(drillFaults).join(', ')}`)
    .requiredOption('-i, --input <json>', 'the decision input (JSON)')
    .addOption(new Option('-n, --requests <n>', 'decisions to make').argParser(parsePositiveInt).default(5))
    .option('--answer <json>', 'http adapter: what the fake answers when it behaves')
    .action(async (opts: { config: string; service: string; version?: string; fault: string; input: string; requests: number; answer?: string }) => {
      await drillCommand({ configPath: opts.config, service: opts.service, fault: opts.fault, input: opts.input, requests: opts.requests, ...(opts.version === undefined ? {} : { version: opts.version }), ...(opts.answer === undefined ? {} : { answer: opts.answer }) }, out);
    });

  program
    .command('demo')
    .description('train a spam filter on the older SpamAssassin messages, serve it, replay the newer ones through the API, send delayed labels, and print a summary')
    .addOption(new Option('-p, --port <n>', 'port for the demo server (0 picks a free one)').argParser(parsePort).default(8080))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(dataDirOption())
    .option('--exit', 'exit after the summary instead of serving until Ctrl-C')
    .addOption(new Option('--limit <n>', 'replay only the first n newer messages').argParser(parsePositiveInt))
    .addOption(new Option('--concurrency <n>', 'requests in flight during the replay').argParser(parsePositiveInt).default(8))
    .addOption(new Option('--label-share <share>', 'share of decisions whose true label comes back as feedback').argParser(Number).default(0.7))
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { port: number; host: string; dataDir?: string; exit?: boolean; limit?: number; concurrency: number; labelShare: number; progress: boolean }) => {
      await demoCommand({ ...opts, exit: opts.exit === true, dataDir: dataDir(opts.dataDir), redactionKey: env.redactionKey }, out);
    });

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    } else {
      exitCode = reportError(error);
    }
  }
  return exitCode;
}
