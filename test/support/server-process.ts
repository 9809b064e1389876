import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** What a test process that ends without stopping its servers (a crash, a timed-out hook) must not leave behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface LaunchOptions {
  /** For error messages, e.g. `alertmanager on port 4711`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Resolves true once the server answers. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs: number;
}

/**
 * Spawns a server and waits until it answers. If it exits first, the error carries the end of its
 * output; if it never answers, it is killed.
 */
export async function launchServer({ name, command, args, ready, timeoutMs }: LaunchOptions): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    running.delete(child);
    exit = `code ${code ?? signal ?? '?'}`;
  });
  child.once('error', (error) => {
    running.delete(child);
    exit = error.message;
  });
  try {
    await waitFor(async () => exit !== undefined || (await ready()), { timeoutMs, intervalMs: 50, what: name });
    if (exit !== undefined) throw new Error(`${name} ended (${exit}) before it was ready:\n${output}`);
    return child;
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw error;
  }
}

/** Another process may take a free port before the server binds it; then try another. */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/** Signals the process and waits for it to exit; nothing to do when it already has. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** True when GET `url` answers 2xx. */
export async function answers(url: string): Promise<boolean> {
  return (await fetch(url)).ok;
}
