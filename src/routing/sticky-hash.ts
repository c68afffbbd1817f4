// Sticky assignment: the same subject lands in the same bucket on every replica and restart,
// so a user does not flip between model versions from one request to the next.

/** A point in [0, 1) derived from `key` and `salt` alone (32-bit FNV-1a, then a murmur3 finaliser). */
export function stickyBucket(key: string, salt = ''): number {
  let h = 0x811c9dc5;
  const text = `${salt}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV-1a alone clusters on short similar keys; the finaliser spreads them over the range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * `stickyBucket(key, prefix ? `${prefix}\0${a}\0${b}` : `${a}\0${b}`)` computed without building the
 * salt: the route stage runs once per decision, and this hash is all it costs, so it allocates nothing.
 */
export function bucketOf(prefix: string, a: string, b: string, key: string): number {
  return bucketAfter(saltState(prefix, a, b), key);
}

/** The hash state after the salt `prefix\0a\0b\0` (no prefix: `a\0b\0`), to be reused for many keys. */
export function saltState(prefix: string, a: string, b: string): number {
  let h = 0x811c9dc5;
  if (prefix.length > 0) h = fnvZero(fnv(h, prefix));
  return fnvZero(fnv(fnvZero(fnv(h, a)), b));
}

/** The bucket of `key` after a salt whose state `saltState` computed. */
export function bucketAfter(state: number, key: string): number {
  let h = fnv(state, key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** One `\0` separator (xor with 0 is a no-op, so only the multiply remains). */
function fnvZero(h: number): number {
  return Math.imul(h, 0x01000193);
}
