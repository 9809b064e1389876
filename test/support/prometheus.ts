import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, launchServer, onFreePort, terminate } from './server-process.js';

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
  let launched: { child: ChildProcess; url: string };
  try {
    launched = await onFreePort((port) => launch(dir, port));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
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
  const child = await launchServer({
    name: `prometheus on port ${port}`,
    command: PROMETHEUS,
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    ready: () => answers(`${url}/-/ready`),
    timeoutMs: 20_000,
  });
  return { child, url };
}
