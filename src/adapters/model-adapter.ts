// The one interface every model adapter implements. Shared code asks an adapter what it can do
// (its capabilities) and never branches on its kind.

/** What an adapter can do, declared so that shared code needs no `if (kind === ...)`. */
export interface AdapterCapabilities {
  /** Results carry a confidence in [0, 1]. */
  readonly confidence: boolean;
  /** Results can carry feature attributions. */
  readonly attributions: boolean;
  /** `ready()` asks the model server whether it can serve. */
  readonly readiness: boolean;
}

/** How much one feature (or one token of a text feature) pushed the output. */
export interface Attribution {
  /** Input field name, e.g. `body`. */
  readonly feature: string;
  /** The token of a text feature this contribution belongs to, if any. */
  readonly token?: string;
  /** Signed contribution towards the predicted output (for a classifier: log-odds of the predicted class). */
  readonly contribution: number;
}

export interface ModelResult {
  /** The model's output, before the output contract is checked. */
  readonly output: unknown;
  /** Confidence in [0, 1] of the output, when the adapter can tell. */
  readonly confidence?: number;
  readonly attributions?: readonly Attribution[];
  /** Adapter-specific facts worth recording (token usage, upstream model name, request id). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface InvokeOptions {
  /** Aborts the call; the pipeline sets it from the version's timeout. */
  readonly signal: AbortSignal;
  readonly decisionId: string;
}

export interface ModelAdapter {
  readonly kind: string;
  readonly capabilities: AdapterCapabilities;
  /**
   * Calls the model once. Failures are thrown as BallastError with an UPSTREAM_* or MODEL_ERROR code;
   * an aborted signal becomes UPSTREAM_TIMEOUT.
   */
  invoke(input: unknown, options: InvokeOptions): Promise<ModelResult>;
  /** Whether the model can serve now (only when `capabilities.readiness`). */
  ready?(signal: AbortSignal): Promise<boolean>;
  /** Releases connections, workers and handles. */
  close(): Promise<void>;
}

/** What an adapter factory gets besides its own config. */
export interface AdapterContext {
  /** Directory that relative paths in the config (module paths, files) are resolved against. */
  readonly baseDir: string;
  /** The output contract's JSON Schema, for adapters that ask for structured output (openai). */
  readonly outputSchema?: Readonly<Record<string, unknown>>;
  /** Secrets resolved by the CLI from the environment, by name (e.g. `OPENAI_API_KEY`). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Bounds inside one call, for adapters that talk to a server (the pipeline bounds the whole call): connecting, and the answer's first byte. */
  readonly timeouts?: { readonly connectMs?: number; readonly firstByteMs?: number };
  /** At most this many connections open to the model's server at once (adapters that talk to one). */
  readonly maxConnections?: number;
}

/** One kind of adapter: the JSON Schema of its config block, and how to build it. */
export interface AdapterDefinition<C = Record<string, unknown>> {
  readonly kind: string;
  /** JSON Schema 2020-12 of this kind's `adapter:` block (including `kind`). */
  readonly configSchema: Readonly<Record<string, unknown>>;
  create(config: C, context: AdapterContext): Promise<ModelAdapter>;
}
