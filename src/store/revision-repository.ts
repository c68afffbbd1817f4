// Configuration revisions: numbered, immutable snapshots of the whole configuration. A revision is
// appended with the audit event of whoever made it, in one transaction; the next number is taken
// inside that transaction, so two appliers racing for the same base get one revision each or a conflict.
import { BallastError } from '../errors/index.js';
import { appendAuditInTransaction } from './audit-repository.js';
import type { StoredAuditEvent } from './governance-records.js';
import { pageSize, type RepositoryContext } from './repository-context.js';
import { checkInstant } from './row-codec.js';
import type { ConfigRevisionsTable } from './schema.js';

export interface StoredRevision {
  readonly number: number;
  /** SHA-256 (hex) of the configuration's canonical JSON: equal digests, equal configurations. */
  readonly digest: string;
  /** The configuration as YAML text. */
  readonly text: string;
  /** The file it came from, or what made it (`rollout <id> promote`). */
  readonly source: string;
  readonly actor: string;
  readonly at: string;
  readonly reason: string;
  /** The revision it was planned against; null for the first. */
  readonly basedOn: number | null;
}

/** A revision to append: its number is the next one. */
export type NewRevision = Omit<StoredRevision, 'number'>;

export interface RevisionRepository {
  /**
   * Appends the next revision (and its audit event, built from the number by `audit`) in one transaction.
   * With `expect`, refuses with CONFIG_CONFLICT unless the latest revision is still `expect` (null: none yet).
   */
  append(revision: NewRevision, options: { readonly expect?: number | null; readonly audit?: (number: number) => StoredAuditEvent }): Promise<StoredRevision>;
  latest(): Promise<StoredRevision | undefined>;
  get(number: number): Promise<StoredRevision | undefined>;
  /** Newest first, without their text. */
  list(options: { readonly limit: number; readonly before?: number }): Promise<Omit<StoredRevision, 'text'>[]>;
}

const decode = (row: ConfigRevisionsTable): StoredRevision => ({
  number: Number(row.number),
  digest: row.digest,
  text: row.text,
  source: row.source,
  actor: row.actor,
  at: row.at,
  reason: row.reason,
  basedOn: row.based_on === null ? null : Number(row.based_on),
});

export function createRevisionRepository(ctx: RepositoryContext): RevisionRepository {
  return {
    append: (revision, options) =>
      ctx.write(async (tx) => {
        checkInstant(revision.at, 'at');
        const top = await tx.selectFrom('config_revisions').select('number').orderBy('number', 'desc').limit(1).executeTakeFirst();
        const latest = top === undefined ? null : Number(top.number);
        if (options.expect !== undefined && options.expect !== latest) {
          throw new BallastError('CONFIG_CONFLICT', {
            detail: `the running revision is ${latest ?? 'none'}, not ${options.expect ?? 'none'}: another change was applied in between; plan again`,
          });
        }
        const number = (latest ?? 0) + 1;
        await tx
          .insertInto('config_revisions')
          .values({ number, digest: revision.digest, text: revision.text, source: revision.source, actor: revision.actor, at: revision.at, reason: revision.reason, based_on: revision.basedOn })
          .execute();
        if (options.audit !== undefined) await appendAuditInTransaction(tx, [options.audit(number)]);
        return { ...revision, number };
      }),
    latest: () =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('config_revisions').selectAll().orderBy('number', 'desc').limit(1).executeTakeFirst();
        return row === undefined ? undefined : decode(row);
      }),
    get: (number) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('config_revisions').selectAll().where('number', '=', number).executeTakeFirst();
        return row === undefined ? undefined : decode(row);
      }),
    list: (options) =>
      ctx.read(async (db) => {
        let query = db.selectFrom('config_revisions').select(['number', 'digest', 'source', 'actor', 'at', 'reason', 'based_on']);
        if (options.before !== undefined) query = query.where('number', '<', options.before);
        const rows = await query.orderBy('number', 'desc').limit(pageSize(options.limit)).execute();
        return rows.map((row) => {
          const { text: _text, ...rest } = decode({ ...row, text: '' });
          return rest;
        });
      }),
  };
}
