// A kill switch per service: engaged, every request goes down the service's fallback chain without
// calling a model. The change is kept and audited before it takes effect; the request path reads an
// in-memory snapshot synchronously, and `load()` refreshes it from the store (at start, or polled).
import { BallastError } from '../../errors/index.js';
import { newId, type Store, type StoredKillSwitch } from '../../store/index.js';
import { auditEvent } from '../audit-events.js';
import type { ActionContext } from '../key-manager.js';

/** An engaged switch as the request path sees it. */
export interface EngagedSwitch {
  /** ISO 8601 UTC. */
  readonly since: string;
  readonly reason: string;
  readonly actor: string;
}

/** A service's switch as the API shows it. */
export interface KillSwitchState {
  readonly service: string;
  readonly engaged: boolean;
  /** When it was last changed; null when it never was. */
  readonly since: string | null;
  readonly reason: string | null;
  readonly actor: string | null;
}

export interface KillSwitchChange {
  /** False when the switch already was so (nothing kept, nothing audited). */
  readonly changed: boolean;
  readonly state: KillSwitchState;
}

export type KillSwitchListener = (service: string, engaged: EngagedSwitch | undefined) => void;

export interface KillSwitch {
  engage(service: string, options: ActionContext & { readonly reason: string }): Promise<KillSwitchChange>;
  release(service: string, options: ActionContext & { readonly reason: string }): Promise<KillSwitchChange>;
  /** The switch as the store has it. */
  state(service: string): Promise<KillSwitchState>;
  /** Refreshes the snapshot from the store (telling listeners what changed); the engaged services. */
  load(): Promise<ReadonlyMap<string, EngagedSwitch>>;
  /** Calls `listener` on every change of the snapshot; returns the function that stops it. */
  onChange(listener: KillSwitchListener): () => void;
  /** The snapshot, synchronously: for the request path. */
  engaged(service: string): EngagedSwitch | undefined;
  history(service: string): Promise<StoredKillSwitch[]>;
}

export interface KillSwitchOptions {
  readonly store: Pick<Store, 'killSwitches'>;
  readonly now?: () => number;
}

const stateOf = (service: string, row: StoredKillSwitch | undefined): KillSwitchState =>
  row === undefined ? { service, engaged: false, since: null, reason: null, actor: null } : { service, engaged: row.engaged, since: row.at, reason: row.reason, actor: row.actor };

export function createKillSwitch(options: KillSwitchOptions): KillSwitch {
  const { store, now = Date.now } = options;
  const snapshot = new Map<string, EngagedSwitch>();
  const listeners = new Set<KillSwitchListener>();
  const tails = new Map<string, Promise<unknown>>();

  function apply(service: string, row: StoredKillSwitch | undefined): void {
    const next = row?.engaged === true ? { since: row.at, reason: row.reason, actor: row.actor } : undefined;
    const prev = snapshot.get(service);
    if (prev?.since === next?.since && prev?.reason === next?.reason) return;
    if (next === undefined) snapshot.delete(service);
    else snapshot.set(service, next);
    for (const listener of listeners) listener(service, next);
  }

  // One change per service at a time, so the snapshot follows the store's order.
  function serialized<T>(service: string, action: () => Promise<T>): Promise<T> {
    const run = (tails.get(service) ?? Promise.resolve()).then(action, action);
    const tail = run.catch(() => undefined);
    tails.set(service, tail);
    void tail.then(() => {
      if (tails.get(service) === tail) tails.delete(service);
    });
    return run;
  }

  async function set(service: string, engaged: boolean, { actor, reason, requestId }: ActionContext & { readonly reason: string }): Promise<KillSwitchChange> {
    const why = reason.trim();
    if (why === '') throw new BallastError('REQUEST_INVALID', { detail: `say why the kill switch of ${service} should be ${engaged ? 'engaged' : 'released'}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
    return serialized(service, async () => {
      const before = await store.killSwitches.latest(service);
      const at = new Date(now()).toISOString();
      const row: StoredKillSwitch = { id: newId('ksw'), service, engaged, at, actor: actor.principal, reason: why };
      const changed = await store.killSwitches.append(
        row,
        auditEvent({ actor, action: engaged ? 'killswitch.engaged' : 'killswitch.released', resource: { kind: 'kill_switch', id: service }, service, before: { engaged: before?.engaged ?? false }, after: { engaged }, detail: why, requestId: requestId ?? null, at }),
      );
      // Unchanged here may mean another replica changed it first: take the store's word either way.
      const current = changed ? row : await store.killSwitches.latest(service);
      apply(service, current);
      return { changed, state: stateOf(service, current) };
    });
  }

  return {
    engage: (service, o) => set(service, true, o),
    release: (service, o) => set(service, false, o),
    state: async (service) => stateOf(service, await store.killSwitches.latest(service)),
    async load() {
      const rows = await store.killSwitches.latestAll();
      const seen = new Set<string>();
      for (const row of rows) {
        seen.add(row.service);
        apply(row.service, row);
      }
      for (const service of [...snapshot.keys()]) if (!seen.has(service)) apply(service, undefined);
      return new Map(snapshot);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    engaged: (service) => snapshot.get(service),
    history: (service) => store.killSwitches.list(service),
  };
}
