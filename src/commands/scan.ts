import { parseArgs } from 'node:util';
import { loadConfig, resolveConfigPath, type Config } from '../config/load.js';
import { Monitor } from '../monitor.js';
import { buildReport, failOnReached, formatTable, reachedLevel, type FailOn } from '../scan/report.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { reportConfigError } from './check-config.js';
import type { Command } from './io.js';
import { onShutdownSignal } from './signals.js';
import { usageError } from './usage.js';

const FORMATS = ['table', 'json'] as const;
const FAIL_ON = ['never', 'warning', 'critical'] as const;

/** Exactly one scan cycle with the daemon's pipeline, a report, and an exit code. */
export const scanCommand: Command = async ({ args, stdout, stderr, env }) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', short: 'c' },
        format: { type: 'string', default: 'table' },
        'fail-on': { type: 'string', default: 'never' },
      },
      strict: true,
    }));
    oneOf('--format', values.format, FORMATS);
    oneOf('--fail-on', values['fail-on'], FAIL_ON);
  } catch (error) {
    return usageError(stderr, error);
  }
  let config: Config;
  try {
    config = loadConfig(resolveConfigPath(values.config, env), env);
  } catch (error) {
    return reportConfigError(stderr, error);
  }
  // Logs go to stderr so that stdout holds only the report.
  const log = createLogger(config.log.level, 'stderr');
  const monitor = new Monitor(config, { log, clock: systemClock });
  const controller = new AbortController();
  const stopListening = onShutdownSignal(() => controller.abort(new Error('shutdown signal')));
  try {
    await monitor.alerts.init();
    const scan = await monitor.scan(controller.signal);
    const report = buildReport(scan, monitor.fleet.records(), systemClock.now(), config.thresholds);
    stdout.write(values.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
    const { total, ok, notFound } = scan.summary.devices;
    if (ok + notFound === 0 && (total > 0 || !scan.summary.inventoryComplete)) return 3;
    return failOnReached(values['fail-on'] as FailOn, reachedLevel(report)) ? 1 : 0;
  } finally {
    stopListening();
    await monitor.close();
    log.flush();
  }
};

function oneOf(flag: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new Error(`${flag} must be one of: ${allowed.join(', ')}`);
}
