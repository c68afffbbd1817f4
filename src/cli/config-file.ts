import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { createSchemaValidator, inputLimitsSchema, type InputLimits } from '../contracts/index.js';
import { BallastError, type Issue } from '../errors/index.js';
import { monitoringConfigSchema } from '../monitoring/monitors/monitoring-config.js';
import { resolveReviewConfig, reviewConfigSchema } from '../review/index.js';
import { fairnessConfigSchema, resolveFairnessConfig, type FairnessConfig } from '../monitoring/fairness/index.js';
import { gatesConfigSchema, modelVersionSpecSchema, ownershipConfigSchema, ownershipIssues, resolveAnalysisConfig, resolveGates, resolveRolloutSpec, retentionConfigSchema, riskTierSchema, rolloutConfigSchema, type GatesConfig, type RiskTier } from '../governance/index.js';
import { serviceConfigSchema, serviceNamePattern, type ServiceConfig } from '../pipeline/index.js';
import { storeConfigSchema, type StoreConfig } from '../store/index.js';

/** The whole configuration file, validated, with defaults applied and frozen. */
export interface BallastConfig {
  /** The file it came from and the directory relative paths in it are resolved against. */
  readonly source: string;
  readonly baseDir: string;
  readonly store?: StoreConfig;
  readonly limits: Partial<InputLimits>;
  readonly services: Readonly<Record<string, ServiceConfig>>;
}

/** One problem in a config file: where (file, line, column, JSON pointer) and what. */
export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly pointer: string;
  readonly message: string;
}

export class ConfigError extends BallastError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('CONFIG_INVALID', { detail: `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${problems[0]?.file ?? 'the configuration'}`, issues: problems.map((p) => ({ pointer: p.pointer, code: 'config', message: p.message })) });
    this.problems = problems;
  }
}

/** `file:line:col pointer: message`, the form editors and CI logs link to. */
export function formatConfigProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where} ${problem.pointer || '/'}: ${problem.message}`;
}

const configSchema = {
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    store: storeConfigSchema,
    limits: inputLimitsSchema,
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: serviceNamePattern },
      additionalProperties: serviceConfigSchema({ monitoring: monitoringConfigSchema, retention: retentionConfigSchema, rollout: rolloutConfigSchema, risk: riskTierSchema, gates: gatesConfigSchema, review: reviewConfigSchema, fairness: fairnessConfigSchema, ownership: ownershipConfigSchema }, modelVersionSpecSchema),
    },
  },
};

const validateConfig = createSchemaValidator(configSchema);

/** Reads, parses and validates a config file. Throws ConfigError (CONFIG_INVALID) or CONFIG_NOT_FOUND. */
export function loadConfigFile(file: string): BallastConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'no such file' : String(error);
    throw new BallastError('CONFIG_NOT_FOUND', { detail: `cannot read ${file}: ${reason}`, cause: error });
  }
  return parseConfigText(text, file);
}

/** Parses and validates config text; `file` names it in problems and anchors relative paths (unless `baseDir` is given). */
export function parseConfigText(text: string, file: string, baseDir?: string): BallastConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { file, line: pos?.line, column: pos?.col, pointer: '', message: e.message.split('\n')[0]! };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const locate = (issue: Issue): ConfigProblem => ({ file, ...position(doc, lineCounter, issue.pointer), pointer: issue.pointer, message: issue.message });
  const checked = validateConfig(raw ?? {});
  if (!checked.ok) throw new ConfigError(checked.issues.map(locate));
  const value = checked.value as { store?: StoreConfig; limits?: Partial<InputLimits>; services: Record<string, ServiceConfig> };
  const semantic = safeChangeIssues(value.services);
  if (semantic.length > 0) throw new ConfigError(semantic.map(locate));
  return deepFreeze({
    source: file,
    baseDir: baseDir ?? path.dirname(path.resolve(file)),
    ...(value.store === undefined ? {} : { store: value.store }),
    limits: value.limits ?? {},
    services: value.services,
  });
}

/**
 * What the schemas cannot say about a service's rollout:, risk: and gates: blocks (steps that must rise,
 * the analysis settings, approvals below the tier, bounds out of order), checked as a rollout would, so
 * that `validate` and `serve` refuse them rather than the first rollout.
 */
function safeChangeIssues(services: Readonly<Record<string, ServiceConfig>>): Issue[] {
  const issues: Issue[] = [];
  const under = (prefix: string, found: readonly Issue[]) => issues.push(...found.map((i) => ({ ...i, pointer: prefix + i.pointer })));
  const attempt = (prefix: string, check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof BallastError)) throw error;
      under(prefix, error.issues.length > 0 ? error.issues : [{ pointer: '', code: 'invalid', message: error.detail }]);
    }
  };
  for (const [name, service] of Object.entries(services)) {
    const base = `/services/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const block = service as ServiceConfig & { rollout?: { analysis?: unknown }; risk?: RiskTier; gates?: GatesConfig };
    if (block.rollout !== undefined) {
      attempt(`${base}/rollout`, () => resolveRolloutSpec(block.rollout));
      attempt(`${base}/rollout/analysis`, () => resolveAnalysisConfig(block.rollout!.analysis));
    }
    const gates = resolveGates(block.risk, block.gates);
    if (!gates.ok) under(base, gates.issues);
    attempt(`${base}/review`, () => resolveReviewConfig(service.review));
    // A high-risk service without owners; an alert rule with no webhook and no on-call route to fall back on.
    under(base, ownershipIssues(service));
    if (service.fairness !== undefined) {
      const fields = Object.entries(service.contract.input.fields ?? {});
      attempt(`${base}/fairness`, () => resolveFairnessConfig(service.fairness as FairnessConfig, fields.filter(([, f]) => f.protected === true).map(([name]) => name), new Set(fields.map(([name]) => name))));
    }
    const advisory = service.policy?.advisory;
    if (Array.isArray(advisory)) {
      for (const [i, version] of advisory.entries()) {
        if (!Object.hasOwn(service.models, version)) issues.push({ pointer: `${base}/policy/advisory/${i}`, code: 'unknown_version', message: `advisory mode names '${version}', which is not one of the service's models` });
      }
    }
  }
  return issues;
}

/** Rebases issues from compiling a service (pointers relative to the service) onto the file. */
export function configErrorForService(config: BallastConfig, text: string | undefined, service: string, error: BallastError): ConfigError {
  const lineCounter = new LineCounter();
  const doc = text === undefined ? undefined : parseDocument(text, { lineCounter });
  const issues = error.issues.length > 0 ? error.issues : [{ pointer: '', code: 'invalid', message: error.detail }];
  return new ConfigError(
    issues.map((issue) => {
      const pointer = `/services/${service}${issue.pointer}`;
      return { file: config.source, ...(doc ? position(doc, lineCounter, pointer) : {}), pointer, message: issue.message };
    }),
  );
}

/** Line and column of the YAML node at `pointer`, or of its nearest existing ancestor. */
function position(doc: Document, lineCounter: LineCounter, pointer: string): { line?: number; column?: number } {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let n = segments.length; n >= 0; n--) {
    const keys = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      const pos = lineCounter.linePos((node.range as number[])[0]!);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
