import { startCli, writeConfig, type RunningCli } from './cli.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** `run` as a child process, reached through its HTTP endpoints. */
export interface TestDaemon {
  readonly cli: RunningCli;
  readonly port: number;
  /** GET a path of the daemon's server: status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  metrics(): Promise<string>;
  /** Waits until `condition` holds for the /metrics body, then returns that body. */
  waitForMetrics(condition: (body: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** SIGKILL unless it already exited. */
  kill(): Promise<void>;
}

/**
 * Starts `run` with `yaml` (everything but `server`, which gets a free loopback port and the keys
 * of `server`) and waits until /metrics answers.
 */
export async function startDaemon(yaml: string, env: NodeJS.ProcessEnv = {}, server: Record<string, unknown> = {}): Promise<TestDaemon> {
  const port = await freePort();
  const serverYaml = JSON.stringify({ host: '127.0.0.1', port, ...server });
  const cli = startCli(['run', '-c', writeConfig(`${yaml}\nserver: ${serverYaml}\n`)], env);
  const base = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: await response.text() };
  };
  const metrics = async () => (await get('/metrics')).body;
  const daemon: TestDaemon = {
    cli,
    port,
    get,
    metrics,
    waitForMetrics: async (condition, what, timeoutMs = 15_000) =>
      waitFor(
        async () => {
          const body = await metrics();
          return condition(body) ? body : undefined;
        },
        { timeoutMs, what: `${what} (daemon stderr: ${cli.stderr().slice(-300)})` },
      ),
    kill: async () => {
      if (cli.process.exitCode === null && cli.process.signalCode === null) cli.process.kill('SIGKILL');
      await cli.exited;
    },
  };
  await waitFor(metrics, { timeoutMs: 15_000, what: `the daemon to serve /metrics (stderr: ${cli.stderr().slice(-300)})` });
  return daemon;
}

/**
 * The value of one sample of an exposition, e.g. `sample(body, 'enos_scans_total', { result: 'success' })`;
 * labels are matched as a subset; the values of every matching series are added up. NaN when none matches.
 */
export function sample(body: string, name: string, labels: Record<string, string> = {}): number {
  let total = Number.NaN;
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const pairs = `,${match[2] ?? ''},`;
    if (!Object.entries(labels).every(([key, value]) => pairs.includes(`,${key}="${value}",`))) continue;
    total = (Number.isNaN(total) ? 0 : total) + Number(match[3]);
  }
  return total;
}
