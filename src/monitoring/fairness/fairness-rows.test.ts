import { describe, expect, it } from 'vitest';
import { atPointer, isFavourable } from './fairness-rows.js';

describe('atPointer (fairness)', () => {
  it('resolves RFC 6901 pointers through objects and arrays, with ~1 and ~0 escapes', () => {
    const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, '': 1 };
    expect(atPointer(doc, '')).toBe(doc);
    expect(atPointer(doc, '/a/b~1c/0')).toBe(10);
    expect(atPointer(doc, '/a/b~1c/1/d~0e')).toBe('x');
    expect(atPointer(doc, '/')).toBe(1);
    expect(atPointer(doc, '/a/missing')).toBeUndefined();
    expect(atPointer(doc, '/a/b~1c/2')).toBeUndefined();
  });

  it('reads own properties only: a pointer never resolves on the prototype', () => {
    expect(atPointer({ label: 'approve' }, '/constructor')).toBeUndefined();
    expect(atPointer({ label: 'approve' }, '/__proto__')).toBeUndefined();
    expect(atPointer({ label: 'approve' }, '/toString')).toBeUndefined();
    // So an answer is never favourable through an inherited property.
    expect(isFavourable({ label: 'deny' }, { pointer: '/constructor/name', equals: 'Object' })).toBe(false);
    expect(isFavourable({ label: 'approve' }, { pointer: '/label', equals: 'approve' })).toBe(true);
  });
});
