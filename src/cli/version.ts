import { createRequire } from 'node:module';

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string; description: string };

/** Ballast's version, from its package.json. */
export const ballastVersion: string = packageJson.version;

/** What Ballast is, in one sentence: package.json's description (shown by `ballast --help` and the registry alike). */
export const ballastDescription: string = packageJson.description;
