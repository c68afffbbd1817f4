// The model registry: a version is registered once with its digest and never changes; its lifecycle is
// an append-only log of transitions, each with who, when, why and its audit event in the same
// transaction. The log answers point-in-time questions: which versions served a service at time T.
import { BallastError, type ErrorCode, type Issue } from '../../errors/index.js';
import { escapePointerSegment } from '../../contracts/index.js';
import { newId, type Actor, type Store, type StoredModelTransition, type StoredModelVersionWithState } from '../../store/index.js';
import { auditEvent } from '../audit-events.js';
import { digestModelVersion, specDifferences, type DigestedModelVersion } from './model-digest.js';
import { checkTransition, isModelState, type ModelState } from './model-lifecycle.js';
import { specOfModelConfig, type DigestedModelVersionSpec, type ModelVersionSpec } from './model-spec.js';

/** A registered version with its current state. */
export interface ModelVersionView {
  readonly service: string;
  readonly name: string;
  readonly digest: string;
  readonly spec: DigestedModelVersionSpec;
  readonly author: string;
  readonly registeredAt: string;
  readonly state: ModelState;
  /** When it entered its state. */
  readonly since: string;
}

export interface RegisterRequest {
  readonly service: string;
  readonly name: string;
  readonly spec: ModelVersionSpec;
  /** Relative file paths in the spec resolve against it. */
  readonly baseDir: string;
}

export interface RegistryActionOptions {
  readonly actor: Actor;
  readonly reason?: string;
  readonly requestId?: string | null;
}

export interface RegisterResult {
  readonly version: ModelVersionView;
  /** false when the same name was already registered with this very spec. */
  readonly created: boolean;
  /** Pointers of remote references registered without a digest. */
  readonly unverified: readonly string[];
}

export interface TransitionRequest {
  readonly service: string;
  readonly version: string;
  readonly to: ModelState;
  readonly reason: string;
  readonly rolloutId?: string | null;
  readonly revision?: number | null;
}

/** One version of a config, as checked against the registry. */
export interface CheckedVersion {
  readonly name: string;
  readonly digest: string;
  /** `new` (not registered yet), `registered` (with this spec). */
  readonly status: 'new' | 'registered';
}

export interface RegistryCheck {
  readonly ok: boolean;
  readonly versions: readonly CheckedVersion[];
  /** Pointers under `/services/<service>/models/<name>`. */
  readonly issues: readonly Issue[];
}

/** The models of a config's services, as the config file has them. */
export type ConfigServices = Readonly<Record<string, { readonly models: Readonly<Record<string, unknown>>; readonly live?: string }>>;

export interface EnsureAllOptions {
  readonly baseDir: string;
  readonly actor: Actor;
  /** Check only: compute digests and conflicts, write nothing. */
  readonly dryRun?: boolean;
  /** Also make each service's `live` version live when it has never left `registered` (the first start). */
  readonly markLive?: boolean;
  readonly revision?: number | null;
  readonly reason?: string;
}

/** The versions that served a service at one instant. */
export interface ServedAt {
  readonly service: string;
  readonly at: string;
  /** Versions live or canary then (they answered requests). */
  readonly served: readonly { readonly name: string; readonly state: 'live' | 'canary'; readonly since: string }[];
  /** Versions shadowed then (they saw copies, never answered). */
  readonly shadow: readonly { readonly name: string; readonly since: string }[];
}

export interface ModelRegistry {
  /** Digests and registers a version; idempotent for the same spec, MODEL_VERSION_CONFLICT (naming what differs) for another. */
  register(request: RegisterRequest, options: RegistryActionOptions): Promise<RegisterResult>;
  /** What registering a service's models would do, without writing: digests, and the issues that would refuse it. */
  check(service: string, models: Readonly<Record<string, unknown>>, options: { readonly baseDir: string }): Promise<RegistryCheck>;
  /** Registers a service's new versions, all or none: when any version has an issue, nothing is written and the issues are returned. */
  ensureRegistered(service: string, models: Readonly<Record<string, unknown>>, options: Omit<EnsureAllOptions, 'dryRun' | 'markLive'>): Promise<{ readonly registered: readonly string[]; readonly issues: readonly Issue[] }>;
  /**
   * Checks every service of a config, then (unless dryRun) registers what is new: throws one BallastError
   * with every issue of every service before writing anything (what `serve --config` and `apply` call).
   */
  ensureAll(services: ConfigServices, options: EnsureAllOptions): Promise<{ readonly registered: readonly string[] }>;
  /** Moves a version to `to`; undefined (nothing written) when it is there already. */
  transition(request: TransitionRequest, options: RegistryActionOptions): Promise<StoredModelTransition | undefined>;
  get(service: string, name: string): Promise<ModelVersionView | undefined>;
  list(service?: string): Promise<ModelVersionView[]>;
  history(service: string, name?: string): Promise<StoredModelTransition[]>;
  servedAt(service: string, at: string): Promise<ServedAt>;
}

