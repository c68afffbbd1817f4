// Reference profiles over Kysely: append-only, one transaction per profile (ctx.write), newest wins.
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import type { RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { ReferenceProfilesTable } from './schema.js';

/** What a stored reference profile says about itself, without its statistics. */
export interface StoredReferenceSummary {
  /** `ref_` + 26 characters (time-ordered). */
  readonly id: string;
  readonly service: string;
  readonly name: string;
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
  /** Where the rows came from (a file, a window of the decision log); monitoring gives it meaning. */
  readonly source: unknown;
  readonly rows: number;
}

/** A stored reference profile: JSON values the monitoring module gives meaning to. */
export interface StoredReference extends StoredReferenceSummary {
  readonly features: unknown;
  readonly sketch: unknown;
  readonly vocabularies: unknown;
  /** null when the reference had no labelled predictions with confidences. */
  readonly calibration: unknown;
  /** null when the reference had no labelled predictions. */
  readonly accuracy: unknown;
}

export interface ReferenceRepository {
  /** Appends a profile (with `audit`, who built it, in the same transaction), durable when it resolves; a profile with an existing (service, name) supersedes it. */
  put(reference: StoredReference, audit?: StoredAuditEvent): Promise<void>;
  /** The newest profile of (service, name). */
  get(service: string, name: string): Promise<StoredReference | undefined>;
  /** Every stored profile of a service (superseded ones too), by name, newest first; no statistics. */
  list(service: string): Promise<StoredReferenceSummary[]>;
}

const summaryColumns = ['id', 'service', 'name', 'created_at', 'row_count', 'source'] as const;

function json(value: unknown, field: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new BallastError('INTERNAL', { detail: `reference ${field} is required` });
  return text;
}

function encode(r: StoredReference): ReferenceProfilesTable {
  checkInstant(r.createdAt, 'createdAt');
  if (!Number.isSafeInteger(r.rows) || r.rows < 0) throw new BallastError('INTERNAL', { detail: `reference rows must be an integer >= 0, got ${r.rows}` });
  return {
    id: r.id,
    service: r.service,
    name: r.name,
    created_at: r.createdAt,
    row_count: r.rows,
    source: json(r.source, 'source'),
    features: json(r.features, 'features'),
    sketch: json(r.sketch, 'sketch'),
    vocabularies: json(r.vocabularies, 'vocabularies'),
    calibration: r.calibration === null || r.calibration === undefined ? null : json(r.calibration, 'calibration'),
    accuracy: r.accuracy === null || r.accuracy === undefined ? null : json(r.accuracy, 'accuracy'),
  };
}

// row_count is a bigint column: a number in SQLite, a string in PostgreSQL.
function decodeSummary(row: Pick<ReferenceProfilesTable, (typeof summaryColumns)[number]>): StoredReferenceSummary {
  return { id: row.id, service: row.service, name: row.name, createdAt: row.created_at, source: JSON.parse(row.source), rows: Number(row.row_count) };
}

/** Creates the reference-profile repository of a store. */
export function createReferenceRepository(ctx: RepositoryContext): ReferenceRepository {
  return {
    async put(reference, audit) {
      const row = encode(reference);
      await ctx.write(async (tx) => {
        await tx.insertInto('reference_profiles').values(row).execute();
        if (audit !== undefined) await appendAuditInTransaction(tx, [audit]);
      });
    },

    get: (service, name) =>
      ctx.read(async (db) => {
        const row = await db
          .selectFrom('reference_profiles')
          .selectAll()
          .where('service', '=', service)
          .where('name', '=', name)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (row === undefined) return undefined;
        return {
          ...decodeSummary(row),
          features: JSON.parse(row.features),
          sketch: JSON.parse(row.sketch),
          vocabularies: JSON.parse(row.vocabularies),
          calibration: row.calibration === null ? null : JSON.parse(row.calibration),
          accuracy: row.accuracy === null ? null : JSON.parse(row.accuracy),
        };
      }),

    list: (service) =>
      ctx.read(async (db) => {
        const rows = await db
          .selectFrom('reference_profiles')
          .select(summaryColumns)
          .where('service', '=', service)
          .orderBy('name')
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute();
        return rows.map(decodeSummary);
      }),
  };
}
