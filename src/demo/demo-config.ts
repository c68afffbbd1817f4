import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** Where the demo's alerts go: a webhook and the name of the environment variable holding its signing secret. */
export interface DemoAlertTarget {
  readonly url: string;
  readonly secretName: string;
}

/** The monitors' minimum window size in the demo (`monitoring.minSamples`): a week with fewer messages is judged by no monitor. */
export const DEMO_MIN_SAMPLES = 30;

/** The demo's service, as a user would write it in ballast.yaml. */
export function demoConfig(weightsPath: string, alerts?: DemoAlertTarget): Record<string, unknown> {
  return {
    version: 1,
    services: {
      'spam-filter': {
        description: 'Flags spam in incoming mail. Model: logistic regression over words, trained by the Ballast demo on the older SpamAssassin messages.',
        owners: ['demo@ballast.invalid'],
        contract: {
          version: 1,
          input: {
            schema: {
              type: 'object',
              required: ['subject', 'body', 'from'],
              additionalProperties: false,
              properties: {
                subject: { type: 'string', maxLength: 2000 },
                body: { type: 'string', maxLength: 200_000 },
                from: { type: 'string', maxLength: 1000 },
                sent_at: { type: 'string', format: 'date-time' },
              },
            },
            fields: {
              subject: { kind: 'text' },
              body: { kind: 'text' },
              from: { kind: 'categorical', pii: true, redact: 'hash' },
            },
          },
          output: {
            schema: {
              type: 'object',
              required: ['label', 'spam_probability'],
              additionalProperties: false,
              properties: {
                label: { enum: ['spam', 'ham'] },
                spam_probability: { type: 'number', minimum: 0, maximum: 1 },
              },
            },
            fields: {
              label: { kind: 'categorical', expected: { categories: ['spam', 'ham'] } },
              spam_probability: { kind: 'numeric', expected: { min: 0, max: 1 } },
            },
          },
        },
        policy: {
          thresholds: { auto: 0.9 },
          onModelError: 'review',
          rules: [
            { name: 'empty-message', stage: 'pre', when: 'input.subject == "" && input.body == ""', action: 'reject', reason: 'A message with neither subject nor body cannot be judged' },
            { name: 'huge-message', stage: 'pre', when: 'size(input.body) > 100000', action: 'review', reason: 'Very long messages are outside what the model was trained on' },
            {
              name: 'known-sender',
              stage: 'post',
              when: 'has(context.known_sender) && context.known_sender == true && output.label == "spam"',
              action: 'override',
              set: { label: '"ham"' },
              reason: 'Mail from a sender the recipient corresponds with is never filtered automatically',
            },
            { name: 'money-in-subject', stage: 'post', when: 'output.label == "ham" && input.subject.contains("$")', action: 'flag', reason: 'Ham with money in the subject is worth a second look in monitoring' },
          ],
        },
        models: {
          'logreg-v1': {
            description: 'L2 logistic regression on subject and body tokens',
            timeoutMs: 1000,
            adapter: {
              kind: 'module',
              path: fileURLToPath(new URL('./spam-model-module.js', import.meta.url)),
              export: 'createModel',
              options: { weightsPath },
            },
          },
        },
        live: 'logreg-v1',
        // The seed's own example: when the labelled accuracy of a week falls below 90%, the quality
        // breaker takes the model out of the path and people sort the mail until an operator closes it.
        resilience: {
          deadlineMs: 2000,
          qualityBreaker: { accuracyFloor: 0.9 },
          fallback: [{ review: { reason: 'the spam filter is below its accuracy floor: a person sorts this message' } }],
        },
        // Weekly windows by the date the message was sent (the replay is faster than the weeks it covers).
        monitoring: {
          window: '1w',
          timestamp: '/sent_at',
          evaluateEvery: '1m',
          minSamples: DEMO_MIN_SAMPLES,
          // Two text features: judge the whole input as drifted only when both drift (one is often a blip in a small week).
          drift: { share: 0.75 },
          // Labels come back a few hundred decisions later; the replay sends the rest of a week's labels at
          // its end and waits a second before the monitors judge the week, as a weekly review would.
          performance: { labelDelay: '1s' },
          ...(alerts === undefined
            ? {}
            : {
                alerts: [
                  {
                    name: 'demo-oncall',
                    monitors: ['input_drift', 'output_drift', 'confidence_drift', 'accuracy', 'estimated_accuracy'],
                    minState: 'alert',
                    // The replay runs weeks of mail in seconds: notify a group's first members at once
                    // rather than after the default 30 s wait, so the run's alerts are delivered before it ends.
                    group: { wait: '0s' },
                    webhook: { url: alerts.url, secret: alerts.secretName },
                  },
                ],
              }),
        },
      },
    },
  };
}

/**
 * Writes the demo's ballast.yaml into `dir` and returns its path; its header says how to serve it again
 * (`serveCommand`, default `ballast serve --config <file>`).
 */
export function writeDemoConfig(dir: string, weightsPath: string, alerts?: DemoAlertTarget, serveCommand?: (file: string) => string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'ballast.yaml');
  const header = `# Written by \`ballast demo\`. Serve it yourself with: ${serveCommand?.(file) ?? `ballast serve --config ${file}`}\n`;
  writeFileSync(file, header + stringify(demoConfig(weightsPath, alerts), { lineWidth: 0 }));
  return file;
}
