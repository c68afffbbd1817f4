// The compiled services of the running configuration revision, swapped whole by `apply`. Readers
// that want "the services now" (routes, monitors) use it as a map; the pipeline takes one snapshot
// when a request arrives and runs every stage on it, so no decision ever mixes two revisions.
import type { Service } from './service.js';

/** One revision's compiled services. Immutable. */
export interface CatalogSnapshot {
  readonly revision: number;
  readonly services: ReadonlyMap<string, Service>;
}

export class ServiceCatalog implements ReadonlyMap<string, Service> {
  private current: CatalogSnapshot;

  constructor(revision: number, services: ReadonlyMap<string, Service>) {
    this.current = Object.freeze({ revision, services });
  }

  /** The running revision: read once per request. */
  snapshot(): CatalogSnapshot {
    return this.current;
  }

  get revision(): number {
    return this.current.revision;
  }

  /** Makes `services` the running revision (one assignment: the next request sees all of it); returns the one it replaced. */
  swap(revision: number, services: ReadonlyMap<string, Service>): CatalogSnapshot {
    const previous = this.current;
    this.current = Object.freeze({ revision, services });
    return previous;
  }

  /** Renumbers the running revision without changing its services (the first start records revision N of what is already compiled). */
  renumber(revision: number): void {
    this.current = Object.freeze({ revision, services: this.current.services });
  }

  get size(): number {
    return this.current.services.size;
  }
  get(name: string): Service | undefined {
    return this.current.services.get(name);
  }
  has(name: string): boolean {
    return this.current.services.has(name);
  }
  forEach(fn: (value: Service, key: string, map: ReadonlyMap<string, Service>) => void, thisArg?: unknown): void {
    this.current.services.forEach(fn, thisArg);
  }
  keys(): MapIterator<string> {
    return this.current.services.keys();
  }
  values(): MapIterator<Service> {
    return this.current.services.values();
  }
  entries(): MapIterator<[string, Service]> {
    return this.current.services.entries();
  }
  [Symbol.iterator](): MapIterator<[string, Service]> {
    return this.current.services[Symbol.iterator]();
  }
}
