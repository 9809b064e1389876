import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AuditMetrics } from '../audit/audit-metrics.js';
import { FleetAudit } from '../audit/fleet-audit.js';
import type { QueryResult } from '../domain/device.js';
import type { ChangeEvent, ChangeType, Thresholds } from '../domain/types.js';
import type { Operation, RequestObserver } from '../enos/outcome.js';
import type { ScanResult, ScanSummary } from '../scan/types.js';
import type { FleetView } from '../state/fleet-view.js';
import type { Clock } from '../util/clock.js';
import type { ContentEncoding, ExpositionBody } from '../server/http-server.js';
import { FleetSeries, type PerCertificateMode } from './fleet-series.js';
import { registerDeviceFailures } from './device-failures.js';
import { gzipMember, inflateMembers, plainSize } from './gzip-members.js';
import { registerStateGauges } from './state-gauges.js';

export interface MonitorMetricsOptions {
  readonly fleet: FleetView;
  readonly perCertificate: PerCertificateMode;
  readonly thresholds: Thresholds;
  readonly clock: Clock;
  readonly version: string;
  /** The fleet's audit (findings); one with the default audit config when absent. */
  readonly audit?: FleetAudit;
}

export interface FiringAlerts {
  readonly alertname: string;
  readonly severity: string;
  readonly count: number;
}

const OPERATIONS: readonly Operation[] = ['token', 'list_certificates', 'search_devices'];
const QUERY_RESULTS: readonly QueryResult[] = ['ok', 'not_found', 'error'];
const SCAN_RESULTS: readonly ScanResult[] = ['success', 'partial', 'failure'];
const CHANGES: readonly ChangeType[] = ['added', 'removed', 'revoked', 'expired', 'renewed'];
/** The alerts the monitor can raise: always exported, 0 while none fires. */
const KNOWN_ALERTS: readonly Omit<FiringAlerts, 'count'>[] = [
  { alertname: 'EnosCertificateExpiring', severity: 'warning' },
  { alertname: 'EnosCertificateExpiring', severity: 'critical' },
  { alertname: 'EnosCertificateExpired', severity: 'critical' },
  { alertname: 'EnosCertificateRevoked', severity: 'warning' },
];

/** prom-client default metrics whose names `promtool check metrics` rejects (gauges ending in _total). */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Every metric of the contract in one registry. Label sets that users alert on start at 0, so
 * rate() and increase() work from the first scrape. Per-certificate series and the state
 * aggregates come from a FleetSeries that follows the FleetView.
 */
export class MonitorMetrics {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;
  readonly #series: FleetSeries;
  readonly #audit: AuditMetrics;
  readonly #apiRequests: Counter<'operation' | 'outcome'>;
  readonly #apiDuration: Histogram<'operation'>;
  readonly #deviceQueries: Counter<'result'>;
  readonly #changes: Counter<'change'>;
  readonly #scans: Counter<'result'>;
  readonly #scanDuration: Histogram;
  readonly #lastSuccess: Gauge;
  readonly #lastFinished: Gauge<'result'>;
  readonly #inventoryDevices: Gauge;
  readonly #storeUp: Gauge;
  readonly #leader: Gauge;
  readonly #notifications: Counter<'outcome'>;
  readonly #alertsDropped: Counter;
  readonly #alertsFiring: Gauge<'alertname' | 'severity'>;

  constructor(options: MonitorMetricsOptions) {
    const now = () => options.clock.now();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);

