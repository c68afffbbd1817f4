// `ballast models register|list|show|history|served`: the model registry of a running server, through
// its API. Registering sends the spec as written: files named by `path` are hashed by the server,
// relative to its config file's directory, so what is registered is what that server will load.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { BallastError } from '../../errors/index.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { shortDigest } from '../../governance/index.js';
import { callApi, type Target } from './keys-command.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
}

interface VersionSummary {
  readonly name: string;
  readonly digest: string;
  readonly author: string;
  readonly registeredAt: string;
  readonly state: string;
  readonly since: string;
  readonly description?: string;
}

interface Transition {
  readonly version: string;
  readonly from: string | null;
  readonly to: string;
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
  readonly rolloutId: string | null;
  readonly revision: number | null;
}

interface VersionDetail extends VersionSummary {
  readonly spec: {
    readonly adapter: { readonly kind: string };
    readonly artifacts?: readonly { readonly name: string; readonly path?: string; readonly url?: string; readonly sha256: string | null }[];
    readonly trainingData?: { readonly ref: string; readonly sha256: string | null; readonly rows?: number };
    readonly adapterFile?: { readonly path: string; readonly sha256: string };
    readonly evaluation?: { readonly metrics: Readonly<Record<string, number>> };
    readonly card?: Readonly<Record<string, unknown>>;
  };
  readonly history: readonly Transition[];
}

const defaultServer = 'http://127.0.0.1:8080';
const short = (digest: string | null): string => (digest === null ? 'unverified' : shortDigest(digest));

function transitionLine(t: Transition): string {
  const context = [t.rolloutId === null ? '' : `rollout ${t.rolloutId}`, t.revision === null ? '' : `revision ${t.revision}`].filter((s) => s !== '').join(', ');
  return `  ${t.at}  ${t.version.padEnd(12)} ${(t.from ?? '—').padEnd(11)} → ${t.to.padEnd(11)} by ${t.actor}${t.reason === '' ? '' : `: ${t.reason}`}${context === '' ? '' : ` (${context})`}`;
}

