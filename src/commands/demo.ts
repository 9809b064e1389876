import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { startSimulator } from '../simulator/index.js';
import { createLogger } from '../util/log.js';
import { configError, usageError } from './command-line.js';
import type { Command } from './io.js';
import { runDaemon } from './run.js';
import { DEFAULT_CHURN_SECONDS } from './simulate.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

/**
 * The simulator and the daemon in one process, on the in-memory store: nothing to set up. The
 * simulated certificates change every minute, so history and alerts move while one watches.
 */
export const demoCommand: Command = async ({ args, stdout, stderr, env }) => {
  let port: string | undefined;
  try {
    const { values } = parseArgs({ args: [...args], options: { port: { type: 'string' } }, strict: true });
    port = values.port === undefined ? undefined : String(demoPort(values.port));
  } catch (error) {
    return usageError(stderr, error);
  }
  const log = createLogger('info', 'stdout');
  const simulator = await startSimulator({ port: 0, churnIntervalMs: DEFAULT_CHURN_SECONDS * 1000, pem: true, log });
  try {
    let withSimulator;
    try {
      withSimulator = loadConfig(DEMO_CONFIG, { ...env, ENOS_DEMO_BASE_URL: simulator.url, ...(port !== undefined ? { ENOS_DEMO_PORT: port } : {}) });
    } catch (error) {
      return configError(stderr, error);
    }
    return await runDaemon(withSimulator, {
      command: 'demo',
      stderr,
      portSetting: '--port N',
      onStarted: (daemon) => {
        const host = ['0.0.0.0', '::'].includes(withSimulator.server.host) ? '127.0.0.1' : withSimulator.server.host;
        const base = `http://${host.includes(':') ? `[${host}]` : host}:${daemon.port}`;
        stdout.write(
          `status page: ${base}/\n` +
            `metrics:     ${base}/metrics\n` +
            `enos-cert-monitor demo: ${simulator.fleet.size} simulated devices at ${simulator.url}, a scan every 30 s, ` +
            `a certificate revoked, renewed or expiring every ${DEFAULT_CHURN_SECONDS} s. Ctrl-C stops it.\n`,
        );
      },
    });
  } finally {
    await simulator.close();
    log.flush();
  }
};

function demoPort(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new Error('--port must be an integer from 0 to 65535');
  return port;
}
