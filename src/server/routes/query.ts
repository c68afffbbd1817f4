// Query-string values the routes share: a page size and an instant, each refused with a pointer.
import { BallastError } from '../../errors/index.js';

/** A `limit` of 1..1000, `fallback` when absent. */
export function limitOf(raw: string | undefined, fallback = 100): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new BallastError('REQUEST_INVALID', { detail: 'limit must be an integer from 1 to 1000', issues: [{ pointer: '/limit', code: 'range', message: `got '${raw}'` }] });
  return n;
}

/** An ISO 8601 instant at `pointer` (`/since`), normalised to UTC with milliseconds; undefined when absent. */
export function instantOf(raw: string | undefined, pointer: string): string | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms)) throw new BallastError('REQUEST_INVALID', { detail: `${pointer.slice(1)} must be an ISO 8601 instant`, issues: [{ pointer, code: 'format', message: `got '${raw}'` }] });
  return new Date(ms).toISOString();
}
