import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { compileContract } from './compile-contract.js';
import type { ContractConfig } from './contract-config.js';

const config: ContractConfig = {
  input: {
    schema: { type: 'object', properties: { from: { type: 'string' }, phone: { type: 'string' }, ssn: { type: 'string' }, address: { type: 'object' }, subject: { type: 'string' } } },
    fields: { from: { pii: true }, phone: { pii: true, redact: 'mask' }, ssn: { pii: true, redact: 'drop' }, address: { pii: true, redact: 'hash' }, subject: { kind: 'text' } },
  },
  output: { schema: { type: 'object', properties: { name: { type: 'string' } } }, fields: { name: { pii: true, redact: 'mask' } } },
};
const contract = compileContract(config, { redactionKey: 'key-one' });
const other = compileContract(config, { redactionKey: 'key-two' });
const input = { from: 'ann@example.com', phone: '+1 555 0100', ssn: '078-05-1120', address: { city: 'Ghent', zip: '9000' }, subject: 'hi' };

describe('redaction', () => {
  it('hashes, masks and drops pii fields and keeps the rest', () => {
    const redacted = contract.redactInput(input);
    expect(redacted.from).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(redacted.phone).toBe('***');
    expect(redacted).not.toHaveProperty('ssn');
    expect(redacted.subject).toBe('hi');
  });

  it('is the HMAC-SHA256 of the canonical JSON of the value', () => {
    const expected = createHmac('sha256', 'key-one').update('"ann@example.com"').digest('hex');
    expect(contract.redactInput(input).from).toBe(`hmac-sha256:${expected}`);
  });

  it('is stable: equal values hash equally, whatever their key order', () => {
    const a = contract.redactInput(input);
    const b = contract.redactInput({ ...input, address: { zip: '9000', city: 'Ghent' } });
    expect(b.from).toBe(a.from);
    expect(b.address).toBe(a.address);
    expect(contract.redactInput({ from: 'bob@example.com' }).from).not.toBe(a.from);
  });

  it('depends on the key', () => {
    expect(other.redactInput(input).from).not.toBe(contract.redactInput(input).from);
  });

  it('masks whatever the type and never mutates its argument', () => {
    const frozen = Object.freeze({ ...input, phone: 12345 });
    const redacted = contract.redactInput(frozen);
    expect(redacted.phone).toBe('***');
    expect(frozen.phone).toBe(12345);
    expect(frozen.ssn).toBe('078-05-1120');
    expect(redacted).not.toBe(frozen);
  });

  it('leaves absent pii fields absent', () => {
    expect(contract.redactInput({ subject: 'x' })).toEqual({ subject: 'x' });
  });

  it('redacts object outputs and passes other outputs through', () => {
    expect(contract.redactOutput({ name: 'Ann', label: 'spam' })).toEqual({ name: '***', label: 'spam' });
    expect(contract.redactOutput('spam')).toBe('spam');
    expect(contract.redactOutput(null)).toBe(null);
  });
});

describe('canonicalJson', () => {
  it('sorts keys and drops whitespace (RFC 8785)', () => {
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: 'x', u: undefined })).toBe('{"a":"x","b":[1,{"c":null,"d":true}]}');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(-0)).toBe('0');
  });
});

describe('scrubPii', () => {
  const withContext = compileContract({ ...config, context: { fields: { customer: { pii: true } } } }, { redactionKey: 'key-one' });
  const excerpt = (text: string) => text.replace(/\s+/g, ' ').trim();

  it('replaces every pii value of the input and context in free text, as written, JSON-escaped or with its whitespace collapsed', () => {
    const address = { street: '12 Main St\nSpringfield', zip: '9000' };
    const text = `cannot score ${JSON.stringify({ from: 'ann@example.com' })} at ${excerpt(address.street)} for CUST-42 (subject hi)`;
    const scrubbed = withContext.scrubPii(text, { ...input, address }, { customer: 'CUST-42' });
    expect(scrubbed).toBe('cannot score {"from":"***"} at *** for *** (subject hi)');
  });

  it('leaves the non-pii words, and removes the start of a value cut off by an excerpt', () => {
    expect(contract.scrubPii('the subject was hi', input)).toBe('the subject was hi');
    expect(contract.scrubPii('reply to ann@exa…', input)).toBe('reply to ***…');
  });

  it('a context key not marked pii stays', () => {
    expect(withContext.redactContext({ customer: 'CUST-42', tier: 'gold' })).toEqual({ customer: expect.stringMatching(/^hmac-sha256:/), tier: 'gold' });
  });
});
