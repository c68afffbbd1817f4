// `ballast approve|approvals` and `ballast kill-switch`: approval gates and the per-service kill switch
// of a running server, through its API (the server knows the running revision and the versions' digests).
import { Option, type Command } from 'commander';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { shortDigest } from '../../governance/index.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

interface ApprovalView {
  readonly principal: string;
  readonly decision: string;
  readonly reason: string;
  readonly at: string;
  readonly digest: string;
  readonly revision: number;
}

interface ApprovalsAnswer {
  readonly service: string;
  readonly version: string;
  readonly digest: string;
  readonly author: string;
  readonly revision: number;
  readonly valid: { readonly approvals: readonly ApprovalView[]; readonly refusals: readonly ApprovalView[] };
  readonly history: readonly ApprovalView[];
  readonly gate: { readonly ok: boolean; readonly checks: ReadonlyArray<{ readonly check: string; readonly ok: boolean; readonly detail: string }> } | null;
}

interface KillSwitchView {
  readonly service: string;
  readonly engaged: boolean;
  readonly since: string | null;
  readonly reason: string | null;
  readonly actor: string | null;
}

const defaultServer = 'http://127.0.0.1:8080';

type ServerOptions = { server?: string; apiKey?: string };

function targetOf(env: EnvironmentSettings, opts: ServerOptions): Target {
  const apiKey = opts.apiKey ?? env.apiKey;
  return { server: opts.server ?? defaultServer, ...(apiKey === undefined ? {} : { apiKey }) };
}

function withServer(command: Command, keyNeeded: string): Command {
  return command
    .option('--server <url>', `the server (default ${defaultServer})`)
    .addOption(new Option('--api-key <key>', `${keyNeeded} [env ${environmentVariables.apiKey}]`))
    .requiredOption('-s, --service <name>', 'the service');
}

const approvalsPath = (service: string, version: string) => `/v1/services/${encodeURIComponent(service)}/models/${encodeURIComponent(version)}/approvals`;

/** Adds `approve` and `approvals` to the program. */
export function registerApproveCommand(program: Command, { env, out }: Context): void {
  withServer(program.command('approve').description("approve (or with --refuse, refuse) a model version's promotion; binds to its digest and the running revision, audited"), "an approver's key")
    .requiredOption('--version <name>', 'the model version')
    .requiredOption('--reason <text>', 'why (kept with the approval and in the audit log)')
    .option('--refuse', 'refuse instead: blocks the promotion until you approve')
    .action(async (opts: ServerOptions & { service: string; version: string; reason: string; refuse?: boolean }) => {
      const decision = opts.refuse === true ? 'refuse' : 'approve';
      const answer = (await callApi(targetOf(env, opts), 'POST', approvalsPath(opts.service, opts.version), { decision, reason: opts.reason })) as { approval: ApprovalView; valid: ApprovalsAnswer['valid'] };
      const a = answer.approval;
      out(`${decision === 'approve' ? 'approved' : 'refused'} ${opts.service}/${opts.version} (digest ${shortDigest(a.digest)}, revision ${a.revision}); approvals that count: ${answer.valid.approvals.length}, refusals: ${answer.valid.refusals.length}`);
    });

  withServer(program.command('approvals').description("a model version's approvals that count now, their history and the gate's judgement").option('--json', 'print JSON'), 'a key that may read the service')
    .requiredOption('--version <name>', 'the model version')
    .action(async (opts: ServerOptions & { service: string; version: string; json?: boolean }) => {
      const answer = (await callApi(targetOf(env, opts), 'GET', approvalsPath(opts.service, opts.version))) as ApprovalsAnswer;
      if (opts.json === true) {
        out(JSON.stringify(answer, null, 2));
        return;
      }
      out(`${answer.service}/${answer.version} by ${answer.author}, digest ${shortDigest(answer.digest)}, revision ${answer.revision}`);
      if (answer.gate !== null) {
        out(`gate: ${answer.gate.ok ? 'met' : 'not met'}`);
        for (const c of answer.gate.checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(24)} ${c.detail}`);
      }
      if (answer.history.length > 0) out('history (oldest first):');
      for (const a of answer.history) out(`  ${a.at}  ${a.principal} ${a.decision}d (revision ${a.revision}, digest ${shortDigest(a.digest)}): ${a.reason}`);
    });
}

/** Adds `kill-switch` to the program: its state, or with --engage / --release a change. */
export function registerKillSwitchCommand(program: Command, { env, out }: Context): void {
  withServer(program.command('kill-switch').description("a service's kill switch: engaged, every request goes down the fallback chain without calling a model; audited"), "an operator's key (a reader's for the state)")
    .option('--engage', 'engage it')
    .option('--release', 'release it')
    .option('--reason <text>', 'why (needed with --engage or --release)')
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { service: string; engage?: boolean; release?: boolean; reason?: string; json?: boolean }, command: Command) => {
      const path = `/v1/services/${encodeURIComponent(opts.service)}/kill-switch`;
      if (opts.engage === true && opts.release === true) command.error('error: give --engage or --release, not both');
      const change = opts.engage === true ? true : opts.release === true ? false : undefined;
      if (change !== undefined && (opts.reason === undefined || opts.reason.trim() === '')) command.error(`error: --${change ? 'engage' : 'release'} needs --reason`);
      if (change === undefined) {
        const state = (await callApi(targetOf(env, opts), 'GET', path)) as KillSwitchView & { history: unknown[] };
        if (opts.json === true) out(JSON.stringify(state, null, 2));
        else out(state.engaged ? `${state.service}: kill switch ENGAGED since ${state.since} by ${state.actor}: ${state.reason}` : `${state.service}: kill switch released${state.since === null ? '' : ` since ${state.since} by ${state.actor}: ${state.reason}`}`);
        return;
      }
      const answer = (await callApi(targetOf(env, opts), 'POST', path, { engaged: change, reason: opts.reason })) as { changed: boolean; state: KillSwitchView };
      if (opts.json === true) out(JSON.stringify(answer, null, 2));
      else out(answer.changed ? `${opts.service}: kill switch ${change ? 'engaged' : 'released'}` : `${opts.service}: kill switch already ${change ? 'engaged' : 'released'}; nothing changed`);
    });
}
