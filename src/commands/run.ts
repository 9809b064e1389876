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
  if (typeof parsed === 'number') return parsed;
  return runDaemon(parsed.config, { command: 'run', stderr: context.stderr, portSetting: `server.port in ${parsed.configPath}` });
};

export interface DaemonStart {
  /** For messages: the command and what sets the port. */
  readonly command: string;
  readonly portSetting: string;
  readonly stderr: NodeJS.WritableStream;
  readonly onStarted?: (daemon: Daemon) => void;
}

/**
 * Starts the daemon for a loaded config and resolves 0 once a shutdown signal has stopped it;
 * 2 when its port is taken (one line saying so), 1 when it cannot start otherwise.
 */
export async function runDaemon(config: Config, start: DaemonStart): Promise<number> {
  const log = createLogger(config.log.level, 'stdout', config.log.format);
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
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    if (inUse) {
      start.stderr.write(
        `${start.command}: port ${config.server.port} on ${config.server.host} is already in use; choose another with ${start.portSetting}\n`,
      );
    } else {
      log.fatal({ err: error }, 'daemon failed to start');
    }
    await daemon.stop();
    log.flush();
    return inUse ? 2 : 1;
  }
  start.onStarted?.(daemon);
  await stopped;
  log.flush();
  return 0;
}
