import { schedule, type ScheduledTask } from 'node-cron';
import type { Monitor } from './monitor.js';
import { startHttpServer, type HttpServer } from './server/http-server.js';
import { LeaderElection, replicaName } from './state/leader.js';
import type { Fence } from './state/store.js';
import { createStatusPage, type StatusPage } from './status/index.js';
import type { Logger } from './util/log.js';

/** How long shutdown waits for the scan in flight to store what it has, and for alert sends. */
const SHUTDOWN_SCAN_GRACE_MS = 5_000;
const SHUTDOWN_FLUSH_MS = 3_000;
/** How often the store is pinged for `enos_store_up`, which must not wait for a readiness probe. */
const STORE_CHECK_MS = 5_000;

/**
 * The long-running monitor: HTTP endpoints from the first moment, a warm start from the store,
 * scans on the cron schedule (never overlapping, only on the leader, each under the fence of the
 * lease it started with and aborted when that lease is lost), alerts kept alive between scans (by
 * the leader; during a store outage by the replica that led into it, from memory), and a shutdown
 * that stops all of it within seconds.
 */
export class Daemon {
  readonly #monitor: Monitor;
  readonly #log: Logger;
  readonly #leader: LeaderElection;
  readonly #status: StatusPage | undefined;
  #server: HttpServer | undefined;
  #task: ScheduledTask | undefined;
  #resendTimer: NodeJS.Timeout | undefined;
  #storeTimer: NodeJS.Timeout | undefined;
  #followTimer: NodeJS.Timeout | undefined;
  #following: Promise<void> | undefined;
  #scan: { readonly controller: AbortController; readonly fence: Fence; readonly done: Promise<void> } | undefined;
  #stopping = false;
  /** `runOnStart` on a replica that started as a standby: it scans once it takes the lease. */
  #startScanPending = false;

