// The one place that reads environment variables. Everything else gets configuration passed in.

/** Settings the environment may give; flags override them, defaults fill the rest. */
export interface EnvironmentSettings {
  readonly configPath?: string;
  readonly host?: string;
  readonly port?: string;
  readonly dataDir?: string;
  readonly redactionKey?: string;
  readonly logLevel?: string;
  readonly apiKey?: string;
}

export const environmentVariables = {
  configPath: 'BALLAST_CONFIG',
  host: 'BALLAST_HOST',
  port: 'BALLAST_PORT',
  dataDir: 'BALLAST_DATA_DIR',
  redactionKey: 'BALLAST_REDACTION_KEY',
  logLevel: 'BALLAST_LOG_LEVEL',
  apiKey: 'BALLAST_API_KEY',
} as const satisfies Record<keyof EnvironmentSettings, string>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentSettings {
  const settings: Record<string, string> = {};
  for (const [key, name] of Object.entries(environmentVariables)) {
    const value = env[name];
    if (value !== undefined && value !== '') settings[key] = value;
  }
  return settings;
}

/** Secrets that adapter configs name (e.g. `apiKeySecret: OPENAI_API_KEY`), read from the environment. */
export function readSecrets(names: Iterable<string>, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) secrets[name] = value;
  }
  return secrets;
}
