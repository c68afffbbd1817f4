import { describe, expect, it } from 'vitest';
import { createSerialQueue } from './serial-queue.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('createSerialQueue', () => {
  it('runs work on one key one at a time, in call order', async () => {
    const serial = createSerialQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const job = (name: string, waits: number) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      for (let i = 0; i < waits; i++) await tick();
      log.push(`end ${name}`);
      running--;
    };
    await Promise.all([serial('k', job('a', 3)), serial('k', job('b', 1)), serial('k', job('c', 0))]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(most).toBe(1);
  });

  it('runs work on different keys concurrently', async () => {
    const serial = createSerialQueue();
    let release!: () => void;
    const blocked = serial('a', () => new Promise<void>((resolve) => (release = resolve)));
    // 'b' finishes while 'a' is still waiting: it does not queue behind another key.
    await expect(serial('b', async () => 'b done')).resolves.toBe('b done');
    release();
    await blocked;
  });

  it('gives each caller its own result, and a failure does not stop the next piece', async () => {
    const serial = createSerialQueue();
    const ran: string[] = [];
    const first = serial('k', async () => {
      ran.push('first');
      return 1;
    });
    const failing = serial('k', async () => {
      ran.push('failing');
      throw new Error('boom');
    });
    const thrown = serial('k', () => {
      ran.push('throws synchronously');
      throw new Error('sync boom');
    });
    const last = serial('k', async () => {
      ran.push('last');
      return { n: 2 };
    });
    await expect(first).resolves.toBe(1);
    await expect(failing).rejects.toThrow('boom');
    await expect(thrown).rejects.toThrow('sync boom');
    await expect(last).resolves.toEqual({ n: 2 });
    expect(ran).toEqual(['first', 'failing', 'throws synchronously', 'last']);
  });

  it('starts work after a failure only once the failure settled', async () => {
    const serial = createSerialQueue();
    const log: string[] = [];
    const failing = serial('k', async () => {
      await tick();
      log.push('failed');
      throw new Error('x');
    });
    const next = serial('k', async () => {
      log.push('next');
    });
    await failing.catch(() => undefined);
    await next;
    expect(log).toEqual(['failed', 'next']);
  });
});
