import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ballastCommand, DEMO_RUN_MARKER, demoRunDir, displayPath, packageRoot, prepareDemoRunDir, shellWord } from './run-dir.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ballast-run-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the demo run's directory", () => {
  it("is fresh for every run: a previous run's data is gone, the model cache beside it stays", () => {
    const dataDir = path.join(dir, 'data');
    const first = prepareDemoRunDir(dataDir);
    expect(first).toBe(path.join(dataDir, 'demo', 'run'));
    expect(first).toBe(demoRunDir(dataDir));
    writeFileSync(path.join(first, 'ballast.db'), 'the first run');
    writeFileSync(path.join(dataDir, 'demo', 'spam-model.json'), '{}');
    const second = prepareDemoRunDir(dataDir);
    expect(second).toBe(first);
    expect(existsSync(path.join(second, 'ballast.db'))).toBe(false);
    expect(readFileSync(path.join(second, DEMO_RUN_MARKER), 'utf8')).toMatch(/the next demo run replaces this directory/);
    expect(existsSync(path.join(dataDir, 'demo', 'spam-model.json'))).toBe(true);
  });

  it('leaves alone a directory that is not a demo run', () => {
    const dataDir = path.join(dir, 'other');
    mkdirSync(demoRunDir(dataDir), { recursive: true });
    writeFileSync(path.join(demoRunDir(dataDir), 'ballast.db'), 'not the demo');
    expect(() => prepareDemoRunDir(dataDir)).toThrow(/was not made by `ballast demo`/);
    expect(readFileSync(path.join(demoRunDir(dataDir), 'ballast.db'), 'utf8')).toBe('not the demo');
  });
});

describe('the ballast command the demo suggests', () => {
  it('is npx ballast in the checkout, and that works there', () => {
    expect(ballastCommand(packageRoot)).toBe('npx ballast');
    expect(ballastCommand(path.join(packageRoot, 'src', 'demo'))).toBe('npx ballast');
    const help = execFileSync('npx', ['--no', '--', 'ballast', '--help'], { cwd: packageRoot, encoding: 'utf8' });
    expect(help).toMatch(/^Usage: ballast /);
  });

  it('is npx ballast in a project that has it in node_modules/.bin', () => {
    const project = path.join(dir, 'project');
    mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), '{"name":"app"}');
    symlinkSync(path.join(packageRoot, 'bin', 'ballast.js'), path.join(project, 'node_modules', '.bin', 'ballast'));
    expect(ballastCommand(project)).toBe('npx ballast');
  });

  it('is node and the path of bin/ballast.js elsewhere (no `ballast` on the PATH), and that works there', () => {
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const command = ballastCommand(elsewhere);
    expect(command).toBe(`node ${path.join(packageRoot, 'bin', 'ballast.js')}`);
    const [node, bin] = command.split(' ') as [string, string];
    expect(execFileSync(node, [bin, '--help'], { cwd: elsewhere, encoding: 'utf8' })).toMatch(/^Usage: ballast /);
  });

  it('prints paths as a user would type them', () => {
    expect(displayPath(path.join(dir, '.ballast', 'demo', 'run'), dir)).toBe(path.join('.ballast', 'demo', 'run'));
    expect(displayPath('/elsewhere/x', dir)).toBe('/elsewhere/x');
    expect(shellWord('.ballast/demo/run')).toBe('.ballast/demo/run');
    expect(shellWord("/tmp/it's here")).toBe(`'/tmp/it'\\''s here'`);
  });
});
