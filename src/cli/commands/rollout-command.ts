// `ballast rollout start|status|pause|resume|promote|abort|retry` and `ballast rollback`: a running
// server's rollouts, through its API. Every action needs an operator's key and a reason; all are audited.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BallastError } from '../../errors/index.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

const defaultServer = 'http://127.0.0.1:8080';

interface RolloutView {
  readonly id: string;
  readonly service: string;
  readonly stable: string;
  readonly candidate: string;
  readonly strategy: string;
  readonly state: string;
  readonly step: number;
  readonly weight: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly retryOf?: string | null;
  readonly status?: { readonly reason?: string | null; readonly awaiting?: string | null };
}

interface EventView {
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly step: number;
  readonly weight: number;
  readonly detail: { readonly reason?: string; readonly verdict?: VerdictView };
}

interface Rate {
  readonly events: number;
  readonly n: number;
  readonly rate: number | null;
  readonly interval?: readonly [number, number];
}

interface VerdictView {
  readonly verdict: string;
  readonly summary: string;
  readonly metrics?: ReadonlyArray<{ metric: string; segment?: string; verdict: string; reason: string }>;
  readonly agreement?: { readonly sameOutput: Rate; readonly meanConfidenceDifference: number | null; readonly stableAccuracy: Rate; readonly candidateAccuracy: Rate };
  readonly srm?: { readonly chi2: number; readonly pValue: number; readonly mismatch: boolean };
  readonly arms?: Readonly<Record<string, { readonly decisions: number; readonly errorRate: Rate; readonly reviewRate: Rate; readonly accuracy: Rate }>>;
}

const pct = (r: Rate): string => (r.rate === null ? `- of ${r.n}` : `${(100 * r.rate).toFixed(1)}%${r.interval === undefined ? '' : ` [${(100 * r.interval[0]).toFixed(1)}, ${(100 * r.interval[1]).toFixed(1)}]`} of ${r.n}`);

/** A verdict's numbers beyond its summary: what did not pass, a shadow's agreement, an experiment's arms and sample-ratio check. */
export function verdictLines(verdict: VerdictView): string[] {
  const lines: string[] = [];
  for (const m of verdict.metrics ?? []) if (m.verdict !== 'pass') lines.push(`      ${m.metric}${m.segment === undefined ? '' : ` [${m.segment}]`}: ${m.verdict} — ${m.reason}`);
  const a = verdict.agreement;
  if (a !== undefined) {
    lines.push(`      agreement: same output ${pct(a.sameOutput)}; mean confidence difference ${a.meanConfidenceDifference === null ? '-' : a.meanConfidenceDifference.toFixed(3)}; accuracy stable ${pct(a.stableAccuracy)}, candidate ${pct(a.candidateAccuracy)}`);
  }
  for (const [arm, m] of Object.entries(verdict.arms ?? {})) {
    lines.push(`      ${arm}: ${m.decisions} decisions; error rate ${pct(m.errorRate)}; review rate ${pct(m.reviewRate)}; accuracy ${pct(m.accuracy)}`);
  }
  if (verdict.srm !== undefined) lines.push(`      sample ratio: chi-square ${verdict.srm.chi2.toFixed(2)}, p ${verdict.srm.pValue.toPrecision(3)}${verdict.srm.mismatch ? ' < 0.001: MISMATCH' : ''}`);
  return lines;
}

function steps(value: string): number[] {
  const weights = value.split(',').map((w) => Number(w.trim().replace(/%$/, '')) / (w.trim().endsWith('%') || Number(w) > 1 ? 100 : 1));
  if (weights.some((w) => !Number.isFinite(w) || w <= 0 || w > 1)) throw new InvalidArgumentError('must be weights such as 5%,25%,50%,100% (or 0.05,0.25,0.5,1)');
  return weights;
}

function share(value: string): number {
  const n = Number(value.replace(/%$/, '')) / (value.endsWith('%') ? 100 : 1);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a share in [0, 1] or a percentage');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function describeRollout(r: RolloutView): string {
  return `${r.id}  ${r.service}: ${r.stable} → ${r.candidate} by ${r.strategy}, ${r.state} at step ${r.step} (weight ${(100 * r.weight).toFixed(1)}%)${r.status?.reason ? ` — ${r.status.reason}` : ''}`;
}

