import { describe, expect, it } from 'vitest';
import { formatBreakerLines } from './summary.js';

describe('the quality breaker lines of the demo summary', () => {
  const opened = { kind: 'quality', version: 'logreg-v1', from: 'closed', to: 'open', at: '2026-12-07T01:16:54.727Z', reason: 'labelled accuracy 83.1% is below the floor 90.0% (window from 2002-09-23)', figures: { monitor: 'accuracy', window: { start: '2002-09-23T00:00:00.000Z' } } };
  const decisions = [
    { modelError: null, sentAt: '2002-09-29T10:00:00.000Z' },
    { modelError: 'QUALITY_BREAKER_OPEN', sentAt: '2002-10-01T10:00:00.000Z' },
    { modelError: 'QUALITY_BREAKER_OPEN', sentAt: '2002-09-30T09:00:00.000Z' },
  ];

  it("name the week on the replay's clock, label the wall-clock instant, and suggest a command that runs from here", () => {
    expect(formatBreakerLines([opened], decisions, 'http://127.0.0.1:8080', 'npx ballast')).toEqual([
      'Quality breaker (accuracy floor 90%): opened on judging the week of 2002-09-23 (2026-12-07T01:16:54Z wall clock) for logreg-v1: labelled accuracy 83.1% is below the floor 90.0% (window from 2002-09-23)',
      '  from then on the model was not called: 2 messages (sent from 2002-09-30 on) went to review; only an operator closes it:',
      "  npx ballast breaker close --server http://127.0.0.1:8080 --service spam-filter --version logreg-v1 --kind quality --reason '…'",
    ]);
  });

  it('say when the breaker stayed closed, and fall back to the labelled wall clock without a window', () => {
    expect(formatBreakerLines([], decisions, 'u', 'npx ballast')).toEqual(['Quality breaker (accuracy floor 90%): stayed closed']);
    const [line] = formatBreakerLines([{ ...opened, figures: { operator: 'by hand' } }], decisions, 'u', 'node bin/ballast.js');
    expect(line).toContain('opened at 2026-12-07T01:16:54Z wall clock for logreg-v1');
  });
});
