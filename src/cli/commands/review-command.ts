// `ballast review …`: work a running server's review queue through its API (the lease, the
// verdict and its audit live on the server), and read its items and statistics.
import { Option, type Command } from 'commander';
import { BallastError, isErrorCode } from '../../errors/index.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

/** What the server shows of an item (see the ReviewItem schema of the API). */
interface ItemView {
  readonly id: string;
  readonly kind: string;
  readonly decisionId: string;
  readonly service: string;
  readonly state: string;
  readonly priority: number;
  readonly dueAt: string;
  readonly requiredReviews: number;
  readonly reasons: ReadonlyArray<{ readonly code?: string; readonly message?: string }>;
  readonly escalationRole: string | null;
  readonly slaBreachedAt: string | null;
  readonly lease: { readonly holder: string; readonly until: string } | null;
  readonly detail: unknown;
  readonly outcome: { readonly verdict: string; readonly output: unknown; readonly reviewers: readonly string[]; readonly rationale: string; readonly decidedAt: string } | null;
  readonly decisions?: ReadonlyArray<{ readonly reviewer: string; readonly role: string; readonly decision: string; readonly label: unknown; readonly rationale: string; readonly at: string }>;
  readonly decision?: { readonly input: unknown; readonly output?: unknown; readonly confidence?: number | null; readonly suggestionHidden: boolean };
}

interface StatsView {
  readonly service: string | null;
  readonly since: string | null;
  readonly until: string | null;
  readonly queue: Readonly<Record<string, number>>;
  readonly settled: number;
  readonly accepted: number;
  readonly overridden: number;
  readonly overrideRate: number | null;
  readonly queueTimeMs: { readonly p50: number | null; readonly p95: number | null; readonly max: number | null };
  readonly appeals: { readonly settled: number; readonly overturned: number; readonly overturnRate: number | null };
  readonly reviewers: ReadonlyArray<{ readonly reviewer: string; readonly decisions: number; readonly accepts: number; readonly overrides: number; readonly escalations: number; readonly agreementWithModel: number | null; readonly medianDecideMs: number | null }>;
}

export const defaultServer = 'http://127.0.0.1:8080';

export type ServerOptions = { server?: string; apiKey?: string; json?: boolean };

export function targetOf(env: EnvironmentSettings, opts: ServerOptions): Target {
  const apiKey = opts.apiKey ?? env.apiKey;
  return { server: opts.server ?? defaultServer, ...(apiKey === undefined ? {} : { apiKey }) };
}

export function withServer(command: Command, keyNeeded: string): Command {
  return command
    .option('--server <url>', `the server (default ${defaultServer})`)
    .addOption(new Option('--api-key <key>', `${keyNeeded} [env ${environmentVariables.apiKey}]`))
    .option('--json', 'print JSON');
}

const itemPath = (id: string) => `/v1/reviews/${encodeURIComponent(id)}`;
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
const oneLine = (value: unknown) => JSON.stringify(value ?? null);

/** The item as a reviewer reads it: what, why, the input, the suggestion unless hidden, the lease. */
export function formatItem(item: ItemView): string[] {
  const lines = [`${item.id}  ${item.kind} of decision ${item.decisionId}  service ${item.service}  state ${item.state}`];
  lines.push(`  priority ${item.priority}  due ${item.dueAt}${item.slaBreachedAt === null ? '' : ` (SLA breached ${item.slaBreachedAt})`}  reviewers needed ${item.requiredReviews}${item.escalationRole === null ? '' : `  escalated to ${item.escalationRole}`}`);
  for (const r of item.reasons) lines.push(`  reason: ${r.code ?? '?'}: ${r.message ?? ''}`);
  if (item.kind === 'appeal' && item.detail !== null && typeof item.detail === 'object') {
    const d = item.detail as { statement?: string; filedBy?: string; reference?: string };
    lines.push(`  appeal by the ${d.filedBy ?? '?'}${d.reference === undefined ? '' : ` (reference ${d.reference})`}: ${d.statement ?? ''}`);
  }
  if (item.decision !== undefined) {
    lines.push(`  input: ${oneLine(item.decision.input)}`);
    lines.push(item.decision.suggestionHidden ? '  suggestion: hidden until you decide' : `  suggestion: ${oneLine(item.decision.output)} (confidence ${item.decision.confidence ?? '-'})`);
  }
  for (const d of item.decisions ?? []) lines.push(`  ${d.at}  ${d.reviewer} (${d.role}) ${d.decision}${d.decision === 'override' ? ` ${oneLine(d.label)}` : ''}${d.rationale === '' ? '' : `: ${d.rationale}`}`);
  if (item.lease !== null) lines.push(`  lease: ${item.lease.holder} until ${item.lease.until}`);
  if (item.outcome !== null) lines.push(`  outcome: ${item.outcome.verdict} ${oneLine(item.outcome.output)} by ${item.outcome.reviewers.join(', ')} at ${item.outcome.decidedAt}`);
  return lines;
}