/** Adds `rollout …` and `rollback` to the program. */
export function registerRolloutCommands(program: Command, { env, out }: Context): void {
  const target = (opts: { server?: string; apiKey?: string }): Target => ({ server: opts.server ?? defaultServer, ...((opts.apiKey ?? env.apiKey) === undefined ? {} : { apiKey: opts.apiKey ?? env.apiKey }) });
  const common = (command: Command) =>
    command
      .option('--server <url>', `the server (default ${defaultServer})`)
      .addOption(new Option('--api-key <key>', `an operator's key (a viewer's for status) [env ${environmentVariables.apiKey}]`))
      .requiredOption('-s, --service <name>', 'the service')
      .option('--json', 'print JSON');
  const path = (service: string, rest: string) => `/v1/services/${encodeURIComponent(service)}/${rest}`;
  const rollout = program.command('rollout').description("a running server's rollouts: canary steps, shadow and experiments, each step judged by an analysis; every action audited");

  common(rollout.command('start').description('start moving the service from its live version to a candidate'))
    .requiredOption('--candidate <version>', 'the candidate model version (in the running revision)')
    .addOption(new Option('--strategy <strategy>', 'canary, shadow or experiment (default: the service’s rollout: block, else canary)').choices(['canary', 'shadow', 'experiment']))
    .addOption(new Option('--steps <weights>', 'canary steps, e.g. 5%,25%,50%,100%').argParser(steps))
    .addOption(new Option('--min-decisions <n>', 'decisions of the rollout per step before it is judged').argParser(count))
    .addOption(new Option('--pause <ms>', 'least milliseconds per step before it is judged').argParser(count))
    .addOption(new Option('--share <share>', 'shadow: the share of requests copied to the candidate').argParser(share))
    .addOption(new Option('--weight <share>', 'experiment: the treatment’s share').argParser(share))
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: { service: string; candidate: string; strategy?: string; steps?: number[]; minDecisions?: number; pause?: number; share?: number; weight?: number; reason: string; json?: boolean; server?: string; apiKey?: string }) => {
      const pause = { ...(opts.pause === undefined ? {} : { durationMs: opts.pause }), ...(opts.minDecisions === undefined ? {} : { minDecisions: opts.minDecisions }) };
      const hasPause = Object.keys(pause).length > 0;
      const body = {
        candidate: opts.candidate,
        reason: opts.reason,
        ...(opts.strategy === undefined ? {} : { strategy: opts.strategy }),
        ...(opts.steps === undefined ? {} : { steps: opts.steps.map((weight) => ({ weight, ...(hasPause ? { pause } : {}) })) }),
        ...(opts.steps === undefined && hasPause ? { pause } : {}),
        ...(opts.share === undefined ? {} : { share: opts.share }),
        ...(opts.weight === undefined ? {} : { weight: opts.weight }),
      };
      const started = (await callApi(target(opts), 'POST', path(opts.service, 'rollouts'), body)) as RolloutView;
      out(opts.json === true ? JSON.stringify(started, null, 2) : `started ${describeRollout(started)}`);
    });

  common(rollout.command('status').description('the current (or last) rollout, its routing and every step and verdict with its numbers')).action(async (opts: { service: string; json?: boolean; server?: string; apiKey?: string }) => {
    const answer = (await callApi(target(opts), 'GET', path(opts.service, 'rollout'))) as { rollout: RolloutView; events: EventView[] };
    if (opts.json === true) {
      out(JSON.stringify(answer, null, 2));
      return;
    }
    out(describeRollout(answer.rollout));
    for (const e of answer.events) {
      const verdict = e.detail.verdict;
      out(`  ${e.at}  ${e.kind.padEnd(22)} step ${e.step} ${(100 * e.weight).toFixed(1).padStart(5)}%  ${e.actor}${verdict === undefined ? (e.detail.reason ? `  ${e.detail.reason}` : '') : `  ${verdict.summary}`}`);
      if (verdict !== undefined) for (const line of verdictLines(verdict)) out(line);
    }
  });

  for (const action of ['pause', 'resume', 'promote', 'abort', 'retry'] as const) {
    const what = { pause: 'hold the rollout at its step (traffic stays as it is)', resume: 'go on from a pause', promote: 'send 100% to the candidate now (the gate is checked)', abort: 'stop the rollout: 100% stable, the candidate back to registered', retry: 'start the last aborted or rolled-back rollout again, as a new one' }[action];
    common(rollout.command(action).description(what))
      .requiredOption('--reason <text>', 'why')
      .action(async (opts: { service: string; reason: string; json?: boolean; server?: string; apiKey?: string }) => {
        const r = (await callApi(target(opts), 'POST', path(opts.service, `rollout/${action}`), { reason: opts.reason })) as RolloutView;
        out(opts.json === true ? JSON.stringify(r, null, 2) : describeRollout(r));
      });
  }

  common(program.command('rollback').description('route 100% of the service to its stable version now: the rollout in progress is rolled back, or the last promotion undone'))
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: { service: string; reason: string; json?: boolean; server?: string; apiKey?: string }) => {
      const sent = performance.now();
      const answer = (await callApi(target(opts), 'POST', path(opts.service, 'rollback'), { reason: opts.reason })) as { rollout: RolloutView; tookMs: number };
      if (answer.rollout === undefined) throw new BallastError('INTERNAL', { detail: 'the server answered a rollback without the rollout' });
      out(opts.json === true ? JSON.stringify(answer, null, 2) : `${describeRollout(answer.rollout)}\n  in effect for the next request: ${answer.tookMs.toFixed(1)} ms on the server, ${(performance.now() - sent).toFixed(1)} ms from this command`);
    });
}