  constructor(monitor: Monitor, log: Logger) {
    this.#monitor = monitor;
    this.#log = log.child({ component: 'daemon' });
    if (monitor.config.server.statusPage) {
      this.#status = createStatusPage({
        fleet: monitor.fleet,
        history: (query) => monitor.store.history(query),
        thresholds: monitor.config.thresholds,
        clock: monitor.deps.clock,
        log,
        leader: () => this.leader,
        audit: monitor.audit,
      });
    }
    // With the in-memory store nobody else can hold the lease; taking it all the same gives every write its fence.
    this.#leader = new LeaderElection({
      store: monitor.store,
      holder: replicaName(),
      leaseMs: monitor.config.store.leaderLeaseSeconds * 1000,
      log: this.#log,
      onChange: (fence) => this.#leadershipChanged(fence),
    });
  }

  get port(): number | undefined {
    return this.#server?.port;
  }

  get leader(): boolean {
    return this.#leader.leader;
  }

  async start(): Promise<void> {
    const { config, metrics } = this.#monitor;
    this.#server = await startHttpServer({
      host: config.server.host,
      port: config.server.port,
      metrics,
      ready: () => this.#storeAnswers(),
      log: this.#log,
      ...(this.#status === undefined ? {} : { routes: this.#status }),
    });
    this.#log.info({ host: config.server.host, port: this.#server.port }, 'http server listening');
    await this.#storeAnswers();
    this.#storeTimer = setInterval(() => void this.#storeAnswers(), STORE_CHECK_MS);
    try {
      const devices = await this.#monitor.syncFromStore();
      this.#log.info({ devices }, 'warm start from the store');
    } catch (error) {
      this.#log.warn({ err: error }, 'warm start failed; metrics fill in with the first scan');
    }
    metrics.setLeader(false);
    await this.#leader.start();
    this.#task = schedule(config.schedule.cron, () => this.triggerScan('schedule'), {
      timezone: config.schedule.timezone,
      name: 'scan',
      noOverlap: true,
    });
    const resendMs = config.alertmanager.resendIntervalSeconds * 1000;
    this.#resendTimer = setInterval(() => void this.#resendAlerts(), resendMs);
    // A standby follows the leader between cron ticks too: removed devices and new answers show within a refresh.
    this.#followTimer = setInterval(() => {
      if (!this.leader) void this.#followLeader();
    }, config.store.standbyRefreshSeconds * 1000);
    this.#startScanPending = config.schedule.runOnStart;
    if (this.#startScanPending) void this.triggerScan('start');
  }

  /** Starts a scan unless one is running or this replica is not the leader. */
  async triggerScan(reason: 'start' | 'schedule'): Promise<void> {
    if (this.#stopping) return;
    const fence = this.#leader.fence;
    if (fence === undefined) {
      await this.#followLeader();
      return;
    }
    if (this.#scan !== undefined) {
      this.#log.warn({ reason }, 'scan skipped: the previous scan is still running');
      return;
    }
    this.#startScanPending = false;
    const controller = new AbortController();
    const lease = { fence, held: () => this.#leader.holds(fence) };
    const done = this.#monitor
      .scan(controller.signal, lease)
      .then(
        (report) => {
          this.#status?.scanFinished(report.summary);
          // The lease may have been lost while the scan ran: its alerts are not this replica's.
          if (!this.leader) this.#monitor.metrics.setAlertsFiring([]);
        },
        (error: unknown) => this.#log.error({ err: error }, 'scan failed'),
      )
      .finally(() => {
        this.#scan = undefined;
      });
    this.#scan = { controller, fence, done };
    await done;
  }

  /**
   * Graceful: no new scans, the scan in flight aborted and given a moment to store what it has.
   * The lease is released only once that scan has stopped writing; otherwise it runs out by itself.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info('shutting down');
    await this.#task?.destroy();
    clearInterval(this.#resendTimer);
    clearInterval(this.#storeTimer);
    clearInterval(this.#followTimer);
    const scan = this.#scan;
    let scanStopped = true;
    if (scan !== undefined) {
      scan.controller.abort(new Error('shutdown'));
      scanStopped = await withTimeout(scan.done, SHUTDOWN_SCAN_GRACE_MS);
    }
    await withTimeout(this.#monitor.alerts.flush(), SHUTDOWN_FLUSH_MS);
    await this.#leader.stop({ release: scanStopped });
    await this.#server?.close();
    await this.#monitor.close();
    this.#log.info('stopped');
  }

  /** A standby does not scan; it keeps its metrics current from what the leader stores. */
  async #followLeader(): Promise<void> {
    // One refresh at a time: a slow store must not pile them up.
    this.#following ??= this.#monitor
      .syncFromStore()
      .then(
        (devices) => this.#log.debug({ devices }, 'standby refreshed from the store'),
        // Debug: during an outage this fails every refresh; enos_store_up and /readyz say so once.
        (error: unknown) => this.#log.debug({ err: error }, 'standby refresh failed'),
      )
      .finally(() => {
        this.#following = undefined;
      });
    await this.#following;
  }


  async #storeAnswers(): Promise<boolean> {
    let up = true;
    try {
      await this.#monitor.store.ping();
    } catch {
      up = false;
    }
    this.#monitor.metrics.setStoreUp(up);
    return up;
  }

  /**
   * A scan under a fence that no longer holds the lease stops at once; a new leader reads the alert
   * state first; a replica that stopped leading no longer reports any alert as firing.
   */
  #leadershipChanged(fence: Fence | undefined): void {
    this.#monitor.metrics.setLeader(fence !== undefined);
    const scan = this.#scan;
    if (scan !== undefined && scan.fence !== fence) scan.controller.abort(new Error('the leader lease was lost'));
    if (fence === undefined) {
      this.#monitor.metrics.setAlertsFiring([]);
      return;
    }
    void this.#monitor.loadAlertState();
    // A failover must not leave the fleet unscanned until the next cron tick.
    if (this.#startScanPending) void this.triggerScan('start');
  }

  /**
   * The leader re-sends and saves; a replica that led when the store became unreachable keeps
   * re-sending from memory without writing, so no alert ends because Redis is down.
   */
  async #resendAlerts(): Promise<void> {
    if (this.#stopping) return;
    const fence = this.#leader.fence;
    if (fence === undefined && !this.#leader.ledIntoOutage) return;
    try {
      await this.#monitor.alerts.resend(fence);
      this.#monitor.metrics.setAlertsFiring(this.#monitor.alerts.firing());
    } catch (error) {
      this.#log.warn({ err: error }, 'alert resend failed');
    }
  }
}

/** True when `promise` settled within `ms`. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}
