// The one place that picks a dialect from configuration.
import { openSqliteStore, type SqliteStoreConfig } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** Which database to use and where; PostgreSQL joins this union in a later issue. */
export type StoreConfig = SqliteStoreConfig;

/** JSON Schema (2020-12) of StoreConfig, embeddable in the configuration's schema (so no $id). */
export const storeConfigSchema = {
  type: 'object',
  properties: {
    kind: { const: 'sqlite' },
    path: { type: 'string', minLength: 1, description: "A file path, or ':memory:'." },
    maxBatchSize: { type: 'integer', minimum: 1, maximum: 2048, default: 512 },
    maxPending: { type: 'integer', minimum: 1, default: 10000 },
    durability: {
      enum: ['full', 'process'],
      default: 'full',
      description: "full: synchronous = FULL, an acknowledged write survives a power cut; process: synchronous = NORMAL, it survives the process dying, not a power cut or OS crash. Ignored for ':memory:'.",
    },
  },
  required: ['kind', 'path'],
  additionalProperties: false,
} as const;

/** Opens the configured database, runs pending migrations, and returns the Store over it. */
export function openStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config);
  }
}
