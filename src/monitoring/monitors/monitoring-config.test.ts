import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { BallastError } from '../../errors/index.js';
import { monitoringConfigSchema, labelsRipe, parseDuration, resolveMonitoringConfig, windowOf } from './monitoring-config.js';

function configError(raw: unknown): BallastError {
  try {
    resolveMonitoringConfig(raw);
  } catch (error) {
    if (error instanceof BallastError) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('parseDuration', () => {
  it('reads seconds to weeks', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(parseDuration('1w'));
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
  });

  it.each(['', '0h', '1', 'h', '1.5h', '-1h', '1H', '1 h', '1y', '01h'])('rejects %j with CONFIG_INVALID', (text) => {
    expect(() => parseDuration(text)).toThrow(BallastError);
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});

describe('windowOf', () => {
  const hour = 3_600_000;
  const day = 24 * hour;

  it('aligns hours and days to the Unix epoch, end exclusive', () => {
    const t = Date.parse('2025-03-04T10:59:59.999Z');
    expect(windowOf(t, hour)).toEqual({ start: '2025-03-04T10:00:00.000Z', end: '2025-03-04T11:00:00.000Z' });
    expect(windowOf(Date.parse('2025-03-04T11:00:00.000Z'), hour).start).toBe('2025-03-04T11:00:00.000Z');
    expect(windowOf(t, 15 * 60_000)).toEqual({ start: '2025-03-04T10:45:00.000Z', end: '2025-03-04T11:00:00.000Z' });
    expect(windowOf(t, day)).toEqual({ start: '2025-03-04T00:00:00.000Z', end: '2025-03-05T00:00:00.000Z' });
    expect(windowOf(t, 5 * hour).start).toBe(new Date(Math.floor(t / (5 * hour)) * 5 * hour).toISOString());
  });

  it('starts week-multiples on a Monday 00:00 UTC', () => {
    // 2025-03-04 is a Tuesday; its week starts Monday 2025-03-03.
    const t = Date.parse('2025-03-04T10:00:00Z');
    expect(windowOf(t, 7 * day)).toEqual({ start: '2025-03-03T00:00:00.000Z', end: '2025-03-10T00:00:00.000Z' });
    expect(windowOf(Date.parse('2025-03-09T23:59:59.999Z'), 7 * day).start).toBe('2025-03-03T00:00:00.000Z');
    expect(windowOf(Date.parse('2025-03-10T00:00:00Z'), 7 * day).start).toBe('2025-03-10T00:00:00.000Z');
    const twoWeeks = windowOf(t, 14 * day);
    expect(new Date(twoWeeks.start).getUTCDay()).toBe(1);
    expect(Date.parse(twoWeeks.end) - Date.parse(twoWeeks.start)).toBe(14 * day);
    expect(Date.parse(twoWeeks.start)).toBeLessThanOrEqual(t);
    expect(Date.parse(twoWeeks.end)).toBeGreaterThan(t);
    // Before the first Monday after the epoch (1970-01-01 was a Thursday).
    expect(windowOf(0, 7 * day).start).toBe('1969-12-29T00:00:00.000Z');
  });

  it('rejects unusable arguments', () => {
    expect(() => windowOf(NaN, 1000)).toThrow(RangeError);
    expect(() => windowOf(0, 0)).toThrow(RangeError);
    expect(() => windowOf(0, 1.5)).toThrow(RangeError);
  });
});

describe('resolveMonitoringConfig', () => {
  it('applies every default to an absent block, frozen to the leaves', () => {
    const config = resolveMonitoringConfig(undefined);
    expect(config).toEqual({
      window: '1h',
      windowMs: 3_600_000,
      segments: [],
      evaluateEvery: '1m',
      evaluateEveryMs: 60_000,
      minSamples: 30,
      drift: { method: 'auto', share: 0.5, correction: 'benjamini-hochberg', alpha: 0.05, sampleSize: 1000, features: {} },
      performance: { labelDelay: '1d', labelDelayMs: 86_400_000, accuracy: { warningDrop: 0.05, alertDrop: 0.1 } },
      calibration: { warning: 0.05, alert: 0.1 },
      latency: {},
      rates: { error: { warning: 0.01, alert: 0.05 }, fallback: { warning: 0.05, alert: 0.1 }, reject: {}, review: {} },
      business: { override: { warning: 0.1, alert: 0.2 }, complaint: {}, appealOverturn: {}, minAppeals: 10 },
      agreement: { warning: 0.9, alert: 0.8 },
      hysteresis: { raiseAfter: 1, clearAfter: 2 },
      alerts: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.drift.features)).toBe(true);
    expect(Object.isFrozen(config.rates.error)).toBe(true);
    expect(Object.isFrozen(config.segments)).toBe(true);
    expect(resolveMonitoringConfig({})).toEqual(config);
  });

  it('keeps what is given and fills the rest', () => {
    const raw = {
      window: '1d',
      timestamp: '/sent_at',
      segments: ['country'],
      outputLabel: '/label',
      drift: { method: 'psi', threshold: 0.25, correction: 'bonferroni', features: { body: { method: 'chi-square' }, id: { enabled: false } } },
      performance: { positiveLabel: 'spam', accuracy: { alert: 0.8 } },
      latency: { total: 250, model: { warning: 150, alert: 200 } },
      rates: { error: { alert: 0.02 }, review: { warning: 0.3 } },
      hysteresis: { raiseAfter: 2 },
      alerts: [{ name: 'oncall', webhook: { url: 'https://example.com/hook', secret: 'HOOK_SECRET' } }],
    };
    const before = JSON.stringify(raw);
    const config = resolveMonitoringConfig(raw);
    expect(JSON.stringify(raw)).toBe(before);
    expect(config.windowMs).toBe(86_400_000);
    expect(config.timestamp).toBe('/sent_at');
    expect(config.outputLabel).toBe('/label');
    expect(config.drift).toEqual({
      method: 'psi',
      threshold: 0.25,
      share: 0.5,
      correction: 'bonferroni',
      alpha: 0.05,
      sampleSize: 1000,
      features: { body: { method: 'chi-square', enabled: true }, id: { enabled: false } },
    });
    expect(config.performance).toMatchObject({ positiveLabel: 'spam', accuracy: { alert: 0.8, warningDrop: 0.05, alertDrop: 0.1 } });
    expect(config.performance.accuracy.warning).toBeUndefined();
    expect(config.latency).toEqual({ total: { alert: 250 }, model: { warning: 150, alert: 200 } });
    // A thresholds object that is given replaces the default pair as a whole.
    expect(config.rates.error).toEqual({ alert: 0.02 });
    expect(config.rates.review).toEqual({ warning: 0.3 });
    expect(config.hysteresis).toEqual({ raiseAfter: 2, clearAfter: 2 });
    expect(config.alerts).toEqual([
      {
        name: 'oncall',
        monitors: ['*'],
        minState: 'alert',
        webhook: { url: 'https://example.com/hook', secret: 'HOOK_SECRET', timeoutMs: 5000 },
        group: { by: ['version', 'monitor'], waitMs: 30_000, intervalMs: 300_000, repeatMs: 14_400_000 },
        rateLimit: { max: 20, perMs: 3_600_000 },
      },
    ]);
  });

  it.each([
    [{ window: '1 hour' }, '/window', 'pattern'],
    [{ minSamples: 0 }, '/minSamples', 'minimum'],
    [{ drift: { method: 'magic' } }, '/drift/method', 'enum'],
    [{ drift: { share: 0 } }, '/drift/share', 'exclusiveMinimum'],
    [{ drift: { features: { a: { weight: 1 } } } }, '/drift/features/a/weight', 'additionalProperties'],
    [{ timestamp: 'sent_at' }, '/timestamp', 'pattern'],
    [{ latency: { total: -1 } }, '/latency/total', 'anyOf'],
    [{ rates: { error: { alert: 2 } } }, '/rates/error/alert', 'maximum'],
    // A rule without a webhook is valid since ownership (it goes to the service's on-call route); without a name it is not.
    [{ alerts: [{ webhook: { url: 'http://x', secret: 'S' } }] }, '/alerts/0/name', 'required'],
    [{ surprise: true }, '/surprise', 'additionalProperties'],
    [{ calibration: { warning: 0.2, alert: 0.1 } }, '/calibration', 'thresholds'],
    [{ performance: { accuracy: { warning: 0.8, alert: 0.9 } } }, '/performance/accuracy', 'thresholds'],
    [{ performance: { accuracy: { warningDrop: 0.2 } } }, '/performance/accuracy', 'thresholds'],
    [{ latency: { 'a/b': { warning: 300, alert: 200 } } }, '/latency/a~1b', 'thresholds'],
    [{ alerts: [1, 2].map(() => ({ name: 'same', webhook: { url: 'http://x', secret: 'S' } })) }, '/alerts/1/name', 'uniqueName'],
    [{ alerts: [{ name: 'x', webhook: { url: 'http://x', secret: 'S' }, group: { by: ['team'] } }] }, '/alerts/0/group/by/0', 'enum'],
    [{ alerts: [{ name: 'x', webhook: { url: 'http://x', secret: 'S' }, group: { wait: '30 s' } }] }, '/alerts/0/group/wait', 'pattern'],
    [{ alerts: [{ name: 'x', webhook: { url: 'http://x', secret: 'S' }, group: { repeat: '0s' } }] }, '/alerts/0', 'alertRule'],
    [{ alerts: [{ name: 'x', webhook: { url: 'http://x', secret: 'S' }, rateLimit: { max: 0 } }] }, '/alerts/0/rateLimit/max', 'minimum'],
  ])('rejects %j at its pointer', (raw, pointer, code) => {
    const error = configError(raw);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toContainEqual(expect.objectContaining({ pointer, code }));
  });

  it('rejects a block that is not an object', () => {
    expect(configError('1h').issues[0]).toMatchObject({ pointer: '', code: 'type' });
    expect(configError([]).issues[0]).toMatchObject({ pointer: '', code: 'type' });
    // An empty `monitoring:` in YAML is null: the same as no block.
    expect(resolveMonitoringConfig(null)).toEqual(resolveMonitoringConfig(undefined));
  });

  it('has an embeddable schema that strict Ajv accepts inside another', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const validate = ajv.compile({ type: 'object', properties: { monitoring: monitoringConfigSchema } });
    expect(validate({ monitoring: { window: '15m' } })).toBe(true);
    expect(validate({ monitoring: { window: 15 } })).toBe(false);
    expect(JSON.stringify(monitoringConfigSchema)).not.toMatch(/"\$id"|"\$schema"/);
  });
});

describe('labelsRipe', () => {
  it('is true once labelDelay has passed since the end of the window', () => {
    const config = resolveMonitoringConfig({ performance: { labelDelay: '2h' } });
    const window = { start: '2025-01-01T00:00:00.000Z', end: '2025-01-01T01:00:00.000Z' };
    expect(labelsRipe(window, Date.parse('2025-01-01T02:59:59.999Z'), config)).toBe(false);
    expect(labelsRipe(window, Date.parse('2025-01-01T03:00:00.000Z'), config)).toBe(true);
  });
});
