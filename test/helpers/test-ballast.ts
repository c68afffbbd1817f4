import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/cli/config-file.js';
import { startRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createAuthenticator, createFailedAuthLimiter } from '../../src/governance/index.js';
import type { FastifyBaseLogger } from 'fastify';
import { createServer, type BallastServer } from '../../src/server/index.js';
import type { Admission } from '../../src/server/admission.js';

export const keywordModelPath = fileURLToPath(new URL('../fixtures/keyword-model.mjs', import.meta.url));

/** A loan-like service over the keyword test model, with rules of every kind. */
export function testConfigYaml(options: { adapter?: string; extraRules?: string; limits?: string } = {}): string {
  const adapter = options.adapter ?? `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel }`;
  return `version: 1
${options.limits ?? ''}
services:
  loans:
    description: test service
    contract:
      version: 3
      input:
        schema:
          type: object
          required: [text, amount]
          additionalProperties: false
          properties:
            text: { type: string, maxLength: 5000 }
            amount: { type: number, minimum: 0, maximum: 1000000 }
            country: { type: string }
            email: { type: string }
            certainty: { type: number }
        fields:
          text: { kind: text }
          amount: { kind: numeric, expected: { min: 100, max: 50000 } }
          country: { kind: categorical, expected: { categories: [DE, FR, NL] } }
          email: { kind: categorical, pii: true }
      output:
        schema:
          type: object
          required: [label, score]
          additionalProperties: false
          properties:
            label: { enum: [approve, deny] }
            score: { type: number }
    policy:
      thresholds: { auto: 0.8, reject: 0.2 }
      rules:
        - { name: sanctioned, stage: pre, when: 'has(input.country) && input.country == "XX"', action: reject, reason: 'Country under sanctions' }
        - { name: large-amount, stage: pre, when: 'input.amount > 200000', action: review, reason: 'Large amounts need a human' }
        - { name: vip, stage: post, when: 'has(context.vip) && context.vip == true && output.label == "deny"', action: override, set: { label: '"approve"' }, reason: 'VIP customers are never auto-denied' }
        - { name: round-amount, stage: post, when: 'input.amount == 1000.0', action: flag, reason: 'Round amounts are watched' }
${options.extraRules ?? ''}
    models:
      v1:
        timeoutMs: 500
        adapter: ${adapter}
    live: v1
`;
}

export interface TestBallast {
  readonly dir: string;
  readonly runtime: Runtime;
  readonly server: BallastServer;
  /** The admission given by the `admission` option (closed by `close()`), else undefined (the server's own). */
  readonly admission: Admission | undefined;
  close(): Promise<void>;
}

export interface TestBallastOptions {
  readonly auth?: 'keys' | 'off';
  readonly logger?: FastifyBaseLogger;
  /** Builds the server's admission control (e.g. `createAdmission(runtime.services, …)`), so a test can read its snapshot. */
  readonly admission?: (runtime: Runtime) => Admission;
}

/** A whole Ballast (config text → runtime → server) over a SQLite file in a temp dir. */
/** With `auth: 'keys'` the server checks API keys (create them with `server.keys`); by default it does not. */
export async function startTestBallast(yaml = testConfigYaml(), options: TestBallastOptions = {}): Promise<TestBallast> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-test-'));
  return startIn(dir, yaml, options, true);
}

/**
 * Like startTestBallast, over a data directory the caller owns: `close()` leaves it in place, so a
 * second Ballast started on the same `dir` finds what the first one kept (a restart).
 */
export async function startTestBallastIn(dir: string, yaml = testConfigYaml(), options: TestBallastOptions = {}): Promise<TestBallast> {
  mkdirSync(dir, { recursive: true });
  return startIn(dir, yaml, options, false);
}

async function startIn(dir: string, yaml: string, options: TestBallastOptions, removeOnClose: boolean): Promise<TestBallast> {
  const file = path.join(dir, 'ballast.yaml');
  writeFileSync(file, yaml);
  const config = parseConfigText(yaml, file);
  const runtime = await startRuntime(config, { dataDir: dir, redactionKey: 'test-key', configText: yaml });
  await runtime.live.recordStart(yaml, file, { principal: 'local:test', keyId: null, role: 'admin' });
  const admission = options.admission?.(runtime);
  const server = createServer({ ...(admission === undefined ? {} : { admission }), services: runtime.services, store: runtime.store, hashSubject: runtime.hashSubject, limits: config.limits, logger: options.logger ?? false, version: 'test', monitoring: runtime.monitoring.hub, auth: options.auth === 'keys' ? { mode: 'keys', authenticator: createAuthenticator({ store: runtime.store }), limiter: createFailedAuthLimiter() } : { mode: 'off' }, ledger: runtime.ledger, retention: runtime.retention, breakerEvents: runtime.onBreakerTransition, config: runtime.live, routing: runtime.safeChange.routing, shadow: runtime.shadow, safeChange: runtime.safeChange, registry: { registry: runtime.registry, baseDir: config.baseDir } });
  await runtime.monitoring.start({ schedule: false });
  await runtime.safeChange.start();
  runtime.safeChange.stop();
  await server.app.ready();
  return {
    dir,
    runtime,
    server,
    admission,
    async close() {
      await server.drain();
      admission?.close();
      await runtime.close();
      if (removeOnClose) rmSync(dir, { recursive: true, force: true });
    },
  };
}
