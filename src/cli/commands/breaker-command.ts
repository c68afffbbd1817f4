// `ballast breaker list|open|close`: a running server's circuit breakers, through its API (their
// state lives in the server). Opening and closing need an operator's key and a reason; both are audited.
import { Option, type Command } from 'commander';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

interface BreakerView {
  readonly version: string;
  readonly kind: string;
  readonly enabled: boolean;
  readonly state?: string;
  readonly since?: string;
  readonly calls?: number;
  readonly failureRate?: number;
  readonly reason?: string | null;
}

const defaultServer = 'http://127.0.0.1:8080';

function describe(b: BreakerView): string {
  if (!b.enabled) return `${b.version.padEnd(16)} ${b.kind.padEnd(8)} disabled`;
  const figures = b.kind === 'errors' ? `${b.calls ?? 0} calls, ${((b.failureRate ?? 0) * 100).toFixed(1)}% failed` : (b.reason ?? '');
  return `${b.version.padEnd(16)} ${b.kind.padEnd(8)} ${String(b.state).padEnd(10)} since ${b.since ?? '?'}  ${figures}`;
}

/** Adds `breaker …` to the program. */
export function registerBreakerCommand(program: Command, { env, out }: Context): void {
  const target = (opts: { server?: string; apiKey?: string }): Target => ({ server: opts.server ?? defaultServer, ...((opts.apiKey ?? env.apiKey) === undefined ? {} : { apiKey: opts.apiKey ?? env.apiKey }) });
  const serverOptions = (command: Command) =>
    command
      .option('--server <url>', `the server (default ${defaultServer})`)
      .addOption(new Option('--api-key <key>', `a key that may read the service (list) or an operator's (open, close) [env ${environmentVariables.apiKey}]`))
      .requiredOption('-s, --service <name>', 'the service');
  const breaker = program.command('breaker').description("a running server's circuit breakers (on errors and on quality): their state and history; open or close one by hand, audited");

  serverOptions(breaker.command('list').description('the breakers of a service and their recent changes').option('--json', 'print JSON')).action(
    async (opts: { server?: string; apiKey?: string; service: string; json?: boolean }) => {
      const answer = (await callApi(target(opts), 'GET', `/v1/services/${encodeURIComponent(opts.service)}/breakers`)) as {
        breakers: BreakerView[];
        history: Array<{ at: string; version: string; kind: string; from: string; to: string; reason: string; actor: string | null }>;
      };
      if (opts.json === true) {
        out(JSON.stringify(answer, null, 2));
        return;
      }
      for (const b of answer.breakers) out(describe(b));
      if (answer.history.length > 0) out('history (newest first):');
      for (const t of answer.history.slice(0, 20)) out(`  ${t.at}  ${t.version} ${t.kind}: ${t.from} → ${t.to}  ${t.reason}`);
    },
  );

  for (const action of ['open', 'close'] as const) {
    serverOptions(
      breaker
        .command(action)
        .description(action === 'open' ? "open a version's breaker: its traffic goes down the fallback chain" : "close a version's breaker: the model is called again")
        .requiredOption('--version <name>', 'the model version')
        .addOption(new Option('--kind <kind>', 'which breaker').choices(['errors', 'quality']).default('errors'))
        .requiredOption('--reason <text>', 'why (kept in the history and the audit log)'),
    ).action(async (opts: { server?: string; apiKey?: string; service: string; version: string; kind: string; reason: string }) => {
      const answer = (await callApi(target(opts), 'POST', `/v1/services/${encodeURIComponent(opts.service)}/breakers/${encodeURIComponent(opts.version)}/${action}`, { reason: opts.reason, kind: opts.kind })) as {
        changed: boolean;
        breaker: BreakerView;
      };
      out(answer.changed ? `${opts.service}/${opts.version} ${opts.kind} breaker is now ${String(answer.breaker.state)}` : `${opts.service}/${opts.version} ${opts.kind} breaker already was ${String(answer.breaker.state)}; nothing changed`);
    });
  }
}
