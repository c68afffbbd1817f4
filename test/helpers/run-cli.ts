import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../bin/ballast.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `ballast` command to completion (npm test builds dist/ before the tests). */
export function runCli(args: readonly string[], options: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Starts the built `ballast` command and resolves once a stdout line matches `ready`. */
export function startCli(args: readonly string[], ready: RegExp, options: { cwd?: string; timeoutMs?: number; detached?: boolean } = {}): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so that a test can signal the group as a terminal's Ctrl-C does.
    const child = spawn(process.execPath, [binPath, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in time; stdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = ready.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => stdout + stderr, exited });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready; stdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}
