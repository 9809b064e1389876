import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** An alert as GET /api/v2/alerts returns it (the fields the tests read). */
export interface AlertmanagerAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly fingerprint: string;
  readonly status: { readonly state: string };
}

/** A real Alertmanager on 127.0.0.1 with clustering off and a receiver that notifies nobody. */
export interface AlertmanagerServer {
  readonly url: string;
  /** Active (not resolved) alerts. */
  alerts(): Promise<AlertmanagerAlert[]>;
  /** SIGTERM, wait for the exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
}

const ALERTMANAGER = process.env.ALERTMANAGER ?? 'prometheus-alertmanager';
const START_ATTEMPTS = 3;
const CONFIG = `route:
  receiver: 'null'
receivers:
  - name: 'null'
`;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startAlertmanager(): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'alertmanager-test-'));
  await writeFile(join(dir, 'alertmanager.yml'), CONFIG);
  let launched: { child: ChildProcess; url: string } | undefined;
  // Another process may take the free port before Alertmanager binds it; then try another.
  for (let attempt = 1; launched === undefined; attempt++) {
    try {
      launched = await launch(dir, await freePort());
    } catch (error) {
      if (attempt >= START_ATTEMPTS) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const { child, url } = launched;
  return {
    url,
    alerts: async () => {
      const response = await fetch(`${url}/api/v2/alerts`);
      if (!response.ok) throw new Error(`GET /api/v2/alerts answered ${response.status}`);
      return (await response.json()) as AlertmanagerAlert[];
    },
    stop: async () => {
      await terminate(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(dir: string, port: number): Promise<{ child: ChildProcess; url: string }> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    ALERTMANAGER,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    await waitFor(async () => exit !== undefined || (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: `alertmanager on port ${port}`,
    });
    if (exit !== undefined) throw new Error(`alertmanager on port ${port} ended (${exit}) before it was ready:\n${output}`);
    return { child, url };
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw error;
  }
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
