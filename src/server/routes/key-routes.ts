import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BallastError, type Issue } from '../../errors/index.js';
import { parseDuration, roles, type KeyManager } from '../../governance/index.js';
import { principalKinds, type Actor, type PrincipalKind, type Store } from '../../store/index.js';

interface Deps {
  readonly keys: KeyManager;
  readonly store: Store;
}

type KeyParams = { Params: { id: string } };

/** The actor of a request (the auth hook has set its principal). */
export function actorOf(request: FastifyRequest): Actor {
  const p = request.principal;
  return p === null ? { principal: 'anonymous', keyId: null, role: null } : { principal: p.principal, keyId: p.keyId, role: p.role };
}

export function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) throw new BallastError('REQUEST_UNSUPPORTED_MEDIA_TYPE', { detail: `${what} needs a JSON body with Content-Type: application/json` });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BallastError('REQUEST_INVALID', { detail: `${what} must be a JSON object`, issues: [{ pointer: '', code: 'type', message: 'must be an object' }] });
  return body as Record<string, unknown>;
}

function duration(value: unknown, pointer: string, issues: Issue[]): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value as string);
  } catch {
    issues.push({ pointer, code: 'format', message: 'must be a duration such as 90d, 12h or 30m' });
    return undefined;
  }
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], issues: Issue[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) issues.push({ pointer: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'additionalProperties', message: `unknown property '${key}' (allowed: ${allowed.join(', ')})` });
  }
}

/** Principals and API keys, for admins: create (the secret is in this answer only), list, revoke, rotate. */
export function registerKeyRoutes(app: FastifyInstance, { keys, store }: Deps): void {
  app.get('/v1/whoami', async (request) => ({ ...request.principal }));

  app.get('/v1/principals', async () => ({ principals: await store.identity.listPrincipals() }));

  app.get<{ Querystring: { principal?: string } }>('/v1/keys', async (request) => ({ keys: await keys.list({ principal: request.query.principal }) }));

  app.get<KeyParams>('/v1/keys/:id', async (request) => keys.get(request.params.id));

  app.post('/v1/keys', async (request, reply) => {
    const obj = objectBody(request.body, 'a key request');
    const issues: Issue[] = [];
    checkKeys(obj, ['principal', 'role', 'service', 'expires', 'kind', 'email'], issues);
    if (typeof obj.principal !== 'string') issues.push({ pointer: '/principal', code: 'required', message: 'must be the name of a person or workload' });
    if (typeof obj.role !== 'string' || !(roles as readonly string[]).includes(obj.role)) issues.push({ pointer: '/role', code: 'enum', message: `must be one of ${roles.join(', ')}` });
    if (obj.service !== undefined && obj.service !== null && typeof obj.service !== 'string') issues.push({ pointer: '/service', code: 'type', message: 'must be a service name' });
    if (obj.kind !== undefined && !(principalKinds as readonly unknown[]).includes(obj.kind)) issues.push({ pointer: '/kind', code: 'enum', message: `must be one of ${principalKinds.join(', ')}` });
    if (obj.email !== undefined && typeof obj.email !== 'string') issues.push({ pointer: '/email', code: 'type', message: 'must be a string' });
    const expiresInMs = duration(obj.expires, '/expires', issues);
    if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the key request is not of the expected shape', issues });
    const created = await keys.create(
      {
        principal: obj.principal as string,
        role: obj.role as string,
        service: (obj.service as string | null | undefined) ?? null,
        ...(expiresInMs === undefined ? {} : { expiresInMs }),
        ...(obj.kind === undefined ? {} : { kind: obj.kind as PrincipalKind }),
        ...(obj.email === undefined ? {} : { email: obj.email as string }),
      },
      { actor: actorOf(request), requestId: request.id },
    );
    void reply.status(201).header('location', `/v1/keys/${created.key.id}`).header('cache-control', 'no-store');
    return { ...created.key, token: created.token };
  });

  app.post<KeyParams>('/v1/keys/:id/revoke', async (request) => keys.revoke(request.params.id, { actor: actorOf(request), requestId: request.id }));

  app.post<KeyParams>('/v1/keys/:id/rotate', async (request, reply) => {
    const obj = request.body === undefined ? {} : objectBody(request.body, 'a rotation request');
    const issues: Issue[] = [];
    checkKeys(obj, ['grace'], issues);
    const graceMs = obj.grace === '0' || obj.grace === 0 ? 0 : duration(obj.grace, '/grace', issues);
    if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the rotation request is not of the expected shape', issues });
    const rotated = await keys.rotate(request.params.id, { actor: actorOf(request), requestId: request.id, ...(graceMs === undefined ? {} : { graceMs }) });
    void reply.status(201).header('location', `/v1/keys/${rotated.key.id}`).header('cache-control', 'no-store');
    return { ...rotated.key, token: rotated.token, previous: rotated.previous };
  });
}
