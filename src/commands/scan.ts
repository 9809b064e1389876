import { parseFindingList, trippedFindings } from '../audit/finding-gate.js';
import { Monitor } from '../monitor.js';
import { checkStoreTarget } from '../state/store-target.js';
import { buildReport, failOnReached, formatTable, reachedLevel, type FailOn } from '../scan/report.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { oneOf, parseCommand } from './command-line.js';
import type { Command } from './io.js';
import { onShutdownSignal } from './signals.js';

const OPTIONS = {
  format: { type: 'string', default: 'table' },
  'fail-on': { type: 'string', default: 'never' },
  'fail-on-finding': { type: 'string', default: '' },
} as const;
const FORMATS = ['table', 'json'] as const;
const FAIL_ON = ['never', 'warning', 'critical'] as const;

/** Exactly one scan cycle with the daemon's pipeline, a report, and an exit code. */
export const scanCommand: Command = async (context) => {
  const parsed = parseCommand(context, OPTIONS, (values) => {
    oneOf('--format', values.format, FORMATS);
    oneOf('--fail-on', values['fail-on'], FAIL_ON);
    parseFindingList('--fail-on-finding', values['fail-on-finding']);
  });
  if (typeof parsed === 'number') return parsed;
  const { values, config } = parsed;
  // Logs go to stderr so that stdout holds only the report.
  const log = createLogger(config.log.level, 'stderr');
  const storeProblem = await checkStoreTarget(config.store);
  if (storeProblem !== undefined) {
    context.stderr.write(`${storeProblem.message}\n`);
    return storeProblem.kind === 'config' ? 2 : 3;
  }
  const monitor = new Monitor(config, { log, clock: systemClock });
  const controller = new AbortController();
  const stopListening = onShutdownSignal(() => controller.abort(new Error('shutdown signal')));
  try {
    await monitor.loadAlertState();
    const scan = await monitor.scan(controller.signal);
    const report = buildReport(scan, monitor.fleet.records(), systemClock.now(), config.thresholds, monitor.audit);
    context.stdout.write(values.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
    const { total, ok, notFound } = scan.summary.devices;
    if (ok + notFound === 0 && (total > 0 || !scan.summary.inventoryComplete)) return 3;
    // On stderr, so that stdout stays one JSON document with --format json.
    const tripped = trippedFindings(report.certificates, parseFindingList('--fail-on-finding', values['fail-on-finding']));
    for (const line of tripped) context.stderr.write(`--fail-on-finding: ${line}\n`);
    return failOnReached(values['fail-on'] as FailOn, reachedLevel(report)) || tripped.length > 0 ? 1 : 0;
  } finally {
    stopListening();
    await monitor.close();
    log.flush();
  }
};
