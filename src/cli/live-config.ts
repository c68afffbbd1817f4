// Live configuration: `apply` validates a whole configuration, plans it against the running revision,
// compiles it beside the running one (unchanged model versions are taken over with their breakers and
// connections), records it as the next numbered revision with its audit event, and swaps it in with one
// assignment. A request already running finishes on the revision it started on; versions the new
// revision no longer uses are closed once those requests are done (after the longest deadline).
import { stringify } from 'yaml';
import { BallastError } from '../errors/index.js';
import { auditEvent, digestOf, planConfigChange, type ConfigPlan } from '../governance/index.js';
import { type Service, type ServiceCatalog } from '../pipeline/index.js';
import { createSerialQueue } from '../resilience/index.js';
import type { Actor, Store, StoredRevision } from '../store/index.js';
import { configErrorForService, parseConfigText, type BallastConfig } from './config-file.js';

export interface LiveConfigDeps {
  readonly catalog: ServiceCatalog;
  readonly store: Store;
  /** Compiles one service of a new revision (adapters, breakers), given the running one to take versions over from. */
  compile(name: string, config: BallastConfig, previous: Service | undefined): Promise<Service>;
  /** The running configuration when the server started. */
  readonly initial: BallastConfig;
  /** Relative paths in applied text resolve against the directory of the file `serve --config` was given. */
  readonly baseDir: string;
  /** Checks every version of a configuration against the registry (and registers the new ones unless `dryRun`). */
  readonly registerModels?: (config: BallastConfig, options: { readonly actor: Actor; readonly dryRun: boolean; readonly markLive?: boolean }) => Promise<void>;
  /**
   * Called once a revision applied by hand (apply, re-apply) is running, with the services whose live
   * version it moved: the registry records them. A rollout's promotion (setLive) records its own.
   */
  readonly liveChanged?: (changes: readonly LiveChange[], context: { readonly actor: Actor; readonly revision: number; readonly reason: string }) => Promise<void>;
  /** Refuses (GATE_NOT_MET) a revision applied by hand that makes a version live its service's gate does not allow, before anything is written. */
  readonly checkLiveChange?: (changes: readonly LiveChange[], context: { readonly actor: Actor }) => Promise<void>;
  /** How long a request can run on an old revision: its versions are closed after this (default 60 s). */
  readonly retireAfterMs?: number;
  readonly onError?: (error: unknown, what: string) => void;
}

/** A service whose live version a revision moved. */
export interface LiveChange {
  readonly service: string;
  readonly from: string;
  readonly to: string;
}

export interface ApplyRequest {
  /** The configuration as YAML (or JSON) text. */
  readonly text: string;
  /** A name for it in problems and the revision's record (a file name). */
  readonly source: string;
  readonly actor: Actor;
  readonly reason?: string;
  /** Refuse with CONFIG_CONFLICT unless the running revision is still this one. */
  readonly expectRevision?: number;
  /** Plan only. */
  readonly dryRun?: boolean;
  readonly requestId?: string;
  /** Audit action (default `config.applied`). */
  readonly action?: string;
}

export interface ApplyResult {
  readonly plan: ConfigPlan;
  /** The revision running after the call (the same one when nothing changed or on a dry run). */
  readonly revision: number;
  readonly applied: boolean;
}

/** The configuration as a plain value, without where it was read from: what revisions compare and digest. */
export function configContent(config: BallastConfig): unknown {
  const { source: _source, baseDir: _baseDir, ...content } = config;
  return JSON.parse(JSON.stringify(content)) as unknown;
}

/** What `serve --config` runs on. */
export interface StartRecord {
  readonly revision: StoredRevision;
  /** The running revision is newer than the file, which is `fileRevision`. */
  readonly resumed: boolean;
  readonly fileRevision?: number;
}

export interface LiveConfig {
  /** The running configuration. */
  current(): BallastConfig;
  /** The running revision's number (0 until recordStart). */
  running(): number;
  /**
   * Records the configuration `serve` started with: revision 1 on an empty store, the latest when its digest is
   * equal; when the file is an older revision and later ones were applied to the server, the latest is resumed
   * (`resumed`, with the file's revision); else the file is the next revision.
   */
  recordStart(text: string, source: string, actor: Actor): Promise<StartRecord>;
  apply(request: ApplyRequest): Promise<ApplyResult>;
  /** Re-applies an old revision's text as a new revision. */
  reapply(number: number, request: Omit<ApplyRequest, 'text' | 'source'>): Promise<ApplyResult>;
  /**
   * Makes `version` the live version of `service` as a new revision (a rollout's promotion, or undoing one):
   * the running configuration with that one value changed, written out as YAML.
   */
  setLive(service: string, version: string, request: Omit<ApplyRequest, 'text' | 'source' | 'dryRun'> & { readonly source: string }): Promise<ApplyResult>;
  /** Closes the versions waiting to be retired now (at shutdown). */
  close(): Promise<void>;
}

