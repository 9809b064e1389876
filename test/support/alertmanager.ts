import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, launchServer, onFreePort, terminate } from './server-process.js';

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
const CONFIG = `route:
  receiver: 'null'
receivers:
  - name: 'null'
`;

/**
 * `port`: listen there (e.g. where a monitor already sends its alerts); default: a free one.
 * `extraConfig`: more top-level alertmanager.yml keys (e.g. inhibit_rules).
 */
export async function startAlertmanager(options: { readonly port?: number; readonly extraConfig?: string } = {}): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'alertmanager-test-'));
  await writeFile(join(dir, 'alertmanager.yml'), `${CONFIG}${options.extraConfig ?? ''}`);
  let launched: { child: ChildProcess; url: string };
  try {
    launched = options.port !== undefined ? await launch(dir, options.port) : await onFreePort((port) => launch(dir, port));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
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
  const child = await launchServer({
    name: `alertmanager on port ${port}`,
    command: ALERTMANAGER,
    args: [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    ready: () => answers(`${url}/-/ready`),
    timeoutMs: 15_000,
  });
  return { child, url };
}
