import type { Config } from './config/load.js';
import { AlertLifecycle, revokedHoldRecords } from './alerts/lifecycle.js';
import { FleetAudit } from './audit/fleet-audit.js';
import { createAlertSink } from './alerts/sink.js';
import type { EnosApi } from './enos/api.js';
import { createEnosClient } from './enos/client.js';
import { openInventory } from './inventory/index.js';
import { MonitorMetrics } from './metrics/monitor-metrics.js';
import { runScan, type ScanReport } from './scan/scanner.js';
import { createStore } from './state/create-store.js';
import { FleetView } from './state/fleet-view.js';
import { StoreFollower } from './state/store-follower.js';
import type { Fence, Store } from './state/store.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { VERSION } from './version.js';

/** The leader lease a scan writes under. */
export interface ScanLease {
  readonly fence: Fence;
  /** Whether the lease is still held under this fence. */
  held(): boolean;
}

export interface MonitorDeps {
  readonly log: Logger;
  readonly clock: Clock;
  /** Replaces the HTTP client (tests). */
  readonly api?: EnosApi;
  /** Replaces the store the config names (tests, demo). */
  readonly store?: Store;
}

/**
 * Every component of the monitor, wired once: the pipeline `scan` runs once and `run` runs on a
 * schedule. Query, diff, store, then alert, in that order, so events are durable before any
 * alert is sent for them.
 */
export class Monitor {
  readonly fleet = new FleetView();
  /** Findings per certificate, current with the fleet (status page, scan report, metrics). */
  readonly audit: FleetAudit;
  readonly metrics: MonitorMetrics;
  readonly store: Store;
  readonly alerts: AlertLifecycle;
  readonly #api: EnosApi;
  readonly #log: Logger;
  readonly #follower: StoreFollower;
  /** Start of the last complete scan here; forgotten when records arrive from the store instead. */
  #lastCompleteScanStartedAt: number | undefined;

  constructor(
    readonly config: Config,
    readonly deps: MonitorDeps,
  ) {
    this.#log = deps.log;
    this.audit = new FleetAudit(this.fleet, config.audit);
    this.metrics = new MonitorMetrics({
      fleet: this.fleet,
      perCertificate: config.metrics.perCertificate,
      thresholds: config.thresholds,
      clock: deps.clock,
      version: VERSION,
      audit: this.audit,
    });
    this.#api = deps.api ?? createEnosClient(config.enos, { clock: deps.clock, log: deps.log, observer: this.metrics.apiObserver });
    this.store = deps.store ?? createStore(config, { clock: deps.clock, log: deps.log });
    this.#follower = new StoreFollower(this.store, this.fleet);
    this.alerts = new AlertLifecycle({
      store: this.store,
      fleet: this.fleet,
      sink: createAlertSink(config.alertmanager, {
        log: deps.log,
        clock: deps.clock,
        observer: {
          notification: (outcome) => this.metrics.alertmanagerNotification(outcome),
          dropped: (count) => this.metrics.alertsDropped(count),
        },
      }),
      clock: deps.clock,
      log: deps.log,
      alertmanager: config.alertmanager,
      thresholds: config.thresholds,
    });
  }

  /**
   * Loads the stored snapshots into the fleet view: the warm start, so metrics serve them before
   * the first scan ends, and the standby's refresh, so a replica that does not scan stays current.
   * Only what changed since the last sync is read, devices deleted from the store included.
   * Returns how many devices were applied.
   */
  async syncFromStore(): Promise<number> {
    const applied = await this.#follower.sync();
    if (applied > 0) this.#lastCompleteScanStartedAt = undefined;
    return applied;
  }

  /** Loads the alert state (startsAt, revoked holds); without it, alerts are rebuilt by the next scan. */
  async loadAlertState(): Promise<void> {
    try {
      await this.alerts.init();
    } catch (error) {
      this.#log.warn({ err: error }, 'alert state not loaded; it is rebuilt by the next scan');
    }
  }

  /**
   * One scan cycle: inventory, queries, diff and store, metrics, then alerts. Without a lease it
   * is read-only: it diffs against the stored snapshots but writes nothing and sends no alert. A
   * scan that lost the lease leaves the alerts to the new leader.
   */
  async scan(signal: AbortSignal, lease: ScanLease | undefined): Promise<ScanReport> {
    const inventory = openInventory(this.config.inventory, { api: this.#api, log: this.#log, signal });
    const report = await runScan(
      inventory,
      {
        api: this.#api,
        store: this.store,
        fence: lease?.fence,
        alertRecordsFor: revokedHoldRecords,
        fleet: this.fleet,
        clock: this.deps.clock,
        log: this.#log.child({ component: 'scan' }),
        thresholds: this.config.thresholds,
        concurrency: this.config.enos.concurrency,
        observer: this.metrics,
        ...(this.#lastCompleteScanStartedAt !== undefined ? { lastCompleteScanStartedAt: this.#lastCompleteScanStartedAt } : {}),
      },
      signal,
    );
    if (report.summary.inventoryComplete && !report.summary.aborted) this.#lastCompleteScanStartedAt = report.summary.startedAt;
    this.metrics.scanFinished(report.summary);
    this.#log.info({ ...report.summary, changes: report.events.length }, 'scan finished');
    if (lease === undefined) return report;
    if (report.leaseLost || !lease.held()) {
      this.#log.warn('the leader lease was lost during the scan: alerts are left to the new leader');
      return report;
    }
    const { devices, inventoryComplete } = report.summary;
    const verdict = { events: report.events, answered: devices.ok + devices.notFound > 0, inventoryComplete };
    await this.alerts.afterScan(verdict, lease.fence);
    this.metrics.setAlertsFiring(this.alerts.firing());
    return report;
  }

  async close(): Promise<void> {
    await this.alerts.flush();
    await this.#api.close();
    await this.store.close();
  }
}