    this.#series = new FleetSeries({
      fleet: options.fleet,
      mode: options.perCertificate,
      thresholds: options.thresholds,
      now,
    });
    this.#audit = new AuditMetrics(this.registry, {
      fleet: options.fleet,
      audit: options.audit ?? new FleetAudit(options.fleet),
      mode: options.perCertificate,
      thresholds: options.thresholds,
      now,
    });

    new Gauge({
      name: 'enos_cert_monitor_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version'],
      registers,
    }).set({ version: options.version }, 1);

    this.#apiRequests = new Counter({
      name: 'enos_api_requests_total',
      help: 'EnOS API gateway calls (every attempt) by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.#apiDuration = new Histogram({
      name: 'enos_api_request_duration_seconds',
      help: 'Duration of EnOS API gateway calls (every attempt).',
      labelNames: ['operation'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    for (const operation of OPERATIONS) {
      this.#apiRequests.inc({ operation, outcome: 'success' }, 0);
      this.#apiDuration.zero({ operation });
    }

    this.#deviceQueries = new Counter({
      name: 'enos_device_queries_total',
      help: 'Device certificate queries by result.',
      labelNames: ['result'],
      registers,
    });
    for (const result of QUERY_RESULTS) this.#deviceQueries.inc({ result }, 0);

    this.#changes = new Counter({
      name: 'enos_certificate_changes_total',
      help: 'Recorded certificate change events by type.',
      labelNames: ['change'],
      registers,
    });
    for (const change of CHANGES) this.#changes.inc({ change }, 0);

    this.#scans = new Counter({
      name: 'enos_scans_total',
      help: 'Finished scan cycles by result.',
      labelNames: ['result'],
      registers,
    });
    for (const result of SCAN_RESULTS) this.#scans.inc({ result }, 0);
    this.#scanDuration = new Histogram({
      name: 'enos_scan_duration_seconds',
      help: 'Duration of scan cycles.',
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'enos_scan_last_success_timestamp_seconds',
      help: 'When the last scan with result success finished (partial and failed scans do not count); 0 before the first.',
      registers,
    });

    this.#lastFinished = new Gauge({
      name: 'enos_scan_last_finished_timestamp_seconds',
      help: 'When the last scan with each result finished; 0 before the first. The newest of them is the current result.',
      labelNames: ['result'],
      registers,
    });
    for (const result of SCAN_RESULTS) this.#lastFinished.set({ result }, 0);
    this.#inventoryDevices = new Gauge({
      name: 'enos_inventory_devices',
      help: 'Devices the inventory listed in the last scan that read it completely; 0 before the first such scan.',
      registers,
    });
    const thresholds = new Gauge({
      name: 'enos_certificate_threshold_seconds',
      help: 'The configured thresholds (warningDays, criticalDays): a valid certificate is in this state within so long of its notAfter.',
      labelNames: ['state'],
      registers,
    });
    thresholds.set({ state: 'warning' }, options.thresholds.warningDays * 86_400);
    thresholds.set({ state: 'critical' }, options.thresholds.criticalDays * 86_400);

    this.#storeUp = new Gauge({ name: 'enos_store_up', help: '1 while the state store answers, else 0.', registers });
    this.#leader = new Gauge({ name: 'enos_scanner_leader', help: '1 while this instance holds the scanner lease, else 0.', registers });

    this.#notifications = new Counter({
      name: 'enos_alertmanager_notifications_total',
      help: 'Alert batches posted to Alertmanager by outcome (per URL, after retries).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['success', 'failure']) this.#notifications.inc({ outcome }, 0);
    this.#alertsDropped = new Counter({
      name: 'enos_alertmanager_alerts_dropped_total',
      help: 'Alerts given up on: rejected by an Alertmanager (4xx), or unsent when shutdown stopped waiting.',
      registers,
    });
    this.#alertsFiring = new Gauge({
      name: 'enos_alerts_firing',
      help: 'Alerts currently firing by alertname and severity.',
      labelNames: ['alertname', 'severity'],
      registers,
    });
    this.setAlertsFiring([]);

    registerStateGauges(this.registry, this.#series, now);
    registerDeviceFailures(this.registry, options.fleet);
  }

  /** Hook for the API client: one call per HTTP attempt. */
  readonly apiObserver: RequestObserver = (operation, outcome, durationSeconds) => {
    this.#apiRequests.inc({ operation, outcome });
    this.#apiDuration.observe({ operation }, durationSeconds);
  };

  deviceQuery(result: QueryResult): void {
    this.#deviceQueries.inc({ result });
  }

  certificateChanges(events: readonly Pick<ChangeEvent, 'type'>[]): void {
    for (const event of events) this.#changes.inc({ change: event.type });
  }

  /**
   * Counts the scan; only `success` moves the last-success timestamp. Time-dependent states need
   * no nudge here: every scrape re-evaluates the devices whose state boundary has passed.
   */
  scanFinished(summary: ScanSummary): void {
    this.#scans.inc({ result: summary.result });
    this.#scanDuration.observe(Math.max(0, summary.finishedAt - summary.startedAt) / 1000);
    if (summary.result === 'success') this.#lastSuccess.set(summary.finishedAt / 1000);
    this.#lastFinished.set({ result: summary.result }, summary.finishedAt / 1000);
    if (summary.inventoryComplete && !summary.aborted) this.#inventoryDevices.set(summary.devices.total);
  }

  setStoreUp(up: boolean): void {
    this.#storeUp.set(up ? 1 : 0);
  }

  setLeader(leader: boolean): void {
    this.#leader.set(leader ? 1 : 0);
  }

  alertmanagerNotification(outcome: 'success' | 'failure'): void {
    this.#notifications.inc({ outcome });
  }

  alertsDropped(count: number): void {
    if (count > 0) this.#alertsDropped.inc(count);
  }

  /** Replaces the whole set: pairs not listed drop out, except the known alerts, which show 0. */
  setAlertsFiring(list: readonly FiringAlerts[]): void {
    this.#alertsFiring.reset();
    for (const { alertname, severity } of KNOWN_ALERTS) this.#alertsFiring.set({ alertname, severity }, 0);
    for (const { alertname, severity, count } of list) this.#alertsFiring.inc({ alertname, severity }, count);
  }

  /**
   * The whole exposition: registry metrics, then the per-certificate families. The state gauges'
   * collect() has re-evaluated time-dependent states by then. `gzip`: one gzip stream made of
   * members (the per-certificate ones are kept compressed); `identity`: the text, inflated from
   * them as it is written, so a plain scrape never holds the whole text either.
   */
  async exposition(encoding: ContentEncoding): Promise<ExpositionBody> {
    const text = await this.registry.metrics();
    const members = await this.#series.render();
    const audit = this.#audit.exposition();
    if (encoding === 'gzip') {
      const chunks = [await gzipMember(text), ...(await audit.gzip()), ...members];
      return { length: totalLength(chunks), chunks };
    }
    const plain = [Buffer.from(text), ...audit.plain()];
    let length = totalLength(plain);
    for (const member of members) length += plainSize(member);
    return { length, chunks: concatChunks(plain, inflateMembers(members)) };
  }

  async render(): Promise<string> {
    const { chunks } = await this.exposition('identity');
    const text: Buffer[] = [];
    for await (const chunk of chunks) text.push(chunk);
    return Buffer.concat(text).toString('utf8');
  }
}

function totalLength(chunks: readonly Buffer[]): number {
  return chunks.reduce((length, chunk) => length + chunk.length, 0);
}

async function* concatChunks(first: readonly Buffer[], rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  yield* rest;
}
