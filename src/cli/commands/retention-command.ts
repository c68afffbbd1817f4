// `ballast retention purge|holds|hold|release` and `ballast subjects erase`: on the data directory
// (the local user acts, as admin) or through a server's API with --server and an admin's key.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { localActor, type PurgeReport, type Retention } from '../../governance/index.js';
import type { StoredHold } from '../../store/index.js';
import { loadConfigFile } from '../config-file.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { localUser, startRuntime } from '../runtime.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
  readonly dataDir: (flag?: string) => string;
  readonly dataDirOption: () => Option;
}

function formatHold(h: StoredHold): string {
  return `${h.id}  ${h.service !== null ? `service ${h.service}` : `decision ${h.decisionId ?? ''}`}  by ${h.createdBy} at ${h.createdAt}${h.releasedAt === null ? '' : `  released by ${h.releasedBy ?? ''} at ${h.releasedAt}`}  "${h.reason}"`;
}

/** Adds `retention …` and `subjects erase` to the program. */
export function registerRetentionCommand(program: Command, ctx: Context): void {
  const { env, out } = ctx;
  const targetOptions = (command: Command) =>
    command
      .addOption(ctx.dataDirOption())
      .addOption(new Option('-c, --config <file>', `config file, for the services' retention terms [env ${environmentVariables.configPath}]`).default(env.configPath ?? 'ballast.yaml'))
      .option('--server <url>', "act through this server's API instead of the data directory")
      .addOption(new Option('--api-key <key>', `an admin's API key, with --server [env ${environmentVariables.apiKey}]`));
  const target = (opts: Target): Target => ({ ...opts, ...(opts.apiKey === undefined && env.apiKey !== undefined ? { apiKey: env.apiKey } : {}) });
  const actor = () => ({ actor: localActor(localUser()) });
  const local = async <T>(opts: Target, work: (retention: Retention) => Promise<T>): Promise<T> => {
    const configPath = opts.config ?? 'ballast.yaml';
    const runtime = await startRuntime(loadConfigFile(configPath), { dataDir: ctx.dataDir(opts.dataDir), redactionKey: env.redactionKey, configText: readFileSync(configPath, 'utf8') });
    try {
      return await work(runtime.retention);
    } finally {
      await runtime.close();
    }
  };

  const retention = program.command('retention').description("personal data: purge raw inputs past each service's retention term, and legal holds that stop purges; every change is audited");

  targetOptions(retention.command('purge').description("remove the raw input and context of decisions older than their service's `retention.inputs` term (digests stay), and whole decisions older than `retention.decisions`; held ones are skipped")).action(async (opts: Target) => {
    const t = target(opts);
    const reports = t.server !== undefined ? ((await callApi(t, 'POST', '/v1/retention/purge')) as { services: PurgeReport[] }).services : await local(t, (r) => r.purge(actor()));
    if (reports.length === 0) out('no service has a retention term (retention: { inputs: 90d, decisions: 2y } in its config)');
    for (const r of reports) {
      const deleted = r.deletedBefore === null ? '' : `; deleted ${r.deleted} whole decision(s) created before ${r.deletedBefore}`;
      out(`${r.service}: purged the raw inputs of ${r.purged} decision(s) created before ${r.before}${deleted}${r.scrubbed ? '' : ' (the WAL was busy: removed values stay in it until the next purge)'}`);
    }
  });

  targetOptions(retention.command('holds').description('list legal holds').option('--active', 'only those not released')).action(async (opts: Target & { active?: boolean }) => {
    const t = target(opts);
    const holds = t.server !== undefined ? ((await callApi(t, 'GET', `/v1/retention/holds${opts.active === true ? '?active=true' : ''}`)) as { holds: StoredHold[] }).holds : await local(t, (r) => r.holds(opts.active === true ? { active: true } : {}));
    if (holds.length === 0) out('no legal holds');
    for (const h of holds) out(formatHold(h));
  });

  targetOptions(retention.command('hold').description('place a legal hold on a service or one decision').option('--service <name>', 'hold the whole service').option('--decision <id>', 'hold one decision').requiredOption('--reason <text>', 'why (a case number, a request)')).action(
    async (opts: Target & { service?: string; decision?: string; reason: string }) => {
      const t = target(opts);
      const request = { ...(opts.service === undefined ? {} : { service: opts.service }), ...(opts.decision === undefined ? {} : { decisionId: opts.decision }), reason: opts.reason };
      const hold = t.server !== undefined ? ((await callApi(t, 'POST', '/v1/retention/holds', request)) as StoredHold) : await local(t, (r) => r.hold(request, actor()));
      out(`placed ${formatHold(hold)}`);
    },
  );

  targetOptions(retention.command('release').description('release a legal hold').argument('<id>', 'the hold id (hld_…)')).action(async (id: string, opts: Target) => {
    const t = target(opts);
    const hold = t.server !== undefined ? ((await callApi(t, 'POST', `/v1/retention/holds/${encodeURIComponent(id)}/release`)) as StoredHold) : await local(t, (r) => r.release(id, actor()));
    out(`released ${formatHold(hold)}`);
  });

  const subjects = program.command('subjects').description('data subjects');
  targetOptions(subjects.command('erase').description("erase one data subject (GDPR Art. 17): the raw input and context of every decision with this subject key, except under a legal hold").requiredOption('--subject-key <key>', "the subject key the decisions were made with ('-' reads it from standard input, out of the shell's history)")).action(
    async (opts: Target & { subjectKey: string }) => {
      const t = target(opts);
      if (opts.subjectKey === '-') opts = { ...opts, subjectKey: readFileSync(0, 'utf8').trim() };
      const r = t.server !== undefined ? ((await callApi(t, 'POST', '/v1/subjects/erase', { subjectKey: opts.subjectKey })) as { subjectHash: string; erased: number }) : await local(t, (x) => x.eraseSubject(opts.subjectKey, actor()));
      out(`erased the raw inputs of ${r.erased} decision(s) of subject ${r.subjectHash.slice(0, 24)}…; audited as subject.erased`);
    },
  );
}
