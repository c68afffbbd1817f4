// `ballast keys create|list|revoke|rotate` and `ballast init`: on the data directory itself (the
// local user acts, as admin), or through a server's API with --server and an admin's key.
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { BallastError, isErrorCode } from '../../errors/index.js';
import { createKeyManager, localActor, parseDuration, roles, type ApiKeyView, type KeyManager } from '../../governance/index.js';
import { openStore, principalKinds, type PrincipalKind, type Store } from '../../store/index.js';
import { loadConfigFile } from '../config-file.js';
import { environmentVariables, type EnvironmentSettings } from '../environment.js';
import { localUser, storeConfigOf } from '../runtime.js';
import { ensureAdminKey } from '../serve-runtime.js';

interface Context {
  readonly env: EnvironmentSettings;
  readonly out: (line: string) => void;
  readonly dataDir: (flag?: string) => string;
  readonly dataDirOption: () => Option;
}

export interface Target {
  readonly dataDir?: string;
  readonly config?: string;
  readonly server?: string;
  readonly apiKey?: string;
}

/** Opens the data directory's store (the config's `store:` when a config is given or ./ballast.yaml exists). */
export async function openDataStore(ctx: Context, target: Target): Promise<{ store: Store; services?: string[] }> {
  const configPath = target.config ?? ctx.env.configPath ?? (existsSync('ballast.yaml') ? 'ballast.yaml' : undefined);
  const config = configPath === undefined ? undefined : loadConfigFile(configPath);
  const store = await openStore(storeConfigOf(config, ctx.dataDir(target.dataDir)));
  return config === undefined ? { store } : { store, services: Object.keys(config.services) };
}

