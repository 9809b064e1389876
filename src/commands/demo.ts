import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { startSimulator } from '../simulator/index.js';
import { configError } from './command-line.js';
import type { Command } from './io.js';
import { runDaemon } from './run.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

/** The simulator and the daemon in one process, on the in-memory store: nothing to set up. */
export const demoCommand: Command = async ({ stdout, stderr, env }) => {
  const simulator = await startSimulator({ port: 0 });
  try {
    let config;
    try {
      config = loadConfig(DEMO_CONFIG, { ...env, ENOS_DEMO_BASE_URL: simulator.url });
    } catch (error) {
      return configError(stderr, error);
    }
    return await runDaemon(config, (daemon) => {
      const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
      stdout.write(
        `status page: http://${host}:${daemon.port}/\n` +
          `enos-cert-monitor demo: simulated EnOS gateway at ${simulator.url}\n` +
          `metrics: http://${host}:${daemon.port}/metrics  (Ctrl-C to stop)\n`,
      );
    });
  } finally {
    await simulator.close();
  }
};
