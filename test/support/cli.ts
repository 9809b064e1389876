import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.js';

/** The built CLI: integration tests run the program users run. */
export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command to its end. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = startCli(args, env);
  return child.exited;
}

export interface RunningCli {
  readonly process: ChildProcess;
  readonly exited: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Every stdout line that is a JSON log record. */
  logs(): Array<Record<string, unknown>>;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolvePromise) => {
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return {
    process: child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      waitFor(() => stdout.match(pattern), { timeoutMs, what: `output ${pattern} (stderr: ${stderr.slice(-500)})` }),
    logs: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Writes a YAML config into a fresh temporary directory and returns its path. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecm-config-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, yaml);
  return path;
}
