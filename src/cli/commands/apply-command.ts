// `ballast apply -f ballast.yaml` and `ballast revisions`: live configuration of a running server,
// through its API. The file is validated here first (problems with file and line), then the server
// validates it again, plans it against its running revision, and applies it without a restart.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BallastError } from '../../errors/index.js';
import { formatPlan, type ConfigPlan } from '../../governance/index.js';
import { parseConfigText } from '../config-file.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

const defaultServer = 'http://127.0.0.1:8080';

interface ApplyAnswer {
  readonly plan: ConfigPlan;
  readonly revision: number;
  readonly applied: boolean;
}

function revisionArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a revision number (1, 2, …)');
  return n;
}

function report(answer: ApplyAnswer, dryRun: boolean, out: (line: string) => void): void {
  for (const line of formatPlan(answer.plan)) out(line);
  if (answer.plan.changes.length === 0) out(`nothing to apply: revision ${answer.revision} is running`);
  else if (dryRun) out(`dry run: nothing applied (revision ${answer.revision} is running)`);
  else out(`applied as revision ${answer.revision}`);
}

/** Adds `apply` and `revisions …` to the program. */
export function registerApplyCommands(program: Command, { env, out }: Context): void {
  const target = (opts: { server?: string; apiKey?: string }): Target => ({ server: opts.server ?? defaultServer, ...((opts.apiKey ?? env.apiKey) === undefined ? {} : { apiKey: opts.apiKey ?? env.apiKey }) });
  const serverOptions = (command: Command) =>
    command.option('--server <url>', `the server (default ${defaultServer})`).addOption(new Option('--api-key <key>', `an operator's or admin's key [env ${environmentVariables.apiKey}]`));
  const applyOptions = (command: Command) =>
    command
      .option('--dry-run', 'show the plan only; apply nothing')
      .addOption(new Option('--expect-revision <n>', 'refuse unless the running revision is still n (the one you planned against)').argParser(revisionArg))
      .option('--reason <text>', 'why; kept with the revision and in the audit log')
      .option('--json', 'print the answer as JSON');

  serverOptions(
    applyOptions(
      program
        .command('apply')
        .description("validate a whole config file, show the plan against the running server's revision, and apply it without a restart as the next revision")
        .requiredOption('-f, --file <file>', 'the config file (YAML)'),
    ),
  ).action(async (opts: { file: string; dryRun?: boolean; expectRevision?: number; reason?: string; json?: boolean; server?: string; apiKey?: string }) => {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (error) {
      throw new BallastError('CONFIG_NOT_FOUND', { detail: `cannot read ${opts.file}`, cause: error });
    }
    parseConfigText(text, opts.file);
    const answer = (await callApi(target(opts), 'POST', '/v1/config', {
      config: text,
      source: opts.file,
      ...(opts.dryRun === true ? { dryRun: true } : {}),
      ...(opts.expectRevision === undefined ? {} : { expectRevision: opts.expectRevision }),
      ...(opts.reason === undefined ? {} : { reason: opts.reason }),
    })) as ApplyAnswer;
    if (opts.json === true) out(JSON.stringify(answer, null, 2));
    else report(answer, opts.dryRun === true, out);
  });

  const revisions = serverOptions(program.command('revisions').description("a running server's configuration revisions, newest first").option('--json', 'print JSON')).action(
    async (opts: { json?: boolean; server?: string; apiKey?: string }) => {
      const answer = (await callApi(target(opts), 'GET', '/v1/revisions?limit=100')) as { running: number; revisions: Array<{ number: number; digest: string; source: string; actor: string; at: string; reason: string }> };
      if (opts.json === true) {
        out(JSON.stringify(answer, null, 2));
        return;
      }
      for (const r of answer.revisions) out(`${r.number === answer.running ? '*' : ' '} ${String(r.number).padStart(4)}  ${r.at}  ${r.actor.padEnd(20)} ${r.source}${r.reason === '' ? '' : `  (${r.reason})`}`);
    },
  );
  serverOptions(revisions.command('show').description('one revision and its configuration text').argument('<number>', 'the revision', revisionArg)).action(async (number: number, opts: { server?: string; apiKey?: string }) => {
    const r = (await callApi(target(opts), 'GET', `/v1/revisions/${number}`)) as { number: number; at: string; actor: string; source: string; reason: string; digest: string; text: string };
    out(`# revision ${r.number} by ${r.actor} at ${r.at} from ${r.source}${r.reason === '' ? '' : ` (${r.reason})`}, sha256 ${r.digest}`);
    out(r.text.trimEnd());
  });
  serverOptions(applyOptions(revisions.command('apply').description("apply an old revision's configuration again, as a new revision").argument('<number>', 'the revision', revisionArg))).action(
    async (number: number, opts: { dryRun?: boolean; expectRevision?: number; reason?: string; json?: boolean; server?: string; apiKey?: string }) => {
      const answer = (await callApi(target(opts), 'POST', `/v1/revisions/${number}/apply`, {
        ...(opts.dryRun === true ? { dryRun: true } : {}),
        ...(opts.expectRevision === undefined ? {} : { expectRevision: opts.expectRevision }),
        ...(opts.reason === undefined ? {} : { reason: opts.reason }),
      })) as ApplyAnswer;
      if (opts.json === true) out(JSON.stringify(answer, null, 2));
      else report(answer, opts.dryRun === true, out);
    },
  );
}