export interface ModelRegistryOptions {
  readonly store: Pick<Store, 'registry'>;
  readonly now?: () => number;
}

const resourceOf = (service: string, name: string) => ({ kind: 'model_version', id: `${service}/${name}` });

function view(row: StoredModelVersionWithState): ModelVersionView {
  return { ...row, spec: row.spec as DigestedModelVersionSpec, state: isModelState(row.state) ? row.state : 'registered' };
}

/** The error one list of issues stands for: a conflict first, then an unreadable file, else an invalid config. */
function errorOf(issues: readonly Issue[]): ErrorCode {
  if (issues.some((i) => i.code === 'model_version_conflict')) return 'MODEL_VERSION_CONFLICT';
  if (issues.some((i) => i.code === 'unreadable')) return 'MODEL_ARTIFACT_UNREADABLE';
  return 'CONFIG_INVALID';
}

/** Parses an ISO instant to its canonical form (milliseconds, Z); REQUEST_INVALID otherwise. */
export function isoInstant(value: string, pointer = '/at'): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || !Number.isFinite(ms)) {
    throw new BallastError('REQUEST_INVALID', { detail: `'${value}' is not an ISO 8601 instant`, issues: [{ pointer, code: 'format', message: 'must be an ISO 8601 date-time, e.g. 2026-12-07T06:00:00Z' }] });
  }
  return new Date(ms).toISOString();
}

