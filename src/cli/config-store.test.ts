// The store: block of a config file: `durability` is checked by the schema, kept as written, and
// reaches the store the CLI opens.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './config-file.js';
import { storeConfigOf } from './runtime.js';

const withStore = (store: string) => `store:
${store}
services:
  loans:
    contract:
      input: { schema: { type: object } }
      output: { schema: { type: object } }
    models:
      v1: { adapter: { kind: http, url: 'http://127.0.0.1:9/p' } }
    live: v1
`;

describe('store.durability', () => {
  it('accepts full and process, and the CLI opens the store with it', () => {
    for (const durability of ['full', 'process'] as const) {
      const config = parseConfigText(withStore(`  kind: sqlite\n  path: ./ballast.db\n  durability: ${durability}`), 'ballast.yaml', '/srv/ballast');
      expect(config.store).toMatchObject({ kind: 'sqlite', durability });
      expect(storeConfigOf(config, '/data')).toEqual({ kind: 'sqlite', path: '/srv/ballast/ballast.db', durability });
    }
  });

  it('leaves it out when not written: the store defaults to full', () => {
    const config = parseConfigText(withStore('  kind: sqlite\n  path: ./ballast.db'), 'ballast.yaml', '/srv/ballast');
    expect(config.store).not.toHaveProperty('durability');
  });

  it('refuses any other value with CONFIG_INVALID at /store/durability, on its line', () => {
    let caught: unknown;
    try {
      parseConfigText(withStore('  kind: sqlite\n  path: ./ballast.db\n  durability: normal'), 'ballast.yaml', '/srv/ballast');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems.map((p) => ({ pointer: p.pointer, line: p.line }))).toEqual([{ pointer: '/store/durability', line: 4 }]);
    expect(error.problems[0]!.message).toMatch(/must be one of .*full.*process/);
  });
});