/** A small client of the API for the commands that act through a server (--server). */
export async function callApi(target: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  if (target.apiKey === undefined) throw new BallastError('AUTH_REQUIRED', { detail: `--server needs an API key whose role may do this: --api-key or ${environmentVariables.apiKey}` });
  let response: Response;
  try {
    response = await fetch(new URL(path, target.server), {
      method,
      headers: { authorization: `Bearer ${target.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new BallastError('UPSTREAM_UNAVAILABLE', { detail: `the Ballast server at ${String(target.server)} could not be reached (is it running? --server)`, cause: error });
  }
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    const code = isErrorCode(answer.code) ? answer.code : 'INTERNAL';
    throw new BallastError(code, { detail: typeof answer.detail === 'string' ? answer.detail : `HTTP ${response.status}`, ...(Array.isArray(answer.issues) ? { issues: answer.issues } : {}) });
  }
  return answer;
}

function formatKey(k: ApiKeyView): string {
  return `${k.id}  ${k.principal.padEnd(16)} ${k.role.padEnd(9)} ${(k.service ?? '*').padEnd(14)} ${k.status.padEnd(8)} created ${k.createdAt}${k.expiresAt === null ? '' : `  expires ${k.expiresAt}`}`;
}

function durationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch {
    throw new BallastError('REQUEST_INVALID', { detail: `${flag} must be a duration such as 90d, 12h or 30m, got '${value}'` });
  }
}

async function withKeys<T>(ctx: Context, target: Target, work: (keys: KeyManager) => Promise<T>): Promise<T> {
  const { store, services } = await openDataStore(ctx, target);
  try {
    return await work(createKeyManager({ store, ...(services === undefined ? {} : { services: () => services }) }));
  } finally {
    await store.close();
  }
}

/** Adds `keys …` and `init` to the program. */
export function registerKeysCommand(program: Command, ctx: Context): void {
  const { env, out } = ctx;
  const targetOptions = (command: Command) =>
    command
      .addOption(ctx.dataDirOption())
      .option('-c, --config <file>', "config file, for its store: block and service names (default ./ballast.yaml when it exists)")
      .option('--server <url>', 'act through this server\'s API instead of the data directory')
      .addOption(new Option('--api-key <key>', `an admin's API key, with --server [env ${environmentVariables.apiKey}]`));
  const target = (opts: Target): Target => ({ ...opts, ...(opts.apiKey === undefined && env.apiKey !== undefined ? { apiKey: env.apiKey } : {}) });
  const actor = () => ({ actor: localActor(localUser()) });

  const keys = program.command('keys').description('API keys: create (the secret is printed once), list, revoke, rotate; every change is in the audit log');

  targetOptions(
    keys
      .command('create')
      .description('create a key for a principal (a person or a workload, created if new) with a role, on every service or one')
      .requiredOption('--principal <name>', 'who holds the key')
      .addOption(new Option('--role <role>', 'what it may do').choices(roles).makeOptionMandatory())
      .option('--service <name>', 'only on this service')
      .option('--expires <duration>', 'lifetime, e.g. 90d (default: none)')
      .addOption(new Option('--kind <kind>', 'for a new principal').choices(principalKinds).default('workload'))
      .option('--email <email>', 'for a new principal'),
  ).action(async (opts: Target & { principal: string; role: string; service?: string; expires?: string; kind: PrincipalKind; email?: string }) => {
    const t = target(opts);
    const expiresInMs = durationFlag('--expires', opts.expires);
    const request = { principal: opts.principal, role: opts.role, service: opts.service ?? null, kind: opts.kind, ...(opts.email === undefined ? {} : { email: opts.email }) };
    const created =
      t.server !== undefined
        ? ((await callApi(t, 'POST', '/v1/keys', { ...request, ...(opts.expires === undefined ? {} : { expires: opts.expires }) })) as ApiKeyView & { token: string })
        : await withKeys(ctx, t, async (m) => {
            const { key, token } = await m.create({ ...request, ...(expiresInMs === undefined ? {} : { expiresInMs }) }, actor());
            return { ...key, token };
          });
    out(`created ${created.id} for ${created.principal} (${created.role}${created.service === null ? '' : ` on ${created.service}`})`);
    out(`key (shown once; store it now): ${created.token}`);
  });

  targetOptions(keys.command('list').description('list keys (never their secrets)').option('--principal <name>', 'only this principal\'s').option('--json', 'print JSON')).action(
    async (opts: Target & { principal?: string; json?: boolean }) => {
      const t = target(opts);
      const list =
        t.server !== undefined
          ? ((await callApi(t, 'GET', `/v1/keys${opts.principal === undefined ? '' : `?principal=${encodeURIComponent(opts.principal)}`}`)) as { keys: ApiKeyView[] }).keys
          : await withKeys(ctx, t, (m) => m.list(opts.principal === undefined ? {} : { principal: opts.principal }));
      if (opts.json === true) out(JSON.stringify(list, null, 2));
      else if (list.length === 0) out('no keys');
      else for (const k of list) out(formatKey(k));
    },
  );

  targetOptions(keys.command('revoke').description('revoke a key at once').argument('<id>', 'the key id (bk_…)')).action(async (id: string, opts: Target) => {
    const t = target(opts);
    const key = t.server !== undefined ? ((await callApi(t, 'POST', `/v1/keys/${encodeURIComponent(id)}/revoke`)) as ApiKeyView) : await withKeys(ctx, t, (m) => m.revoke(id, actor()));
    out(`revoked ${key.id} (${key.principal}); a running server stops accepting it within 5 s (at once when revoked through its API)`);
  });

  targetOptions(keys.command('rotate').description('make a new key with the same principal, role and scope; the old one stays valid for the grace period').argument('<id>', 'the key id (bk_…)').option('--grace <duration>', 'how long the old key stays valid', '24h')).action(
    async (id: string, opts: Target & { grace: string }) => {
      const t = target(opts);
      const graceMs = durationFlag('--grace', opts.grace) ?? 0;
      const rotated =
        t.server !== undefined
          ? ((await callApi(t, 'POST', `/v1/keys/${encodeURIComponent(id)}/rotate`, { grace: opts.grace })) as ApiKeyView & { token: string; previous: ApiKeyView })
          : await withKeys(ctx, t, async (m) => {
              const r = await m.rotate(id, { ...actor(), graceMs });
              return { ...r.key, token: r.token, previous: r.previous };
            });
      out(`rotated ${id} → ${rotated.id}; ${id} stays valid until ${rotated.previous.expiresAt}`);
      out(`new key (shown once; store it now): ${rotated.token}`);
    },
  );

  program
    .command('init')
    .description('prepare a data directory: create the store and, when it has no key yet, the first admin key (printed once)')
    .addOption(ctx.dataDirOption())
    .option('-c, --config <file>', 'config file, for its store: block')
    .action(async (opts: Target) => {
      const { store } = await openDataStore(ctx, opts);
      try {
        const first = await ensureAdminKey(store);
        if (first === undefined) out(`${ctx.dataDir(opts.dataDir)} already has keys; create more with \`ballast keys create\``);
        else {
          out(`created the first admin key ${first.id} (principal admin)`);
          out(`admin key (shown once; store it now): ${first.token}`);
        }
      } finally {
        await store.close();
      }
    });
}
