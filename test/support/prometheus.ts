import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** The body of GET /api/v1/query (the fields the tests read). */
export interface QueryAnswer {
  readonly status: 'success' | 'error';
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly { readonly metric: Record<string, string>; readonly value: [number, string] }[];
  };
  readonly errorType?: string;
  readonly error?: string;
}

/** A real Prometheus on 127.0.0.1 scraping the given targets every second. */
export interface PrometheusServer {
  readonly url: string;
  /** An instant query; an invalid expression answers `status: 'error'` rather than throwing. */
  query(expression: string): Promise<QueryAnswer>;
  /** SIGTERM, wait for the exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
}

const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
const START_ATTEMPTS = 3;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** `targets` as `host:port`, scraped at /metrics under job `enos-cert-monitor`. */
export async function startPrometheus(targets: readonly string[]): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-test-'));
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: enos-cert-monitor',
      '    static_configs:',
      `      - targets: [${targets.map((target) => JSON.stringify(target)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  let launched: { child: ChildProcess; url: string } | undefined;
  // Another process may take the free port before Prometheus binds it; then try another.
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
    query: async (expression) => {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expression })}`);
      return (await response.json()) as QueryAnswer;
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
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
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
      timeoutMs: 20_000,
      intervalMs: 50,
      what: `prometheus on port ${port}`,
    });
    if (exit !== undefined) throw new Error(`prometheus on port ${port} ended (${exit}) before it was ready:\n${output}`);
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
