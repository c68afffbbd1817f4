// `ballast drill`: runs a chosen failure against a config and prints what happened. The version's
// model server is replaced by a fault-injecting fake of the same protocol (ballast/testing), the
// service is compiled from the config as `serve` would, and N decisions go through the pipeline into
// a throwaway store: each line says the outcome, who answered and every attempt.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJsonInput, resolveInputLimits } from '../../contracts/index.js';
import { BallastError } from '../../errors/index.js';
import { createDecisionPipeline, type Decision } from '../../pipeline/index.js';
import { newId } from '../../store/index.js';
import { refusingUrl, startFakeHttpModel, startFakeOpenAI, startNeverAccepting, type FakeBehaviour } from '../../testing/index.js';
import { loadConfigFile, type BallastConfig } from '../config-file.js';
import { startRuntime } from '../runtime.js';

export interface DrillOptions {
  readonly configPath: string;
  readonly service: string;
  /** The version to break (default: the live one). */
  readonly version?: string;
  readonly fault: string;
  readonly requests: number;
  /** The decision input as JSON. */
  readonly input: string;
  /** http adapter: what the fake answers when it behaves (JSON; default a keyword spam model's answer). */
  readonly answer?: string;
}

/** The faults `--fault` names, and what each does to the fake. */
export const drillFaults: Readonly<Record<string, string>> = {
  hang: 'accepts the connection, reads the request, never answers',
  refuse: 'nothing listens: connections are refused',
  'never-accept': 'a listener that never accepts: connects hang',
  reset: 'resets the connection instead of answering',
  'reset-mid-body': 'sends half of the answer, then resets',
  'status:N[:S]': 'answers HTTP status N (e.g. 500, 429, 400), with Retry-After: S when given',
  malformed: 'answers 200 with a body that is not JSON',
  'wrong-shape': "answers 200 with JSON that is not the protocol's answer",
  violate: "answers a valid answer whose output breaks the service's output contract",
  'drip-headers': 'sends the answer a byte a second from the status line on',
  'drip-body': 'sends the headers, then the body a byte a second',
  'slow:MS': 'answers normally after MS milliseconds',
  flaky: 'fails every other call with 503',
  'fail-first:N': 'fails the first N calls with 503, then answers',
};

function behaviourOf(fault: string): FakeBehaviour | 'refuse' | 'never-accept' {
  const [name, a, b] = fault.split(':');
  switch (name) {
    case 'hang':
      return { kind: 'hang' };
    case 'refuse':
    case 'never-accept':
      return name;
    case 'reset':
      return { kind: 'reset' };
    case 'reset-mid-body':
      return { kind: 'reset-mid-body' };
    case 'status':
      if (!/^\d{3}$/.test(a ?? '')) break;
      return { kind: 'status', status: Number(a), ...(b === undefined ? {} : { retryAfter: b }) };
    case 'malformed':
      return { kind: 'malformed-json' };
    case 'wrong-shape':
      return { kind: 'wrong-shape' };
    case 'violate':
      return { kind: 'violate' };
    case 'drip-headers':
      return { kind: 'drip', phase: 'headers', intervalMs: 1000 };
    case 'drip-body':
      return { kind: 'drip', phase: 'body', intervalMs: 1000 };
    case 'slow':
      if (!/^\d+$/.test(a ?? '')) break;
      return { kind: 'delay', ms: Number(a) };
    case 'flaky':
      return { kind: 'sequence', steps: [{ kind: 'status', status: 503 }, { kind: 'normal' }] };
    case 'fail-first':
      if (!/^\d+$/.test(a ?? '')) break;
      return { kind: 'first', count: Number(a), behaviour: { kind: 'status', status: 503 } };
  }
  throw new BallastError('REQUEST_INVALID', { detail: `unknown fault '${fault}'; one of: ${Object.keys(drillFaults).join(', ')}` });
}

/** One decision as a line: outcome, who answered, why, and every model call. */
export function describeDrillDecision(index: number, decision: Decision, ms: number): string {
  const e = decision.explanation;
  const calls = (e.attempts ?? []).map((a) => `${a.version}#${a.attempt} ${a.code ?? 'ok'} ${Math.round(a.ms)}ms${a.waitedMs === undefined ? '' : ` (waited ${Math.round(a.waitedMs)}ms)`}`).join(', ');
  const answered = e.fallback === undefined ? (e.modelError === undefined ? `answered by ${decision.version ?? 'none'}` : `no answer (${e.modelError.code})`) : e.fallback.answeredBy === null ? 'no fallback step answered' : `answered by fallback step ${e.fallback.answeredBy.step + 1} (${e.fallback.answeredBy.name})`;
  const skipped = (e.fallback?.steps ?? []).filter((s) => !s.answered).map((s) => `${s.name}: ${s.code ?? 'failed'}`);
  const breakers = (e.breakers ?? []).map((b) => `${b.version} ${b.state}`);
  return [
    `#${index} ${decision.outcome.padEnd(8)} ${answered} in ${Math.round(ms)} ms`,
    calls === '' ? '' : `; calls: ${calls}`,
    skipped.length === 0 ? '' : `; steps that did not answer: ${skipped.join(', ')}`,
    breakers.length === 0 ? '' : `; breakers: ${breakers.join(', ')}`,
  ].join('');
}

