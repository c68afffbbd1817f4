// Signatures against the specification's published vector and against Python's hmac
// (fixtures/webhook-vectors.py wrote the JSON), and verification's every way to say no.
import { describe, expect, it } from 'vitest';
import vectors from './fixtures/webhook-vectors.json' with { type: 'json' };
import { signWebhook, verifyWebhook, webhookSecretKey, webhookSignature } from './webhook-signature.js';

const nowMs = 1_738_324_800_000;
const now = (): number => nowMs;
const timestamp = nowMs / 1000;

describe('webhookSignature', () => {
  it.each(vectors)('matches the independent computation: $name', (v) => {
    const body = Buffer.from(v.bodyBase64, 'base64');
    expect(webhookSignature({ id: v.id, timestamp: v.timestamp, body }, v.secret)).toBe(v.signature);
    // A string body signs its UTF-8 bytes, which is what goes on the wire.
    const text = body.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(body)) expect(webhookSignature({ id: v.id, timestamp: v.timestamp, body: text }, v.secret)).toBe(v.signature);
  });

  it("reproduces the specification's published test vector", () => {
    const signature = webhookSignature(
      { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}' },
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('reads whsec_ secrets as base64 and other secrets as UTF-8 bytes', () => {
    expect(webhookSecretKey('whsec_AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(webhookSecretKey('AAEC')).toEqual(Buffer.from('AAEC', 'utf8'));
    expect(webhookSecretKey('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    for (const bad of ['', 'whsec_', 'whsec_not base64!', 'whsec_AAE']) expect(() => webhookSecretKey(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('refuses ids with a dot and timestamps that are not whole seconds', () => {
    expect(() => webhookSignature({ id: 'a.b', timestamp: 1, body: '' }, 'k')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => webhookSignature({ id: 'a', timestamp: 1.5, body: '' }, 'k')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"type":"alert.firing","id":"alt_1"}';
  const signed = signWebhook({ id: 'whd_1', timestamp, body }, secret);

  it('accepts what signWebhook signed, with node, fetch or mixed-case headers', () => {
    expect(verifyWebhook(signed, body, secret, { now })).toEqual({ valid: true, id: 'whd_1', timestamp });
    expect(verifyWebhook(new Headers({ ...signed }), Buffer.from(body), secret, { now }).valid).toBe(true);
    const mixed = { 'Webhook-Id': signed['webhook-id'], 'WEBHOOK-TIMESTAMP': signed['webhook-timestamp'], 'Webhook-Signature': signed['webhook-signature'] };
    expect(verifyWebhook(mixed, body, secret, { now }).valid).toBe(true);
  });

  it('finds the valid signature among several, and accepts any of several secrets', () => {
    const other = webhookSignature({ id: 'whd_1', timestamp, body }, 'another secret');
    const headers = { ...signed, 'webhook-signature': `v1a,abc v1,${'A'.repeat(43)}= ${other} ${signed['webhook-signature']}` };
    expect(verifyWebhook(headers, body, secret, { now }).valid).toBe(true);
    expect(verifyWebhook(headers, body, ['old secret', 'another secret'], { now }).valid).toBe(true);
    const rotated = signWebhook({ id: 'whd_1', timestamp, body }, ['new secret', secret]);
    expect(rotated['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(rotated, body, secret, { now }).valid).toBe(true);
    expect(verifyWebhook(rotated, body, 'new secret', { now }).valid).toBe(true);
  });

  it('rejects a changed body, id, timestamp or secret', () => {
    const reject = { valid: false, reason: 'no_matching_signature' };
    expect(verifyWebhook(signed, body.replace('alt_1', 'alt_2'), secret, { now })).toEqual(reject);
    expect(verifyWebhook(signed, `${body} `, secret, { now })).toEqual(reject);
    expect(verifyWebhook({ ...signed, 'webhook-id': 'whd_2' }, body, secret, { now })).toEqual(reject);
    expect(verifyWebhook({ ...signed, 'webhook-timestamp': String(timestamp + 1) }, body, secret, { now })).toEqual(reject);
    expect(verifyWebhook(signed, body, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx', { now })).toEqual(reject);
    // The same key bytes given unprefixed are a different (UTF-8) key.
    expect(verifyWebhook(signed, body, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { now })).toEqual(reject);
    expect(verifyWebhook({ ...signed, 'webhook-signature': 'v1,' }, body, secret, { now })).toEqual(reject);
    expect(verifyWebhook({ ...signed, 'webhook-signature': signed['webhook-signature'].slice(0, 20) }, body, secret, { now })).toEqual(reject);
    expect(verifyWebhook({ ...signed, 'webhook-signature': signed['webhook-signature'].replace('v1,', 'v2,') }, body, secret, { now })).toEqual(reject);
  });

  it('rejects missing headers and bad or stale timestamps', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const headers: Record<string, string> = { ...signed };
      delete headers[name];
      expect(verifyWebhook(headers, body, secret, { now })).toEqual({ valid: false, reason: 'missing_header' });
    }
    for (const bad of ['hello', '-1', '1.5', '']) {
      expect(verifyWebhook({ ...signed, 'webhook-timestamp': bad }, body, secret, { now })).toEqual({ valid: false, reason: 'invalid_timestamp' });
    }
    const old = signWebhook({ id: 'whd_1', timestamp: timestamp - 301, body }, secret);
    const future = signWebhook({ id: 'whd_1', timestamp: timestamp + 301, body }, secret);
    const edge = signWebhook({ id: 'whd_1', timestamp: timestamp - 300, body }, secret);
    expect(verifyWebhook(old, body, secret, { now })).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    expect(verifyWebhook(future, body, secret, { now })).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    expect(verifyWebhook(edge, body, secret, { now }).valid).toBe(true);
    expect(verifyWebhook(old, body, secret, { now, toleranceSeconds: 600 }).valid).toBe(true);
  });
});
