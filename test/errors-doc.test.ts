import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyError, errorCatalogue, errorCodes } from '../src/errors/index.js';
import { httpStatusOf } from '../src/server/index.js';

const rows = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => /^\| `([A-Z_]+)` \| (\d{3}) \| (yes|no) \| (.+) \|$/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ code: m[1]!, status: Number(m[2]), retryable: m[3] === 'yes', meaning: m[4]! }));

describe('docs/errors.md', () => {
  it('documents exactly the codes of the catalogue, in order', () => {
    expect(rows.map((r) => r.code)).toEqual(errorCodes);
  });

  it('gives each code the status of the one status map and the retryable flag of the catalogue', () => {
    for (const row of rows) {
      const code = row.code as keyof typeof errorCatalogue;
      expect({ code, status: row.status, retryable: row.retryable }).toEqual({ code, status: httpStatusOf[code], retryable: errorCatalogue[code].retryable });
    }
  });

  it('answers retryable codes with 429 or 502–504 only, and client mistakes with 4xx', () => {
    for (const code of errorCodes) {
      if (errorCatalogue[code].retryable) expect([429, 502, 503, 504]).toContain(httpStatusOf[code]);
      if (code.startsWith('REQUEST_') || code.startsWith('CONTRACT_INVALID_INPUT')) expect(httpStatusOf[code]).toBeLessThan(500);
    }
  });
});

describe('classifyError', () => {
  it('keeps the catalogue code of errors raised by the monitoring code', async () => {
    const { ks2samp } = await import('../src/monitoring/stats/index.js');
    const { NumericHistogram } = await import('../src/monitoring/sketches/index.js');
    const statsFailure = (() => {
      try {
        ks2samp([], [1]);
      } catch (error) {
        return error;
      }
    })();
    expect(classifyError(statsFailure).code).toBe('STATS_INVALID_INPUT');
    const sketchFailure = (() => {
      try {
        new NumericHistogram([0, 1]).merge(new NumericHistogram([0, 2]));
      } catch (error) {
        return error;
      }
    })();
    expect(classifyError(sketchFailure).code).toBe('SKETCH_INVALID');
    expect(classifyError(new Error('boom')).code).toBe('INTERNAL');
  });
});
