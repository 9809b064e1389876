import type { Config } from '../config/load.js';
import { Daemon } from '../daemon.js';
import { Monitor } from '../monitor.js';
import { checkStoreTarget } from '../state/store-target.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { parseCommand } from './command-line.js';
import type { Command } from './io.js';
import { onShutdownSignal } from './signals.js';

/** The daemon, until SIGTERM or SIGINT. */
export const runCommand: Command = async (context) => {
  const parsed = parseCommand(context, {});
  return typeof parsed === 'number' ? parsed : runDaemon(parsed.config);
};

/**
 * Starts the daemon for a loaded config and resolves 0 once a shutdown signal has stopped it,
 * or 1 when it cannot start (e.g. the port is taken).
 */
export async function runDaemon(config: Config, onStarted?: (daemon: Daemon) => void): Promise<number> {
  const log = createLogger(config.log.level);
  const daemon = new Daemon(new Monitor(config, { log, clock: systemClock }), log);
  const stopped = new Promise<void>((resolve) => {
    onShutdownSignal((signal) => {
      log.info({ signal }, 'shutdown signal');
      void daemon.stop().then(resolve);
    });
  });
  // Logged, not fatal: the store client keeps retrying, and /readyz and enos_store_up say it is down.
  void checkStoreTarget(config.store).then((problem) => {
    if (problem !== undefined) log.error({ problem: problem.message, kind: problem.kind }, 'redis store not usable; retrying');
  });
  try {
    await daemon.start();
  } catch (error) {
    log.fatal({ err: error }, 'daemon failed to start');
    await daemon.stop();
    log.flush();
    return 1;
  }
  onStarted?.(daemon);
  await stopped;
  log.flush();
  return 0;
}
