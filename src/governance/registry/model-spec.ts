// What a model version is registered with: how it is called (the adapter), what it was built from
// (artifacts, training data, with SHA-256 digests) and what is known of it (evaluation, model card).
// A config's `models.<name>` block is a spec plus operational settings (timeouts, resilience) that
// belong to a configuration revision, not to the version: `specOfModelConfig` leaves those out.

/** A file (hashed when registered) or a remote reference (recorded, never downloaded). */
export interface ArtifactRef {
  readonly name: string;
  /** A file, relative to the config file's directory. */
  readonly path?: string;
  readonly url?: string;
  /** Hex SHA-256: checked against the file, or taken on trust for a url. */
  readonly sha256?: string;
}

export interface TrainingDataRef {
  /** A path (relative to the config file's directory) or a URL. */
  readonly ref: string;
  readonly sha256?: string;
  readonly description?: string;
  readonly rows?: number;
}

export interface EvaluationResults {
  /** What the metrics were measured on (a name, a path or a URL; not hashed). */
  readonly dataset?: string;
  readonly metrics: Readonly<Record<string, number>>;
  /** Subgroup → metric → value. */
  readonly subgroups?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface ModelCard {
  readonly intendedUse?: string;
  readonly limits?: string | readonly string[];
  readonly metricsBySubgroup?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly owners?: readonly string[];
  readonly [key: string]: unknown;
}

/** A model version's registration content, as written. */
export interface ModelVersionSpec {
  readonly adapter: Readonly<{ kind: string } & Record<string, unknown>>;
  readonly description?: string;
  readonly artifacts?: readonly ArtifactRef[];
  readonly trainingData?: TrainingDataRef;
  readonly evaluation?: EvaluationResults;
  readonly card?: ModelCard;
}

/** A resolved artifact: its digest known (a file's, or a url's as given) or null (a url without one). */
export interface DigestedArtifact extends Omit<ArtifactRef, 'sha256'> {
  readonly sha256: string | null;
}

/** A spec as registered: every digest filled in, null for a remote reference that came without one. */
export interface DigestedModelVersionSpec extends Omit<ModelVersionSpec, 'artifacts' | 'trainingData'> {
  readonly artifacts?: readonly DigestedArtifact[];
  readonly trainingData?: Omit<TrainingDataRef, 'sha256'> & { readonly sha256: string | null };
  /** The module adapter's own file, an implicit artifact. */
  readonly adapterFile?: { readonly path: string; readonly sha256: string };
}

/** The keys of a config's model block that are the version's, not the revision's. */
export const specKeys = ['adapter', 'description', 'artifacts', 'trainingData', 'evaluation', 'card'] as const;

/** The spec in a config's model block: timeouts and resilience are left out, they may change with any revision. */
export function specOfModelConfig(block: Readonly<Record<string, unknown>>): ModelVersionSpec {
  const spec: Record<string, unknown> = {};
  for (const key of specKeys) if (block[key] !== undefined) spec[key] = block[key];
  return spec as unknown as ModelVersionSpec;
}

const sha256Schema = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 (lowercase).' } as const;
const metricsSchema = { type: 'object', additionalProperties: { type: 'number' } } as const;
const subgroupMetricsSchema = { type: 'object', additionalProperties: metricsSchema } as const;

/**
 * JSON Schema 2020-12 of the blocks a model version adds to its adapter (embeddable: no $id): the
 * integrator adds them to each `models.<name>` entry of the service config.
 */
export const modelVersionSpecSchema = {
  artifacts: {
    type: 'array',
    description: 'Files (hashed when registered) and remote references (recorded, never downloaded) the version is made of.',
    items: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        path: { type: 'string', minLength: 1, description: 'A file, relative to the config file.' },
        url: { type: 'string', minLength: 1, description: 'A remote artifact: its sha256 is taken as given.' },
        sha256: sha256Schema,
      },
      // Exactly one of path and url (strict mode wants each required key declared where it is required).
      oneOf: [{ required: ['path'], properties: { path: true } }, { required: ['url'], properties: { url: true } }],
    },
  },
  trainingData: {
    type: 'object',
    required: ['ref'],
    additionalProperties: false,
    properties: {
      ref: { type: 'string', minLength: 1, description: 'A file (relative to the config file) or a URL.' },
      sha256: sha256Schema,
      description: { type: 'string' },
      rows: { type: 'integer', minimum: 0 },
    },
  },
  evaluation: {
    type: 'object',
    required: ['metrics'],
    additionalProperties: false,
    properties: {
      dataset: { type: 'string' },
      metrics: metricsSchema,
      subgroups: subgroupMetricsSchema,
    },
  },
  card: {
    type: 'object',
    description: 'The model card: intended use, limits, metrics per subgroup, owners, and any further text.',
    properties: {
      intendedUse: { type: 'string' },
      limits: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      metricsBySubgroup: subgroupMetricsSchema,
      owners: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
  },
} as const;

/** JSON Schema 2020-12 of a whole spec as the API takes it (the adapter's own keys are checked when a revision uses it). */
export const modelVersionSpecDocumentSchema = {
  type: 'object',
  required: ['adapter'],
  additionalProperties: false,
  properties: {
    adapter: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', minLength: 1 } } },
    description: { type: 'string' },
    ...modelVersionSpecSchema,
  },
} as const;
