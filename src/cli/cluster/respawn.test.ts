import { describe, expect, it } from 'vitest';
import { RespawnBackoff } from './respawn.js';

describe('RespawnBackoff', () => {
  it('doubles the delay for each quick crash in a row, up to the cap', () => {
    const b = new RespawnBackoff({ baseMs: 1000, maxMs: 30_000, healthyAfterMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.after(false, 50))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('starts again from the base after a worker that lived long enough or drained', () => {
    const b = new RespawnBackoff({ baseMs: 1000, maxMs: 30_000, healthyAfterMs: 10_000 });
    b.after(false, 10);
    b.after(false, 10);
    expect(b.after(false, 10)).toBe(4000);
    expect(b.after(false, 10_000)).toBe(1000); // it lived 10 s: healthy, its crash is not a quick one
    expect(b.after(false, 10)).toBe(1000);
    expect(b.after(false, 10)).toBe(2000);
    expect(b.after(true, 10)).toBe(1000); // drained on a signal of its own
    expect(b.after(false, 10)).toBe(1000);
  });
});
