// RFC 6901 JSON pointers: every issue Ballast reports locates its value with one.

/** Escapes one reference token (`~` → `~0`, `/` → `~1`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Appends one unescaped segment (a property name or an array index) to a pointer. */
export function appendPointer(pointer: string, segment: string | number): string {
  return `${pointer}/${escapePointerSegment(String(segment))}`;
}

/** Builds a pointer from unescaped segments, outermost first. */
export function pointerFrom(segments: readonly (string | number)[]): string {
  let pointer = '';
  for (const segment of segments) pointer = appendPointer(pointer, segment);
  return pointer;
}

/** The unescaped reference tokens of a pointer (`/a~1b/0` → ['a/b', '0']; '' → []), or undefined when it does not start with '/'. */
export function pointerTokens(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  // '~1' first (RFC 6901 §4): '~01' is '~1', not '/'.
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at `tokens` (own properties only, arrays by canonical index), or undefined when a step is missing. */
export function valueAtTokens(value: unknown, tokens: readonly string[]): unknown {
  let current = value;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}

/** The value at an RFC 6901 pointer, or undefined (a step missing, or not a pointer). */
export function valueAtPointer(value: unknown, pointer: string): unknown {
  const tokens = pointerTokens(pointer);
  return tokens === undefined ? undefined : valueAtTokens(value, tokens);
}
