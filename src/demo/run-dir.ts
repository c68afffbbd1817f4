// Where one demo run keeps its data, and how the demo names the `ballast` command in what it prints.
// Each run gets a fresh store, so its report shows only its own decisions, windows and alerts (a
// second run into the same store would count every message twice and show the first run's alerts).
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file that marks a directory as a demo run's, so the next run may replace it. */
export const DEMO_RUN_MARKER = '.ballast-demo-run';

/** This run's data directory under the data dir: `<dataDir>/demo/run`. */
export function demoRunDir(dataDir: string): string {
  return path.join(dataDir, 'demo', 'run');
}

/**
 * Makes `<dataDir>/demo/run` fresh for this run: a previous demo run's directory (it carries the
 * marker) is removed first; a directory there without the marker is not the demo's, and is left alone
 * with an error. Returns the directory.
 */
export function prepareDemoRunDir(dataDir: string, now: Date = new Date()): string {
  const dir = demoRunDir(dataDir);
  if (existsSync(dir)) {
    if (!existsSync(path.join(dir, DEMO_RUN_MARKER))) {
      throw new Error(`${dir} exists and was not made by \`ballast demo\` (no ${DEMO_RUN_MARKER} in it): move it away or pick another --data-dir`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, DEMO_RUN_MARKER), `ballast demo run started ${now.toISOString()}; the next demo run replaces this directory\n`);
  return dir;
}

/** The root of this package (the checkout, or where it is installed). */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '');

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** The directory npm treats as the project for `npx` run in `cwd`: the nearest one up with a package.json or node_modules. */
function npmProject(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) || existsSync(path.join(dir, 'node_modules'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function isThisPackage(dir: string, root: string): boolean {
  if (real(dir) !== real(root)) return false;
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; bin?: unknown };
    return pkg.name === 'ballast' && pkg.bin !== undefined;
  } catch {
    return false;
  }
}

/**
 * How to run `ballast` from `cwd`, as the demo suggests it: `npx ballast` when npx finds it there (in
 * this checkout, whose package.json names the bin, or in a project that has it in node_modules/.bin),
 * else `node <path to bin/ballast.js>` (a plain `ballast` is on the PATH only after a global install).
 */
export function ballastCommand(cwd: string = process.cwd(), root: string = packageRoot): string {
  const project = npmProject(cwd);
  if (project !== undefined) {
    if (isThisPackage(project, root)) return 'npx ballast';
    const linked = path.join(project, 'node_modules', '.bin', 'ballast');
    if (existsSync(linked) && real(linked) === real(path.join(root, 'bin', 'ballast.js'))) return 'npx ballast';
  }
  const bin = path.join(root, 'bin', 'ballast.js');
  return `node ${shellWord(displayPath(bin, cwd))}`;
}

/** `p` relative to `cwd` when it is inside it (as a user would type it), else absolute. */
export function displayPath(p: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, p);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.resolve(p);
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
