// Fairness end to end over the server: a service whose decisions favour one country over another is
// reported in breach of the four-fifths rule with the numbers per group, the live monitor sends the
// change to the alert dispatcher once, labels (ground truth and reviewers') bring the error rates in,
// and an approval gate that requires fairness refuses the version.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, type ConfigError } from '../src/cli/config-file.js';
import { startTestBallast, testConfigYaml, type TestBallast } from './helpers/test-ballast.js';

const fairnessBlock = `    fairness:
      favourable: { pointer: /label, equals: approve }
      minGroupCount: 20
      bounds: { minSelectionRatio: 0.8, maxEqualOpportunityDifference: 0.2 }
    gates: { fairness: required }
`;

function config(block = fairnessBlock): string {
  return testConfigYaml()
    .replace('country: { kind: categorical, expected: { categories: [DE, FR, NL] } }', 'country: { kind: categorical, expected: { categories: [DE, FR, NL] }, protected: true }')
    .replace('    live: v1\n', `    live: v1\n${block}`);
}

describe('fairness over the server', () => {
  let t: TestBallast;
  afterEach(async () => {
    await t?.close();
  });
  const post = (url: string, body: unknown) => t.server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  it('reports a breach of the four-fifths rule per group, alerts once, and keeps the gate shut', async () => {
    t = await startTestBallast(config());
    // DE: 30 of 30 approved; FR: 12 of 30 (the model denies what says "bad"). Confident, so automatic.
    const ids: { id: string; country: string; bad: boolean }[] = [];
    for (let i = 0; i < 30; i++) {
      for (const country of ['DE', 'FR']) {
        const bad = country === 'FR' && i >= 12;
        const d = (await post('/v1/services/loans/decisions', { input: { text: bad ? 'bad case' : 'good case', amount: 500, country } })).json();
        ids.push({ id: d.id, country, bad });
      }
    }
    // A few NL: shown, never judged (below minGroupCount).
    for (let i = 0; i < 5; i++) await post('/v1/services/loans/decisions', { input: { text: 'fine', amount: 500, country: 'NL' } });
    // Labels: some of FR's declines were good applicants after all.
    for (const [i, d] of ids.entries()) {
      const truth = d.bad && i % 4 === 1 ? 'approve' : d.bad ? 'deny' : 'approve';
      await post(`/v1/decisions/${d.id}/feedback`, { kind: 'label', value: { label: truth } });
    }
    const report = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/fairness' })).json();
    expect(report).toMatchObject({ service: 'loans', decisions: 65, state: 'alert' });
    const country = report.fields[0];
    expect(country.field).toBe('country');
    expect(country.figures.judged).toEqual(['DE', 'FR']);
    expect(country.figures.insufficient).toEqual(['NL']);
    const fr = country.figures.groups.find((g: { group: string }) => g.group === 'FR');
    expect(fr.selection).toMatchObject({ count: 12, of: 30, value: 0.4 });
    expect(country.figures.selectionRatio).toBeCloseTo(0.4, 12);
    expect(country.breaches.map((b: { metric: string }) => b.metric)).toContain('selectionRatio');
    // FR's good applicants are the 12 approved and the declined ones labelled approve: the TPR counts the 12 of them.
    const frGood = ids.filter((d, i) => d.country === 'FR' && (!d.bad || i % 4 === 1)).length;
    expect(fr.truePositiveRate).toMatchObject({ count: 12, of: frGood });

    // The live monitor: one transition to alert, sent to the dispatcher (an alert fired), none the second time.
    const first = await t.runtime.monitoring.fairness.evaluate();
    expect(first.map((x) => [x.monitor, x.from, x.to])).toEqual([['fairness/country', 'unknown', 'alert']]);
    expect(await t.runtime.monitoring.fairness.evaluate()).toEqual([]);

    // The gate requires fairness: v1's own decisions break it, so it may not be promoted.
    const gate = await t.runtime.safeChange.gate('loans', 'v1');
    const check = gate.checks.find((c) => c.check === 'fairness');
    expect(check).toMatchObject({ ok: false });
    expect(check!.detail).toMatch(/break the fairness bounds: country: selection-rate ratio 0\.400 < 0\.8/);
    expect(gate.issues.some((i) => i.pointer === '/gates/fairness')).toBe(true);
  });

  it('is unknown, never ok, with too few decisions per group; and refuses a block naming no input field', async () => {
    t = await startTestBallast(config());
    for (let i = 0; i < 5; i++) await post('/v1/services/loans/decisions', { input: { text: 'ok', amount: 500, country: 'DE' } });
    const report = (await t.server.app.inject({ method: 'GET', url: '/v1/services/loans/fairness' })).json();
    expect(report.state).toBe('unknown');
    expect((await t.runtime.safeChange.gate('loans', 'v1')).checks.find((c) => c.check === 'fairness')).toMatchObject({ ok: false, detail: expect.stringContaining('too few to judge') });
    let problems: { pointer: string; message: string }[] = [];
    try {
      parseConfigText(config(fairnessBlock.replace('minGroupCount: 20', 'fields: [nationality]')), 'x.yaml');
    } catch (error) {
      problems = (error as ConfigError).problems.map((p) => ({ pointer: p.pointer, message: p.message }));
    }
    expect(problems).toEqual([{ pointer: '/services/loans/fairness/fields/0', message: "'nationality' is not a field of the input contract" }]);
  });
});
