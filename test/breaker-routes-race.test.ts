// Operator actions on one breaker run one at a time: each reads the state, awaits the store (which keeps and
// audits the change before it takes effect), then acts. Run side by side, ten opens would each see `closed` and
// each be kept and audited as the change. The store here is the real SQLite store with each append held back
// 20 ms, so that the requests overlap whatever the machine's speed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { createService, type ServiceConfig } from '../src/pipeline/index.js';
import { registerBreakerRoutes } from '../src/server/routes/breaker-routes.js';
import { openStore, type Store } from '../src/store/index.js';
import { keywordModelPath } from './helpers/test-ballast.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-breaker-race-'));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

describe('breaker routes under concurrent operators', () => {
  it('ten opens at once: one change, one history entry, one audit event; then the same for ten closes (errors and quality)', async () => {
    const store: Store = await openStore({ kind: 'sqlite', path: path.join(dir, 'ballast.db') });
    closers.push(() => store.close());
    const slowStore = { breakers: { ...store.breakers, append: async (...args: Parameters<Store['breakers']['append']>) => { await new Promise((r) => setTimeout(r, 20)); return store.breakers.append(...args); } } };
    const config: ServiceConfig = {
      contract: { version: 1, input: { schema: { type: 'object' } }, output: { schema: { type: 'object' } } },
      policy: {},
      models: { v1: { adapter: { kind: 'module', path: keywordModelPath, export: 'createModel' } } },
      live: 'v1',
      resilience: { qualityBreaker: { accuracyFloor: 0.9 } },
    };
    const service = await createService('race', config, { adapterContext: { baseDir: process.cwd(), secrets: {} }, redactionKey: 'k' });
    closers.push(() => service.close());
    const app = Fastify();
    app.decorateRequest('principal', null);
    registerBreakerRoutes(app, { services: new Map([['race', service]]), store: slowStore });
    closers.push(() => app.close());

    for (const kind of ['errors', 'quality'] as const) {
      for (const action of ['open', 'close'] as const) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) => app.inject({ method: 'POST', url: `/v1/services/race/breakers/v1/${action}`, payload: { reason: `operator ${i}`, kind } })),
        );
        expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
        expect(answers.filter((a) => a.json<{ changed: boolean }>().changed)).toHaveLength(1);
      }
    }
    const history = await store.breakers.list({ service: 'race', limit: 100 });
    expect(history.map((t) => `${t.kind} ${t.from}→${t.to}`).reverse()).toEqual(['errors closed→open', 'errors open→closed', 'quality closed→open', 'quality open→closed']);
    const audit = await store.audit.list({ service: 'race', limit: 100 });
    expect(audit.map((e) => e.action)).toEqual(['breaker.opened', 'breaker.closed', 'breaker.opened', 'breaker.closed']);
  });
});