function parseLabel(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BallastError('REQUEST_INVALID', { detail: `--label must be JSON in the shape of the service's output, got '${text}'`, issues: [{ pointer: '/label', code: 'format', message: 'not JSON' }] });
  }
}

/** Adds `review next|decide|show|list|stats|release` to the program. */
export function registerReviewCommand(program: Command, { env, out }: Context): void {
  const review = program.command('review').description("work a running server's review queue: take the next item under a lease, decide it, read items and statistics");
  const print = (opts: ServerOptions, answer: unknown, text: () => string[]) => {
    if (opts.json === true) out(JSON.stringify(answer, null, 2));
    else for (const line of text()) out(line);
  };

  withServer(review.command('next').description('take the next item you may decide (highest priority, then oldest) under a lease, and show it'), "a reviewer's key")
    .option('--service <name...>', 'only items of these services')
    .action(async (opts: ServerOptions & { service?: string[] }) => {
      const target = targetOf(env, opts);
      if (target.apiKey === undefined) throw new BallastError('AUTH_REQUIRED', { detail: `the review queue needs a reviewer's API key: --api-key or ${environmentVariables.apiKey}` });
      // callApi reads a JSON body, and 204 (nothing to take) has none.
      let response: Response;
      try {
        response = await fetch(new URL('/v1/reviews/next', target.server), {
          method: 'POST',
          headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(opts.service === undefined ? {} : { services: opts.service }),
        });
      } catch (error) {
        throw new BallastError('UPSTREAM_UNAVAILABLE', { detail: `the Ballast server at ${target.server} could not be reached (is it running? --server)`, cause: error });
      }
      if (response.status === 204) {
        if (opts.json === true) out('null');
        else out('the queue is empty: nothing you may take');
        return;
      }
      const answer = (await response.json()) as Record<string, unknown>;
      if (!response.ok) {
        // The problem document, as callApi reports one (a second POST could take an item).
        const code = isErrorCode(answer.code) ? answer.code : 'INTERNAL';
        throw new BallastError(code, { detail: typeof answer.detail === 'string' ? answer.detail : `HTTP ${response.status}`, ...(Array.isArray(answer.issues) ? { issues: answer.issues } : {}) });
      }
      const item = answer as unknown as ItemView;
      print(opts, item, () => formatItem(item));
    });

  withServer(review.command('decide').description('record your decision on the item you hold: --accept, --override with --label and --rationale, or --escalate with --rationale'), "the lease holder's key")
    .argument('<id>', 'the review item (rvw_…)')
    .option('--accept', "the model's answer stands")
    .option('--override', "replace the model's answer with --label")
    .option('--escalate', 'hand the item to the escalation role')
    .option('--label <json>', "an override's answer, as JSON in the service's output shape")
    .option('--rationale <text>', 'why (needed to override or escalate)')
    .action(async (id: string, opts: ServerOptions & { accept?: boolean; override?: boolean; escalate?: boolean; label?: string; rationale?: string }, command: Command) => {
      const chosen = (['accept', 'override', 'escalate'] as const).filter((v) => opts[v] === true);
      if (chosen.length !== 1) command.error('error: give exactly one of --accept, --override, --escalate');
      const decision = chosen[0]!;
      const body = { decision, ...(opts.label === undefined ? {} : { label: parseLabel(opts.label) }), ...(opts.rationale === undefined ? {} : { rationale: opts.rationale }) };
      const item = (await callApi(targetOf(env, opts), 'POST', `${itemPath(id)}/decision`, body)) as ItemView;
      print(opts, item, () => [
        item.state === 'decided' ? `${item.id}: decided (${item.outcome?.verdict ?? decision})` : item.state === 'escalated' ? `${item.id}: recorded; escalated to ${item.escalationRole ?? '?'}` : `${item.id}: recorded; waits for another reviewer (${item.requiredReviews} needed)`,
      ]);
    });

  withServer(review.command('show').description("an item's state and outcome; with a reviewer's or auditor's key also its input, suggestion and human decisions"), 'a key that may see the item')
    .argument('<id>', 'the review item (rvw_…)')
    .action(async (id: string, opts: ServerOptions) => {
      const item = (await callApi(targetOf(env, opts), 'GET', itemPath(id))) as ItemView;
      print(opts, item, () => formatItem(item));
    });

  withServer(review.command('list').description('review items, oldest first, without inputs'), "a reviewer's, operator's or auditor's key")
    .option('--service <name>', "only this service's")
    .option('--state <state>', 'only items in this state: open, claimed, decided, escalated')
    .option('--limit <n>', 'at most this many (1 to 1000, default 100)')
    .action(async (opts: ServerOptions & { service?: string; state?: string; limit?: string }) => {
      const query = new URLSearchParams({ ...(opts.service === undefined ? {} : { service: opts.service }), ...(opts.state === undefined ? {} : { state: opts.state }), ...(opts.limit === undefined ? {} : { limit: opts.limit }) });
      const answer = (await callApi(targetOf(env, opts), 'GET', `/v1/reviews${query.size === 0 ? '' : `?${query.toString()}`}`)) as { items: ItemView[]; next: string | null };
      print(opts, answer, () =>
        answer.items.length === 0
          ? ['no review items']
          : [
              ...answer.items.map((i) => `${i.id}  ${i.service.padEnd(14)} ${i.kind.padEnd(8)} ${i.state.padEnd(9)} priority ${String(i.priority).padEnd(2)} due ${i.dueAt}${i.slaBreachedAt === null ? '' : '  SLA breached'}`),
              ...(answer.next === null ? [] : [`more: the server has more items after ${answer.next}`]),
            ],
      );
    });

  withServer(review.command('stats').description('the queue now, and over a window: override rate, queue times, SLA breaches, appeals overturned, agreement with the model per reviewer'), "a reviewer's, operator's or auditor's key")
    .option('--service <name>', "only this service's")
    .option('--since <instant>', 'human decisions from this ISO 8601 instant')
    .option('--until <instant>', 'human decisions before this ISO 8601 instant')
    .action(async (opts: ServerOptions & { service?: string; since?: string; until?: string }) => {
      const query = new URLSearchParams({ ...(opts.service === undefined ? {} : { service: opts.service }), ...(opts.since === undefined ? {} : { since: opts.since }), ...(opts.until === undefined ? {} : { until: opts.until }) });
      const s = (await callApi(targetOf(env, opts), 'GET', `/v1/reviews/stats${query.size === 0 ? '' : `?${query.toString()}`}`)) as StatsView;
      print(opts, s, () => [
        `${s.service ?? 'all services'}, ${s.since ?? 'the beginning'} to ${s.until ?? 'now'}`,
        `queue now: ${Object.entries(s.queue).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `settled ${s.settled}: accepted ${s.accepted}, overridden ${s.overridden}; override rate ${pct(s.overrideRate)}`,
        `queue time: p50 ${secs(s.queueTimeMs.p50)}, p95 ${secs(s.queueTimeMs.p95)}, max ${secs(s.queueTimeMs.max)}`,
        `appeals settled ${s.appeals.settled}, overturned ${s.appeals.overturned} (${pct(s.appeals.overturnRate)})`,
        ...s.reviewers.map((r) => `  ${r.reviewer.padEnd(16)} ${r.decisions} decisions (${r.accepts} accept, ${r.overrides} override, ${r.escalations} escalate); agreement with the model ${pct(r.agreementWithModel)}; median time to decide ${secs(r.medianDecideMs)}`),
      ]);
    });

  withServer(review.command('renew').description('extend the lease on an item you hold (its service\'s review.lease from now)'), "the lease holder's key")
    .argument('<id>', 'the review item (rvw_…)')
    .action(async (id: string, opts: ServerOptions) => {
      const item = (await callApi(targetOf(env, opts), 'POST', `${itemPath(id)}/renew`)) as ItemView;
      print(opts, item, () => [`${item.id}: ${item.lease === null ? `not held (${item.state})` : `held by ${item.lease.holder} until ${item.lease.until}`}`]);
    });

  withServer(review.command('release').description('give an item you hold back to the queue undecided'), "the lease holder's key")
    .argument('<id>', 'the review item (rvw_…)')
    .action(async (id: string, opts: ServerOptions) => {
      const item = (await callApi(targetOf(env, opts), 'POST', `${itemPath(id)}/release`)) as ItemView;
      print(opts, item, () => [`${item.id}: released (${item.state})`]);
    });
}