export function createLiveConfig(deps: LiveConfigDeps): LiveConfig {
  let config = deps.initial;
  const retiring = new Set<{ timer: NodeJS.Timeout; close: () => Promise<void> }>();
  // One queue for the whole configuration: every change reads the running one and writes the next.
  const queue = createSerialQueue();
  const serial = <T>(work: () => Promise<T>): Promise<T> => queue('config', work);

  /** How `serve --config` records its file: the reason says so, which tells starts from changes applied to the server. */
  const startReason = 'serve --config';

  /**
   * The newest revision before `before` with this digest, when every revision after it (to `before`
   * included) was applied to the running server rather than recorded by a start with another file.
   */
  async function olderRevisionResumable(digest: string, latest: StoredRevision): Promise<{ readonly number: number } | undefined> {
    if (latest.reason.startsWith(startReason)) return undefined;
    for (let cursor = latest.number; ; ) {
      const page = await deps.store.revisions.list({ limit: 200, before: cursor });
      for (const r of page) {
        if (r.digest === digest) return r;
        if (r.reason.startsWith(startReason)) return undefined;
      }
      if (page.length < 200) return undefined;
      cursor = page.at(-1)!.number;
    }
  }

  async function compileAll(next: BallastConfig, text: string): Promise<Map<string, Service>> {
    const services = new Map<string, Service>();
    try {
      for (const name of Object.keys(next.services)) {
        try {
          services.set(name, await deps.compile(name, next, deps.catalog.get(name)));
        } catch (error) {
          if (error instanceof BallastError && error.code === 'CONFIG_INVALID') throw configErrorForService(next, text, name, error);
          throw error;
        }
      }
    } catch (error) {
      await closeUnused(services, deps.catalog);
      throw error;
    }
    return services;
  }

  async function applyNow(request: ApplyRequest): Promise<ApplyResult> {
    const running = deps.catalog.revision;
    if (request.expectRevision !== undefined && request.expectRevision !== running) {
      throw new BallastError('CONFIG_CONFLICT', { detail: `the running revision is ${running}, not ${request.expectRevision}: another change was applied in between; plan again` });
    }
    // A bad file is refused whole, with every problem (file, line, path).
    const next = parseConfigText(request.text, request.source, deps.baseDir);
    const plan = planConfigChange(configContent(config), configContent(next));
    if (plan.restartRequired.length > 0) {
      throw new BallastError('CONFIG_RESTART_REQUIRED', { detail: `${plan.restartRequired.length} change${plan.restartRequired.length === 1 ? '' : 's'} can only be applied by a restart; nothing was applied`, issues: plan.restartRequired });
    }
    if (plan.changes.length === 0) return { plan, revision: running, applied: false };
    await deps.registerModels?.(next, { actor: request.actor, dryRun: true });
    // A rollout's promotion went through the gate already; a live version changed by hand goes through it here.
    const moved = movedLive(config, next);
    if (request.action !== 'config.live_changed' && moved.length > 0) await deps.checkLiveChange?.(moved, { actor: request.actor });
    const services = await compileAll(next, request.text);
    if (request.dryRun === true) {
      await closeUnused(services, deps.catalog);
      return { plan, revision: running, applied: false };
    }
    let stored: StoredRevision;
    try {
      await deps.registerModels?.(next, { actor: request.actor, dryRun: false });
      const digest = digestOf(configContent(next));
      stored = await deps.store.revisions.append(
        { digest, text: request.text, source: request.source, actor: request.actor.principal, at: new Date().toISOString(), reason: request.reason ?? '', basedOn: running === 0 ? null : running },
        {
          expect: running === 0 ? null : running,
          audit: (number) =>
            auditEvent({
              actor: request.actor,
              action: request.action ?? 'config.applied',
              resource: { kind: 'revision', id: String(number) },
              before: { revision: running, digest: digestOf(configContent(config)) },
              after: { revision: number, digest, changes: plan.changes.map((c) => ({ path: c.path, kind: c.kind })) },
              detail: request.reason ?? null,
              requestId: request.requestId ?? null,
            }),
        },
      );
    } catch (error) {
      await closeUnused(services, deps.catalog);
      throw error;
    }
    const previous = deps.catalog.swap(stored.number, services);
    config = next;
    retire(previous.services, services);
    if (deps.liveChanged !== undefined && request.action !== 'config.live_changed') {
      // The revision runs already; the registry's record of it must not undo it.
      if (moved.length > 0) {
        await deps.liveChanged(moved, { actor: request.actor, revision: stored.number, reason: request.reason ?? `revision ${stored.number}` }).catch((error: unknown) => deps.onError?.(error, 'recording the live versions in the registry'));
      }
    }
    return { plan, revision: stored.number, applied: true };
  }

  /** Closes, after the grace, the versions of `old` that `next` does not use. */
  function retire(old: ReadonlyMap<string, Service>, next: ReadonlyMap<string, Service>): void {
    const kept = new Set([...next.values()].flatMap((s) => [...s.versions.values()]));
    const stale = [...old.values()].flatMap((s) => [...s.versions.values()]).filter((v) => !kept.has(v));
    if (stale.length === 0) return;
    const entry = {
      close: async () => {
        retiring.delete(entry);
        clearTimeout(entry.timer);
        await Promise.allSettled(stale.map((v) => v.adapter.close()));
      },
      timer: setTimeout(() => void entry.close().catch((error: unknown) => deps.onError?.(error, 'closing retired model versions')), deps.retireAfterMs ?? 60_000),
    };
    entry.timer.unref();
    retiring.add(entry);
  }

  return {
    current: () => config,
    running: () => deps.catalog.revision,
    recordStart: (text, source, actor) =>
      serial(async () => {
        const digest = digestOf(configContent(config));
        const latest = await deps.store.revisions.latest();
        // Registering is idempotent: a restart on the same file registers nothing, a file with a
        // changed model under an old name is refused here, before the server listens.
        await deps.registerModels?.(config, { actor, dryRun: false, markLive: true });
        if (latest !== undefined && latest.digest === digest) {
          deps.catalog.renumber(latest.number);
          return { revision: latest, resumed: false };
        }
        // The file is an older revision and what came after it was applied to the running server (a promotion,
        // an apply): the newer revision is what served, so it serves again; the file does not undo it.
        const older = latest === undefined ? undefined : await olderRevisionResumable(digest, latest);
        if (latest !== undefined && older !== undefined) {
          const next = parseConfigText(latest.text, latest.source, deps.baseDir);
          if (planConfigChange(configContent(config), configContent(next)).restartRequired.length === 0) {
            const services = await compileAll(next, latest.text);
            const previous = deps.catalog.swap(latest.number, services);
            config = next;
            await closeUnused(previous.services, deps.catalog);
            return { revision: latest, resumed: true, fileRevision: older.number };
          }
        }
        const stored = await deps.store.revisions.append(
          { digest, text, source, actor: actor.principal, at: new Date().toISOString(), reason: latest === undefined ? startReason : `${startReason}: the file differs from revision ${latest.number}`, basedOn: latest?.number ?? null },
          { expect: latest?.number ?? null, audit: (number) => auditEvent({ actor, action: 'config.applied', resource: { kind: 'revision', id: String(number) }, before: latest === undefined ? null : { revision: latest.number, digest: latest.digest }, after: { revision: number, digest }, detail: 'serve --config' }) },
        );
        deps.catalog.renumber(stored.number);
        return { revision: stored, resumed: false };
      }),
    apply: (request) => serial(() => applyNow(request)),
    reapply: (number, request) =>
      serial(async () => {
        const old = await deps.store.revisions.get(number);
        if (old === undefined) throw new BallastError('REVISION_NOT_FOUND', { detail: `no configuration revision ${number}` });
        return applyNow({ ...request, text: old.text, source: `revision ${number}`, reason: request.reason ?? `re-apply of revision ${number}`, action: 'config.reapplied' });
      }),
    setLive: (service, version, request) =>
      serial(async () => {
        const content = configContent(config) as { services: Record<string, { live: string }> };
        if (content.services[service] === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
        content.services[service]!.live = version;
        return applyNow({ ...request, text: stringify(content, { lineWidth: 0 }), action: request.action ?? 'config.live_changed' });
      }),
    async close() {
      await Promise.allSettled([...retiring].map((entry) => entry.close()));
    },
  };
}

/** The services whose live version `next` moves from `before`'s. */
function movedLive(before: BallastConfig, next: BallastConfig): LiveChange[] {
  return Object.entries(next.services).flatMap(([service, s]) => {
    const from = before.services[service]?.live;
    return from !== undefined && from !== s.live ? [{ service, from, to: s.live }] : [];
  });
}

/** Closes the adapters of freshly compiled services that the running catalog does not share. */
async function closeUnused(services: ReadonlyMap<string, Service>, catalog: ServiceCatalog): Promise<void> {
  const inUse = new Set([...catalog.values()].flatMap((s) => [...s.versions.values()]));
  await Promise.allSettled([...services.values()].flatMap((s) => [...s.versions.values()]).filter((v) => !inUse.has(v)).map((v) => v.adapter.close()));
}