/** Runs the drill and prints a line per decision, then the breakers. */
export async function drillCommand(options: DrillOptions, out: (line: string) => void): Promise<void> {
  const config = loadConfigFile(options.configPath);
  const serviceConfig = config.services[options.service];
  if (serviceConfig === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `${options.configPath} has no service '${options.service}' (${Object.keys(config.services).join(', ')})` });
  const versionName = options.version ?? serviceConfig.live;
  const model = serviceConfig.models[versionName];
  if (model === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${options.service} has no model version '${versionName}'` });
  const input = parseJsonInput(Buffer.from(options.input, 'utf8'), resolveInputLimits(config.limits));
  const behaviour = behaviourOf(options.fault);

  const closers: (() => Promise<void>)[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ballast-drill-'));
  try {
    const adapter = model.adapter as { kind: string; model?: string; apiKeySecret?: string };
    let url: string;
    let requests = () => 0;
    if (behaviour === 'refuse') url = await refusingUrl(adapter.kind === 'openai' ? '/v1' : '/predict');
    else if (behaviour === 'never-accept') {
      const listener = await startNeverAccepting(adapter.kind === 'openai' ? '/v1' : '/predict');
      closers.push(() => listener.close());
      url = listener.url;
    } else if (adapter.kind === 'http') {
      const fake = await startFakeHttpModel();
      if (options.answer !== undefined) {
        const answer = JSON.parse(options.answer) as unknown;
        fake.setReply(() => answer);
      }
      fake.behaviour = behaviour;
      closers.push(() => fake.close());
      url = fake.url;
      requests = () => fake.requests;
    } else if (adapter.kind === 'openai') {
      const fake = await startFakeOpenAI(adapter.model === undefined ? {} : { model: adapter.model });
      fake.behaviour = behaviour;
      closers.push(() => fake.close());
      url = fake.url;
      requests = () => fake.requests;
    } else {
      throw new BallastError('REQUEST_INVALID', { detail: `drill breaks http and openai model versions; ${options.service}/${versionName} is a ${adapter.kind} adapter` });
    }
    // The openai adapter needs its key to start; the fake does not check it.
    if (adapter.apiKeySecret !== undefined) process.env[adapter.apiKeySecret] ??= 'drill';
    const drilled: BallastConfig = {
      ...config,
      store: { kind: 'sqlite', path: ':memory:' },
      services: {
        [options.service]: {
          ...serviceConfig,
          models: { ...serviceConfig.models, [versionName]: { ...model, adapter: { ...model.adapter, ...(adapter.kind === 'openai' ? { baseUrl: url } : { url }) } } },
        },
      },
    };
    const fault = Object.keys(drillFaults).find((name) => name.split(':')[0] === options.fault.split(':')[0])!;
    out(`Drill: ${options.service}/${versionName} through a fake that ${drillFaults[fault]} (${options.fault}, at ${url})`);
    const runtime = await startRuntime(drilled, { dataDir: scratch, redactionKey: 'drill', configText: readFileSync(options.configPath, 'utf8') });
    closers.unshift(() => runtime.close());
    const pipeline = createDecisionPipeline({ services: runtime.services, sink: runtime.store.decisions, newId: () => newId('dec'), hashSubject: runtime.hashSubject });
    const counts = new Map<string, number>();
    for (let i = 1; i <= options.requests; i++) {
      const started = performance.now();
      const decision = await pipeline.decide({ service: options.service, input });
      counts.set(decision.outcome, (counts.get(decision.outcome) ?? 0) + 1);
      out(describeDrillDecision(i, decision, performance.now() - started));
    }
    out(`Outcomes: ${[...counts].map(([o, n]) => `${o} ${n}`).join(', ')}; the fake model received ${requests()} requests`);
    for (const version of runtime.services.get(options.service)!.versions.values()) {
      const b = version.breaker?.snapshot();
      if (b !== undefined) out(`Breaker of ${version.name}: ${b.state} (${b.calls} calls in the window, ${(b.failureRate * 100).toFixed(0)}% failed)`);
    }
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}