/** The spec (and its name, when the file has a top-level `name:`) from a YAML or JSON file. */
export function readVersionFile(file: string, name: string | undefined): { readonly name: string; readonly spec: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BallastError('CONFIG_NOT_FOUND', { detail: `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new BallastError('CONFIG_INVALID', { detail: `${file} is not YAML: ${error instanceof Error ? error.message : String(error)}` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BallastError('CONFIG_INVALID', { detail: `${file} must hold one model version (adapter:, artifacts:, …)`, issues: [{ pointer: '', code: 'type', message: 'must be an object' }] });
  const { name: fileName, ...spec } = value as Record<string, unknown>;
  const chosen = name ?? (typeof fileName === 'string' ? fileName : undefined);
  if (chosen === undefined) throw new BallastError('REQUEST_INVALID', { detail: `name the version: --name, or a top-level name: in ${file}`, issues: [{ pointer: '/name', code: 'required', message: 'a version name is needed' }] });
  return { name: chosen, spec };
}

/** Adds `models …` to the program. */
export function registerModelsCommand(program: Command, { env, out }: Context): void {
  const target = (opts: { server?: string; apiKey?: string }): Target => ({ server: opts.server ?? defaultServer, ...((opts.apiKey ?? env.apiKey) === undefined ? {} : { apiKey: opts.apiKey ?? env.apiKey }) });
  const serverOptions = (command: Command) =>
    command
      .option('--server <url>', `the server (default ${defaultServer})`)
      .addOption(new Option('--api-key <key>', `a key that may read the service (or register models, for register) [env ${environmentVariables.apiKey}]`))
      .requiredOption('-s, --service <name>', 'the service')
      .option('--json', 'print JSON');
  const base = (service: string) => `/v1/services/${encodeURIComponent(service)}`;
  const models = program.command('models').description("a running server's model registry: versions with their digests, lineage and card, their lifecycle and who moved them, and which served when");

  type Opts = { server?: string; apiKey?: string; service: string; json?: boolean };
  const print = (opts: Opts, answer: unknown, human: () => void) => (opts.json === true ? out(JSON.stringify(answer, null, 2)) : human());

  serverOptions(
    models
      .command('register')
      .description("register a model version from a file (adapter:, artifacts:, trainingData:, evaluation:, card:); paths are hashed by the server, relative to its config file's directory; urls are recorded, never downloaded")
      .requiredOption('-f, --file <path>', 'the version file (YAML or JSON)')
      .option('--name <version>', "the version's name (default: the file's name: key)")
      .option('--reason <text>', 'why (kept in the audit log)'),
  ).action(async (opts: Opts & { file: string; name?: string; reason?: string }) => {
    const { name, spec } = readVersionFile(opts.file, opts.name);
    const answer = (await callApi(target(opts), 'POST', `${base(opts.service)}/models`, { name, spec, ...(opts.reason === undefined ? {} : { reason: opts.reason }) })) as { created: boolean; version: VersionSummary; unverified: string[] };
    print(opts, answer, () => {
      out(answer.created ? `registered ${opts.service}/${name} ${answer.version.digest}` : `${opts.service}/${name} was already registered with this spec (${answer.version.digest}); nothing changed`);
      if (answer.unverified.length > 0) out(`unverified (a url without sha256): ${answer.unverified.join(', ')}`);
    });
  });

  serverOptions(models.command('list').description("the service's versions with their state")).action(async (opts: Opts) => {
    const answer = (await callApi(target(opts), 'GET', `${base(opts.service)}/models`)) as { versions: VersionSummary[] };
    print(opts, answer, () => {
      if (answer.versions.length === 0) out(`${opts.service} has no registered model version`);
      for (const v of answer.versions) out(`${v.name.padEnd(16)} ${v.state.padEnd(11)} since ${v.since}  ${short(v.digest)}  by ${v.author}${v.description === undefined ? '' : `  ${v.description}`}`);
    });
  });

  serverOptions(models.command('show').description('one version: digest, lineage, evaluation, card and history').requiredOption('--version <name>', 'the model version')).action(async (opts: Opts & { version: string }) => {
    const v = (await callApi(target(opts), 'GET', `${base(opts.service)}/models/${encodeURIComponent(opts.version)}`)) as VersionDetail;
    print(opts, v, () => {
      out(`${opts.service}/${v.name}  ${v.state} since ${v.since}`);
      out(`digest      ${v.digest}`);
      out(`author      ${v.author}, registered ${v.registeredAt}`);
      out(`adapter     ${v.spec.adapter.kind}${v.spec.adapterFile === undefined ? '' : ` ${v.spec.adapterFile.path} (${short(v.spec.adapterFile.sha256)})`}`);
      for (const a of v.spec.artifacts ?? []) out(`artifact    ${a.name}: ${a.path ?? a.url ?? ''} (${short(a.sha256)})`);
      if (v.spec.trainingData !== undefined) out(`training    ${v.spec.trainingData.ref} (${short(v.spec.trainingData.sha256)})${v.spec.trainingData.rows === undefined ? '' : `, ${v.spec.trainingData.rows} rows`}`);
      const metrics = Object.entries(v.spec.evaluation?.metrics ?? {});
      if (metrics.length > 0) out(`evaluation  ${metrics.map(([k, n]) => `${k} ${n}`).join(', ')}`);
      if (v.spec.card !== undefined) for (const [k, value] of Object.entries(v.spec.card)) out(`card        ${k}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
      out('history:');
      for (const t of v.history) out(transitionLine(t));
    });
  });

  serverOptions(models.command('history').description('lifecycle transitions, oldest first: who, when, why').option('--version <name>', 'one version (default: every version of the service)')).action(async (opts: Opts & { version?: string }) => {
    if (opts.version !== undefined) {
      const answer = (await callApi(target(opts), 'GET', `${base(opts.service)}/models/${encodeURIComponent(opts.version)}/history`)) as { transitions: Transition[] };
      print(opts, answer, () => answer.transitions.forEach((t) => out(transitionLine(t))));
      return;
    }
    const listed = (await callApi(target(opts), 'GET', `${base(opts.service)}/models`)) as { versions: VersionSummary[] };
    const all: Transition[] = [];
    for (const v of listed.versions) all.push(...((await callApi(target(opts), 'GET', `${base(opts.service)}/models/${encodeURIComponent(v.name)}/history`)) as { transitions: Transition[] }).transitions);
    // Each version's log is in time order; merged by time (stable, so equal instants keep their order).
    all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    print(opts, { service: opts.service, transitions: all }, () => all.forEach((t) => out(transitionLine(t))));
  });

  serverOptions(models.command('served').description('which versions served the service at an instant (live, canary) and which were shadowed').option('--at <instant>', 'ISO 8601 instant (default now)')).action(async (opts: Opts & { at?: string }) => {
    const query = opts.at === undefined ? '' : `?at=${encodeURIComponent(opts.at)}`;
    const answer = (await callApi(target(opts), 'GET', `${base(opts.service)}/served${query}`)) as { at: string; served: { name: string; state: string; since: string }[]; shadow: { name: string; since: string }[] };
    print(opts, answer, () => {
      out(`${opts.service} at ${answer.at}:`);
      if (answer.served.length === 0) out('  no registered version was serving');
      for (const s of answer.served) out(`  ${s.name.padEnd(16)} ${s.state.padEnd(7)} since ${s.since}`);
      for (const s of answer.shadow) out(`  ${s.name.padEnd(16)} shadow  since ${s.since}`);
    });
  });
}
