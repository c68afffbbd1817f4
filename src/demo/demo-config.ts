import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEMO_CHECKER, DEMO_CHECKER_VERSION } from './cross-check-report.js';

/** Where the demo's alerts go: a webhook and the name of the environment variable holding its signing secret. */
export interface DemoAlertTarget {
  readonly url: string;
  readonly secretName: string;
  /** Where the review queue tells the caller its outcomes (signed with the same secret); no review webhook without it. */
  readonly reviewUrl?: string;
  /** Where an alert nobody acknowledged within DEMO_ESCALATION_AFTER goes (signed with the same secret); no escalation without it. */
  readonly escalationUrl?: string;
}

/** How long an alert of the demo may go unacknowledged before it escalates: the weeks of mail pass in seconds. */
export const DEMO_ESCALATION_AFTER = '2s';

/** Who owns the spam filter, and the runbook its alerts point to (a path in the repository). */
export const SPAM_OWNERS = ['team-mail-safety', 'demo-monitoring'] as const;
export const SPAM_RUNBOOK = 'docs/runbooks/spam-filter.md';

/** The spam filter's review SLA in the demo: its weeks of mail pass in seconds, so a short SLA shows breaches and their escalation. */
export const DEMO_REVIEW_SLA = '20s';

/** The monitors' minimum window size in the demo (`monitoring.minSamples`): a week with fewer messages is judged by no monitor. */
export const DEMO_MIN_SAMPLES = 30;

/** The demo's service, as a user would write it in ballast.yaml. */
/** The first model version: what the demo trains on the older messages and serves from the start. */
export const DEMO_FIRST_VERSION = 'logreg-v1';

/** The model card both versions share: what the model is for and where it stops. */
export const spamModelCard = {
  intendedUse: 'Flag spam in incoming mail; a person sorts what the model is unsure of',
  limits: ['Trained on 1997–2002 mail: later spam campaigns drift away from it', 'English mail only'],
} as const;

/** A model entry of the demo's service running the spam model module over a weights file. */
export function spamModelEntry(weightsPath: string, description: string, registry: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    description,
    timeoutMs: 1000,
    adapter: {
      kind: 'module',
      path: fileURLToPath(new URL('./spam-model-module.js', import.meta.url)),
      export: 'createModel',
      options: { weightsPath },
    },
    // The weights are the version's artifact: registered with their SHA-256, so changed weights need a new name.
    artifacts: [{ name: 'weights', path: weightsPath }],
    ...registry,
  };
}

/** What else goes into the demo's configuration. */
export interface DemoConfigOptions {
  /** Registry fields of the first version (its training data and evaluation). */
  readonly first?: Readonly<Record<string, unknown>>;
  /** More versions (the second model, applied to the running server as a new revision). */
  readonly more?: Readonly<Record<string, unknown>>;
  /** More services, by name (the credit pre-check), in every revision. */
  readonly services?: Readonly<Record<string, unknown>>;
  /** The naive Bayes weights (spam-bayes.json): with them, bayes-v1 cross-checks every answer and a disagreement goes to review. */
  readonly checker?: string;
}

/** The cross-check's model entry: naive Bayes over the same tokens, never served, only asked for a second opinion. */
export function spamCheckerEntry(weightsPath: string): Record<string, unknown> {
  return {
    description: 'Multinomial naive Bayes on subject and body tokens, trained on the same older messages: the cross-check of the served model',
    timeoutMs: 1000,
    adapter: { kind: 'module', path: fileURLToPath(new URL('./spam-bayes-module.js', import.meta.url)), export: 'createModel', options: { weightsPath } },
    artifacts: [{ name: 'weights', path: weightsPath }],
    card: { intendedUse: 'A second opinion on the spam filter: a disagreement is sent to a person', limits: spamModelCard.limits },
  };
}

/** The demo's configuration. */
export function demoConfig(weightsPath: string, alerts?: DemoAlertTarget, options: DemoConfigOptions = {}): Record<string, unknown> {
  return {
    version: 1,
    services: {
      ...options.services,
      'spam-filter': {
        description: 'Flags spam in incoming mail. Model: logistic regression over words, trained by the Ballast demo on the older SpamAssassin messages.',
        owners: [...SPAM_OWNERS],
        // Alerts go to the on-call route; one nobody acknowledged in DEMO_ESCALATION_AFTER escalates, once.
        ownership: {
          runbook: SPAM_RUNBOOK,
          ...(alerts === undefined ? {} : { onCall: { url: alerts.url, secret: alerts.secretName } }),
          ...(alerts?.escalationUrl === undefined ? {} : { escalation: { after: DEMO_ESCALATION_AFTER, url: alerts.escalationUrl, secret: alerts.secretName } }),
        },
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
          // A simpler model trained on the same mail checks every answer: the two agree on mail like their
          // training data and part when the mail drifts; a disagreement goes to a person.
          ...(options.checker === undefined ? {} : { crossChecks: [{ name: DEMO_CHECKER, version: DEMO_CHECKER_VERSION, agree: { '/label': 'equal' }, onDisagree: 'review', when: 'always', sample: 1 }] }),
        },
        models: {
          [DEMO_FIRST_VERSION]: spamModelEntry(weightsPath, 'L2 logistic regression on subject and body tokens, trained on the older messages', { card: spamModelCard, ...options.first }),
          ...options.more,
          ...(options.checker === undefined ? {} : { [DEMO_CHECKER_VERSION]: spamCheckerEntry(options.checker) }),
        },
        live: DEMO_FIRST_VERSION,
        // The review queue: what the model is unsure of waits for a person; the mail client hears the outcome.
        review: {
          sla: DEMO_REVIEW_SLA,
          lease: '1m',
          ...(alerts?.reviewUrl === undefined ? {} : { webhook: { url: alerts.reviewUrl, secret: alerts.secretName } }),
        },
        // A new version's promotion needs a passed analysis and one approval by someone other than its author.
        risk: 'medium',
        // How a new version is tried: a canary at half the mail, judged against the live version on the same
        // weeks' mail (accuracy once labels are back), then promoted at 100%. The error-rate bound is wider than
        // the default 0.02, which a few hundred messages a week can never show; the review rate keeps its default
        // (at most 5 points more mail for people); latency is not judged: both versions are the same code, in process.
        rollout: {
          steps: [
            { weight: 0.5, pause: { minDecisions: 300 } },
            { weight: 1 },
          ],
          inconclusiveLimit: 4,
          // Never a pass on too little data: a candidate that four analyses cannot show to be no worse is rolled back.
          onInconclusive: 'rollback',
          analysis: {
            minDecisions: 50,
            metrics: [
              { metric: 'error_rate', bound: 0.05 },
              { metric: 'review_rate', bound: 0.05 },
              { metric: 'accuracy', bound: 0.03, minSamples: 40 },
            ],
          },
        },
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
                    // No webhook of its own: the service's on-call route (ownership.onCall).
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
export function writeDemoConfig(dir: string, weightsPath: string, alerts?: DemoAlertTarget, serveCommand?: (file: string) => string, options: DemoConfigOptions & { readonly name?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, options.name ?? 'ballast.yaml');
  const header = `# Written by \`ballast demo\`. Serve it yourself with: ${serveCommand?.(file) ?? `ballast serve --config ${file}`}\n`;
  writeFileSync(file, header + stringify(demoConfig(weightsPath, alerts, options), { lineWidth: 0 }));
  return file;
}
