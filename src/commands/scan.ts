import type { Config } from '../config/load.js';
import { parseFindingList, trippedFindings } from '../audit/finding-gate.js';
import type { CertificateState } from '../domain/types.js';
import { Monitor, type ScanLease } from '../monitor.js';
import { buildReport, failOnCauses, failOnReached, reachedLevel, type FailOn, type JsonReport } from '../scan/report.js';
import type { ScanReport } from '../scan/scanner.js';
import { checkStoreTarget } from '../state/store-target.js';
import { formatTable } from '../scan/table.js';
import { systemClock } from '../util/clock.js';
import { LeaderElection, replicaName } from '../state/leader.js';
import { createLogger } from '../util/log.js';
import { listOf, oneOf, parseCommand } from './command-line.js';
import type { Command } from './io.js';
import { onShutdownSignal } from './signals.js';
import { storeAddress, storeAnswers } from './store-check.js';

const SCAN_OPTIONS = {
  format: { type: 'string', default: 'table' },
  'fail-on': { type: 'string', default: 'never' },
  'fail-on-finding': { type: 'string', default: '' },
  'read-only': { type: 'boolean', default: false },
  state: { type: 'string' },
  'show-superseded': { type: 'boolean', default: false },
} as const;
const FORMATS = ['table', 'json'] as const;
const FAIL_ON = ['never', 'warning', 'critical'] as const;
const STATES: readonly CertificateState[] = ['ok', 'warning', 'critical', 'expired', 'revoked'];
/** Certificates named when --fail-on trips; the table has the rest. */
const MAX_CAUSES_SHOWN = 10;

/**
 * Exactly one scan cycle with the daemon's pipeline, a report, and an exit code. It writes under
 * the leader lease like a daemon replica (exit 4 while another holds it); `--read-only` takes no
 * lease, writes nothing and sends nothing.
 */
export const scanCommand: Command = async (context) => {
  let states: Set<CertificateState> | undefined;
  const parsed = parseCommand(context, SCAN_OPTIONS, (values) => {
    oneOf('--format', values.format, FORMATS);
    oneOf('--fail-on', values['fail-on'], FAIL_ON);
    parseFindingList('--fail-on-finding', values['fail-on-finding']);
    if (values.state !== undefined) states = listOf('--state', values.state, STATES);
  });
  if (typeof parsed === 'number') return parsed;
  const { values, config } = parsed;
  const { stdout, stderr } = context;
  // Logs go to stderr so that stdout holds only the report.
  const log = createLogger(config.log.level, 'stderr', config.log.format);
  const storeProblem = await checkStoreTarget(config.store);
  if (storeProblem !== undefined) {
    context.stderr.write(`${storeProblem.message}\n`);
    return storeProblem.kind === 'config' ? 2 : 3;
  }
  const monitor = new Monitor(config, { log, clock: systemClock });
  const controller = new AbortController();
  const stopListening = onShutdownSignal(() => controller.abort(new Error('shutdown signal')));
  let election: LeaderElection | undefined;
  try {
    if (!(await storeAnswers(monitor.store, config, 'scan', stderr))) return 3;
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
      const refused = await takeLease(election, config, stderr);
      if (refused !== undefined) return refused;
      const fence = election.fence!;
      lease = { fence, held: () => election!.holds(fence) };
      await monitor.loadAlertState();
    }
    const scan = await monitor.scan(controller.signal, lease);
    const report = buildReport(scan, monitor.fleet.records(), systemClock.now(), config.thresholds, monitor.audit);
    stdout.write(
      values.format === 'json'
        ? `${JSON.stringify(report, null, 2)}\n`
        : formatTable(report, { ...(states !== undefined ? { states } : {}), showSuperseded: values['show-superseded'] }),
    );
    if (nothingQueried(scan)) {
      stderr.write(`scan: no device could be queried: ${firstError(report)}\n`);
      return 3;
    }
    if (scan.summary.devices.total === 0) stderr.write('scan: the inventory lists no device; nothing was scanned\n');
    const levelReached = failOn(values['fail-on'] as FailOn, report, stderr);
    // On stderr, so that stdout stays one JSON document with --format json.
    const tripped = trippedFindings(report.certificates, parseFindingList('--fail-on-finding', values['fail-on-finding']));
    for (const line of tripped) stderr.write(`scan: --fail-on-finding: ${line}\n`);
    return levelReached || tripped.length > 0 ? 1 : 0;
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
    stderr.write(`scan: another replica holds the leader lease: ${standing.holder}; not scanning (--read-only scans without writing)\n`);
    return 4;
  }
  stderr.write(`scan: the store at ${storeAddress(config)} does not answer: the leader lease could not be taken\n`);
  return 3;
}

/** No device answered (e.g. bad credentials, gateway unreachable, inventory unreadable). */
function nothingQueried(scan: ScanReport): boolean {
  const { total, ok, notFound } = scan.summary.devices;
  return ok + notFound === 0 && (total > 0 || !scan.summary.inventoryComplete);
}

/** The cause to show first: the most frequent error message (one bad secret fails every device alike). */
function firstError(report: JsonReport): string {
  const counts = new Map<string, number>();
  for (const error of report.errors) counts.set(error.message, (counts.get(error.message) ?? 0) + 1);
  const [message] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['the inventory lists no device'];
  return message;
}

/** True when the level is reached; then names what reached it on stderr. */
function failOn(level: FailOn, report: JsonReport, stderr: NodeJS.WritableStream): boolean {
  if (!failOnReached(level, reachedLevel(report))) return false;
  const causes = failOnCauses(report, level);
  const more = causes.length > MAX_CAUSES_SHOWN ? [`  … and ${causes.length - MAX_CAUSES_SHOWN} more (see the report)`] : [];
  stderr.write(
    [`scan: --fail-on ${level} reached by ${causes.length} certificate(s):`, ...causes.slice(0, MAX_CAUSES_SHOWN).map((c) => `  ${c}`), ...more].join('\n') +
      '\n',
  );
  return true;
}