export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { store, now = Date.now } = options;
  const iso = () => new Date(now()).toISOString();

  /** Issues of `digested` against what is registered under `name` (none when new or equal). */
  const conflicts = (registered: StoredModelVersionWithState | undefined, digested: DigestedModelVersion, pointer: string): Issue[] => {
    if (registered === undefined) return [];
    const differences = specDifferences(registered.spec as DigestedModelVersionSpec, digested.spec);
    if (registered.digest === digested.digest && differences.length === 0) return [];
    const what = differences.length === 0 ? 'its digest' : differences.join(', ');
    return [{
      pointer,
      code: 'model_version_conflict',
      message: `${registered.name} is registered (by ${registered.author}, ${registered.registeredAt}) with ${registered.digest === digested.digest ? 'the same digest but other metadata' : `digest ${registered.digest}, this spec has ${digested.digest}`}; it differs in ${what}: a changed version needs a new name`,
    }];
  };

  async function writeVersion(service: string, name: string, digested: DigestedModelVersion, opts: RegistryActionOptions): Promise<'created' | 'exists'> {
    const at = iso();
    const reason = opts.reason ?? '';
    const row = { service, name, digest: digested.digest, spec: digested.spec, author: opts.actor.principal, registeredAt: at };
    const transition: StoredModelTransition = { id: newId('mtr'), service, version: name, from: null, to: 'registered', at, actor: opts.actor.principal, reason, rolloutId: null, revision: null };
    const audit = auditEvent({
      actor: opts.actor,
      action: 'model.registered',
      resource: resourceOf(service, name),
      service,
      after: { digest: digested.digest, spec: digested.spec, author: row.author },
      detail: reason === '' ? null : reason,
      requestId: opts.requestId ?? null,
      at,
    });
    return store.registry.register(row, transition, audit);
  }

  const registry: ModelRegistry = {
    async register(request, opts) {
      const { service, name } = request;
      const existing = await store.registry.get(service, name);
      const digested = await digestModelVersion(request.spec, { baseDir: request.baseDir });
      const issues = conflicts(existing, digested, '');
      if (issues.length > 0) throw new BallastError('MODEL_VERSION_CONFLICT', { detail: issues[0]!.message, issues });
      const outcome = existing === undefined ? await writeVersion(service, name, digested, opts) : 'exists';
      const stored = await store.registry.get(service, name);
      if (stored === undefined) throw new BallastError('INTERNAL', { detail: `${service}/${name} was registered but cannot be read back` });
      return { version: view(stored), created: outcome === 'created', unverified: digested.unverified };
    },

    async check(service, models, opts) {
      const versions: CheckedVersion[] = [];
      const issues: Issue[] = [];
      for (const [name, block] of Object.entries(models)) {
        const pointer = `/services/${escapePointerSegment(service)}/models/${escapePointerSegment(name)}`;
        let digested: DigestedModelVersion;
        try {
          digested = await digestModelVersion(specOfModelConfig(block as Record<string, unknown>), opts);
        } catch (error) {
          if (!(error instanceof BallastError)) throw error;
          issues.push(...(error.issues.length > 0 ? error.issues.map((i) => ({ ...i, pointer: pointer + i.pointer })) : [{ pointer, code: 'invalid', message: error.detail }]));
          continue;
        }
        const registered = await store.registry.get(service, name);
        const found = conflicts(registered, digested, pointer);
        issues.push(...found);
        if (found.length === 0) versions.push({ name, digest: digested.digest, status: registered === undefined ? 'new' : 'registered' });
      }
      return { ok: issues.length === 0, versions, issues };
    },

    async ensureRegistered(service, models, opts) {
      const checked = await registry.check(service, models, opts);
      if (!checked.ok) return { registered: [], issues: checked.issues };
      const registered: string[] = [];
      for (const v of checked.versions) {
        if (v.status !== 'new') continue;
        const result = await registry.register({ service, name: v.name, spec: specOfModelConfig(models[v.name] as Record<string, unknown>), baseDir: opts.baseDir }, { actor: opts.actor, reason: opts.reason ?? 'in the configuration' });
        if (result.created) registered.push(v.name);
      }
      return { registered, issues: [] };
    },

    async ensureAll(services, opts) {
      const issues: Issue[] = [];
      for (const [service, config] of Object.entries(services)) issues.push(...(await registry.check(service, config.models, opts)).issues);
      if (issues.length > 0) {
        throw new BallastError(errorOf(issues), { detail: `${issues.length} model version${issues.length === 1 ? '' : 's'} of the configuration cannot be registered as written`, issues });
      }
      if (opts.dryRun === true) return { registered: [] };
      const registered: string[] = [];
      for (const [service, config] of Object.entries(services)) {
        const result = await registry.ensureRegistered(service, config.models, opts);
        if (result.issues.length > 0) throw new BallastError(errorOf(result.issues), { detail: 'a model version changed while the configuration was registered', issues: result.issues });
        registered.push(...result.registered.map((name) => `${service}/${name}`));
        if (opts.markLive === true && config.live !== undefined) {
          const live = await registry.get(service, config.live);
          // Only a version that never left `registered`: later moves are the rollouts' to record.
          if (live !== undefined && live.state === 'registered' && (await store.registry.history(service, config.live)).length === 1) {
            await registry.transition({ service, version: config.live, to: 'live', reason: opts.reason ?? 'live in the configuration', revision: opts.revision ?? null }, { actor: opts.actor });
          }
        }
      }
      return { registered };
    },

    async transition(request, opts) {
      const { service, version, to } = request;
      if (!isModelState(to)) throw new BallastError('REQUEST_INVALID', { detail: `'${String(to)}' is not a lifecycle state`, issues: [{ pointer: '/to', code: 'enum', message: 'must be a lifecycle state' }] });
      const current = await store.registry.get(service, version);
      if (current === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `${service}/${version} is not registered` });
      const from = view(current).state;
      if (from === to) return undefined;
      checkTransition(from, to, `${service}/${version}`);
      const at = iso();
      const t: StoredModelTransition = { id: newId('mtr'), service, version, from, to, at, actor: opts.actor.principal, reason: request.reason, rolloutId: request.rolloutId ?? null, revision: request.revision ?? null };
      const audit = auditEvent({
        actor: opts.actor,
        action: 'model.transitioned',
        resource: resourceOf(service, version),
        service,
        before: { state: from },
        after: { state: to, ...(t.rolloutId === null ? {} : { rolloutId: t.rolloutId }), ...(t.revision === null ? {} : { revision: t.revision }) },
        detail: request.reason === '' ? null : request.reason,
        requestId: opts.requestId ?? null,
        at,
      });
      return store.registry.transition(t, audit);
    },

    get: async (service, name) => {
      const row = await store.registry.get(service, name);
      return row === undefined ? undefined : view(row);
    },
    list: async (service) => (await store.registry.list(service)).map(view),
    history: (service, name) => store.registry.history(service, name),

    async servedAt(service, at) {
      const instant = isoInstant(at);
      const latest = new Map<string, StoredModelTransition>();
      for (const t of await store.registry.transitionsUntil(service, instant)) latest.set(t.version, t);
      const served: { name: string; state: 'live' | 'canary'; since: string }[] = [];
      const shadow: { name: string; since: string }[] = [];
      for (const [name, t] of [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (t.to === 'live' || t.to === 'canary') served.push({ name, state: t.to, since: t.at });
        else if (t.to === 'shadow') shadow.push({ name, since: t.at });
      }
      return { service, at: instant, served, shadow };
    },
  };
  return registry;
}
