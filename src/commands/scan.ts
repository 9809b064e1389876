import type { Config } from '../config/load.js';
import { Monitor, type ScanLease } from '../monitor.js';
import { buildReport, failOnReached, formatTable, reachedLevel, type FailOn } from '../scan/report.js';
import { systemClock } from '../util/clock.js';
import { LeaderElection, replicaName } from '../state/leader.js';
import { createLogger } from '../util/log.js';
import { oneOf, parseCommand } from './command-line.js';
import type { Command } from './io.js';
import { onShutdownSignal } from './signals.js';

const OPTIONS = {
  format: { type: 'string', default: 'table' },
  'fail-on': { type: 'string', default: 'never' },
  'read-only': { type: 'boolean', default: false },
} as const;
const FORMATS = ['table', 'json'] as const;
const FAIL_ON = ['never', 'warning', 'critical'] as const;

/**
 * Exactly one scan cycle with the daemon's pipeline, a report, and an exit code. It writes under
 * the leader lease like a daemon replica (exit 4 while another holds it); `--read-only` takes no
 * lease, writes nothing and sends nothing.
 */
export const scanCommand: Command = async (context) => {
  const parsed = parseCommand(context, OPTIONS, (values) => {
    oneOf('--format', values.format, FORMATS);
    oneOf('--fail-on', values['fail-on'], FAIL_ON);
  });
  if (typeof parsed === 'number') return parsed;
  const { values, config } = parsed;
  // Logs go to stderr so that stdout holds only the report.
  const log = createLogger(config.log.level, 'stderr');
  const monitor = new Monitor(config, { log, clock: systemClock });
  const controller = new AbortController();
  const stopListening = onShutdownSignal(() => controller.abort(new Error('shutdown signal')));
  let election: LeaderElection | undefined;
  try {
    let lease: ScanLease | undefined;
    if (!values['read-only']) {
      election = new LeaderElection({
        store: monitor.store,
        holder: replicaName('scan-'),
        leaseMs: config.store.leaderLeaseSeconds * 1000,
        log,
        onChange: (fence) => {
          if (fence === undefined) controller.abort(new Error('the leader lease was lost'));
        },
      });
      const refused = await takeLease(election, config, context.stderr);
      if (refused !== undefined) return refused;
      const fence = election.fence!;
      lease = { fence, held: () => election!.holds(fence) };
      await monitor.loadAlertState();
    }
    const scan = await monitor.scan(controller.signal, lease);
    const report = buildReport(scan, monitor.fleet.records(), systemClock.now(), config.thresholds);
    context.stdout.write(values.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
    const { total, ok, notFound } = scan.summary.devices;
    if (ok + notFound === 0 && (total > 0 || !scan.summary.inventoryComplete)) return 3;
    return failOnReached(values['fail-on'] as FailOn, reachedLevel(report)) ? 1 : 0;
  } finally {
    stopListening();
    // The scan has stopped writing by now: the lease can go at once.
    await election?.stop({ release: true });
    await monitor.close();
    log.flush();
  }
};

/** Exit 4 naming the holder when another replica holds the lease, 3 when the store does not answer. */
async function takeLease(election: LeaderElection, config: Config, stderr: NodeJS.WritableStream): Promise<number | undefined> {
  await election.start();
  const standing = election.standing;
  if (standing.state === 'leader') return undefined;
  if (standing.state === 'standby') {
    stderr.write(`another replica holds the leader lease: ${standing.holder}; not scanning (use --read-only to scan without writing)\n`);
    return 4;
  }
  stderr.write(`the store does not answer (${storeName(config)}): the leader lease could not be taken; not scanning\n`);
  return 3;
}

/** The configured store without credentials, for messages. */
function storeName(config: Config): string {
  const urls = config.store.redisClusterUrls ?? (config.store.redisUrl !== undefined ? [config.store.redisUrl] : ['memory']);
  return urls.map((url) => url.replace(/\/\/[^@/]*@/, '//')).join(', ');
}
