import type { FastifyInstance } from 'fastify';
import { BallastError, type Issue } from '../../errors/index.js';
import type { ConfigPlan } from '../../governance/index.js';
import type { Actor, Store } from '../../store/index.js';
import { actorOf, objectBody } from './key-routes.js';

/** What the server needs of live configuration (the CLI's composition root provides it). */
export interface ConfigApplier {
  apply(request: {
    readonly text: string;
    readonly source: string;
    readonly actor: Actor;
    readonly reason?: string;
    readonly expectRevision?: number;
    readonly dryRun?: boolean;
    readonly requestId?: string;
  }): Promise<{ readonly plan: ConfigPlan; readonly revision: number; readonly applied: boolean }>;
  reapply(number: number, request: { readonly actor: Actor; readonly reason?: string; readonly expectRevision?: number; readonly dryRun?: boolean; readonly requestId?: string }): Promise<{ readonly plan: ConfigPlan; readonly revision: number; readonly applied: boolean }>;
  /** The running revision's number. */
  running(): number;
}

interface Deps {
  readonly applier: ConfigApplier;
  readonly store: Pick<Store, 'revisions'>;
}

function optionalString(body: Record<string, unknown>, key: string, issues: Issue[]): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') issues.push({ pointer: `/${key}`, code: 'type', message: 'must be a string' });
  return typeof v === 'string' ? v : undefined;
}

function common(body: Record<string, unknown>, issues: Issue[]) {
  const reason = optionalString(body, 'reason', issues);
  const dryRun = body.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') issues.push({ pointer: '/dryRun', code: 'type', message: 'must be a boolean' });
  const expect = body.expectRevision;
  if (expect !== undefined && !(Number.isInteger(expect) && (expect as number) >= 0)) issues.push({ pointer: '/expectRevision', code: 'type', message: 'must be a revision number' });
  return { ...(reason === undefined ? {} : { reason }), ...(dryRun === true ? { dryRun: true } : {}), ...(expect === undefined ? {} : { expectRevision: expect as number }) };
}

const revisionNumber = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new BallastError('REQUEST_INVALID', { detail: `'${raw}' is not a revision number`, issues: [{ pointer: '/number', code: 'type', message: 'must be a positive integer' }] });
  return n;
};

/** Live configuration: plan and apply a whole configuration, list and re-apply revisions. */
export function registerConfigRoutes(app: FastifyInstance, { applier, store }: Deps): void {
  app.post('/v1/config', async (request) => {
    const body = objectBody(request.body, 'an apply');
    const issues: Issue[] = [];
    const text = body.config;
    if (typeof text !== 'string' || text.trim() === '') issues.push({ pointer: '/config', code: 'required', message: 'must be the configuration as YAML text' });
    const source = optionalString(body, 'source', issues) ?? 'api';
    const options = common(body, issues);
    if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the apply request is invalid', issues });
    const result = await applier.apply({ text: text as string, source, actor: actorOf(request), requestId: request.id, ...options });
    return { ...result, before: result.applied ? result.revision - 1 : result.revision };
  });

  app.get<{ Querystring: { before?: string; limit?: string } }>('/v1/revisions', async (request) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    const before = request.query.before === undefined ? undefined : revisionNumber(request.query.before);
    const revisions = await store.revisions.list({ limit: Number.isFinite(limit) ? limit : 50, ...(before === undefined ? {} : { before }) });
    return { running: applier.running(), revisions };
  });

  app.get<{ Params: { number: string } }>('/v1/revisions/:number', async (request) => {
    const number = revisionNumber(request.params.number);
    const revision = await store.revisions.get(number);
    if (revision === undefined) throw new BallastError('REVISION_NOT_FOUND', { detail: `no configuration revision ${number}` });
    return { ...revision, running: applier.running() === number };
  });

  app.post<{ Params: { number: string } }>('/v1/revisions/:number/apply', async (request) => {
    const number = revisionNumber(request.params.number);
    const body = request.body === undefined ? {} : objectBody(request.body, 'a re-apply');
    const issues: Issue[] = [];
    const options = common(body, issues);
    if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the re-apply request is invalid', issues });
    return applier.reapply(number, { actor: actorOf(request), requestId: request.id, ...options });
  });
}
