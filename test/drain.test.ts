import { describe, expect, it } from 'vitest';
import { startTestBallast } from './helpers/test-ballast.js';

describe('draining', () => {
  it('finishes in-flight decisions, refuses new ones with 503 SERVER_DRAINING, and leaves them durable', async () => {
    const ballast = await startTestBallast();
    const { app } = ballast.server;
    const inFlight = app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'slow200', amount: 500 } } });
    await new Promise((r) => setTimeout(r, 50));
    const drained = ballast.server.drain();
    const late = await app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'late', amount: 500 } } });
    expect(late.statusCode).toBe(503);
    expect(late.json().code).toBe('SERVER_DRAINING');
    expect(late.headers['retry-after']).toBe('1');
    expect(late.headers.connection).toBe('close');
    const first = await inFlight;
    expect(first.statusCode).toBe(200);
    await drained;
    expect((await ballast.runtime.store.decisions.get(first.json().id))?.outcome).toBe('auto');
    const ready = await ballast.runtime.store.decisions.countByOutcome({ service: 'loans' });
    expect(ready.auto).toBe(1);
    await ballast.close();
  });
});

describe('shedding is logged without flooding', () => {
  it('a burst of refusals while draining gives a warning a second with a count, and no stack traces', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const ballast = await startTestBallast(undefined, { logger });
    const { app } = ballast.server;
    const inFlight = app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'slow300', amount: 500 } } });
    await new Promise((r) => setTimeout(r, 50));
    const drained = ballast.server.drain();
    const started = Date.now();
    const refused = await Promise.all(Array.from({ length: 200 }, () => app.inject({ method: 'POST', url: '/v1/services/loans/decisions', payload: { input: { text: 'late', amount: 500 } } })));
    const elapsed = Date.now() - started;
    expect(refused.every((r) => r.statusCode === 503 && r.json().code === 'SERVER_DRAINING')).toBe(true);
    await inFlight;
    await drained;
    const shedLines = lines.map((l) => JSON.parse(l) as { level: number; code?: string; msg: string; err?: unknown }).filter((l) => l.code === 'SERVER_DRAINING');
    expect(shedLines.length).toBeGreaterThanOrEqual(1);
    // At most one line a second (however slow the machine), not one per refusal.
    expect(shedLines.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
    expect(shedLines.length).toBeLessThan(20);
    expect(shedLines.every((l) => l.level === 40 && l.err === undefined)).toBe(true);
    await ballast.close();
  });
});
