import type { RawConfig } from '../config/schema.js';
import type { ChangeEvent, Thresholds } from '../domain/types.js';
import type { FleetView } from '../state/fleet-view.js';
import type { Store } from '../state/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { withPauses } from '../util/pauses.js';
import { decodeState, encodeState, STATE_MARKER_KEY, type AlertState, type TrackedAlert } from './alert-state.js';
import type { AlertSink, PostableAlert } from './sink.js';
import {
  ALERT_KINDS,
  evaluateAlerts,
  holdFromEvent,
  holdIsActive,
  holdKey,
  revokedAlerts,
  REVOKED,
  rfc3339,
  type DesiredAlert,
} from './evaluate.js';

/** A resolved alert is re-sent for this long, as Prometheus does, in case a send was lost. */
export const RESOLVED_RESEND_MS = 15 * 60_000;
/** Firing alerts are sent with endsAt this many resend intervals ahead: a few lost sends are survived. */
export const ENDS_AT_INTERVALS = 4;
const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

export interface AlertLifecycleOptions {
  readonly store: Store;
  readonly fleet: FleetView;
  readonly sink: AlertSink;
  readonly clock: Clock;
  readonly log: Logger;
  readonly alertmanager: Pick<RawConfig['alertmanager'], 'resendIntervalSeconds' | 'labels' | 'revokedHoldHours'>;
  readonly thresholds: Thresholds;
}

/** What one evaluation changed; per-alert lines are debug, these counts by `alertname/severity` info. */
interface AlertChanges {
  started: number;
  resolved: number;
  readonly startedByKind: Record<string, number>;
  readonly resolvedByKind: Record<string, number>;
}

function countKind(counts: Record<string, number>, labels: PostableAlert['labels']): void {
  const kind = `${labels.alertname ?? ''}/${labels.severity ?? ''}`;
  counts[kind] = (counts[kind] ?? 0) + 1;
}

export interface FiringCount {
  readonly alertname: string;
  readonly severity: string;
  readonly count: number;
}

/**
 * Turns scan results into Alertmanager alerts over time: which alerts fire, since when, which
 * were resolved and must be re-sent a while. Its state lives in the store so that a restart
 * keeps startsAt and still resolves what cleared meanwhile. Operations run one at a time.
 */
export class AlertLifecycle {
  readonly #options: AlertLifecycleOptions;
  readonly #log: Logger;
  #state: AlertState = { alerts: new Map(), holds: new Map() };
  /** What the store holds, as last read or written; writes send only the difference. */
  #persisted = new Map<string, string>();
  #loaded = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: AlertLifecycleOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'alerts' });
  }

  /**
   * Loads the alert state; rejects when the store cannot be read. Call it again when this instance
   * becomes the scanning leader: another instance may have changed the state meanwhile.
   */
  init(): Promise<void> {
    return this.#serial(() => this.#load());
  }

  /** After each scan: new revoked holds, evaluation, resolution of what cleared, one store write, send all. */
  afterScan(events: readonly ChangeEvent[]): Promise<void> {
    return this.#serial(async () => {
      await (this.#loaded ? this.#rereadStored() : this.#loadIfNeeded());
      const { fleet, clock, alertmanager, thresholds } = this.#options;
      const now = clock.now();
      for (const event of events) {
        if (event.type !== 'revoked') continue;
        const hold = holdFromEvent(event, (id) => fleet.get(id));
        this.#state.holds.set(holdKey(hold), hold);
      }
      this.#dropExpiredHolds(now);
      const desired = await evaluateAlerts({
        records: fleet.records(),
        holds: this.#state.holds.values(),
        now,
        thresholds,
        revokedHoldHours: alertmanager.revokedHoldHours,
        extraLabels: alertmanager.labels,
      });
      const changes = this.#apply(desired, now, () => true);
      this.#log.info({ ...changes, firing: desired.size }, 'alerts evaluated');
      await this.#persist();
      this.#send(now);
    });
  }

  /** Between scans: expires revoked holds, re-sends firing alerts and recently resolved ones. */
  resend(): Promise<void> {
    return this.#serial(async () => {
      await this.#loadIfNeeded();
      const now = this.#options.clock.now();
      this.#dropExpiredHolds(now);
      const stillRevoked = revokedAlerts({
        holds: this.#state.holds.values(),
        now,
        revokedHoldHours: this.#options.alertmanager.revokedHoldHours,
        extraLabels: this.#options.alertmanager.labels,
      });
      // Only revoked alerts change without a scan; the others wait for the next evaluation.
      const changes = this.#apply(stillRevoked, now, (alert) => alert.labels.alertname === REVOKED);
      if (changes.resolved > 0) this.#log.info(changes, 'revoked alerts ended');
      await this.#persist();
      this.#send(now);
    });
  }

  /** Firing alerts by alertname and severity, every known pair included (zero when none). */
  firing(): FiringCount[] {
    const counts = new Map<string, { alertname: string; severity: string; count: number }>(
      ALERT_KINDS.map((kind) => [`${kind.alertname}/${kind.severity}`, { ...kind, count: 0 }]),
    );
    for (const alert of this.#state.alerts.values()) {
      if (alert.resolvedAt !== undefined) continue;
      const { alertname = '', severity = '' } = alert.labels;
      const entry = counts.get(`${alertname}/${severity}`) ?? { alertname, severity, count: 0 };
      entry.count += 1;
      counts.set(`${alertname}/${severity}`, entry);
    }
    return [...counts.values()];
  }

  /** Shutdown: waits for pending operations, then (bounded) for queued sends. True when all went out. */
  async flush(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS): Promise<boolean> {
    await this.#tail;
    return this.#options.sink.flush(timeoutMs);
  }

  async #load(): Promise<void> {
    const records = await this.#options.store.readAlertState();
    if (!this.#storeLostState(records)) this.#state = decodeState(records, this.#log);
    this.#persisted = new Map(records);
    this.#loaded = true;
    this.#log.info({ alerts: this.#state.alerts.size, revokedHolds: this.#state.holds.size }, 'alert state loaded');
  }

  /**
   * What the store holds now, for the write to compare with: records it lost since the last write
   * are written again. An outage changes nothing here; the write fails as well and says so.
   */
  async #rereadStored(): Promise<void> {
    let records: Map<string, string>;
    try {
      records = await this.#options.store.readAlertState();
    } catch {
      return;
    }
    this.#storeLostState(records);
    this.#persisted = records;
  }

  /**
   * Written before, gone now: the store lost its data (a Redis restarted empty). What this instance
   * tracks is then the best there is: kept, and written back by the next write.
   */
  #storeLostState(records: ReadonlyMap<string, string>): boolean {
    const lost = this.#persisted.has(STATE_MARKER_KEY) && !records.has(STATE_MARKER_KEY);
    if (lost) {
      const { alerts, holds } = this.#state;
      this.#log.warn({ alerts: alerts.size, revokedHolds: holds.size }, 'the store lost the alert state; writing back the alerts tracked here');
    }
    return lost;
  }

  /** A store outage must not stop alerts: carry on in memory and do not overwrite the stored state. */
  async #loadIfNeeded(): Promise<void> {
    if (this.#loaded) return;
    try {
      await this.#load();
    } catch (error) {
      this.#log.warn({ err: error }, 'alert state not loaded, startsAt of firing alerts may reset');
    }
  }

  /**
   * Makes `desired` the firing set among the tracked alerts that `inScope` selects: new ones start,
   * continuing ones keep startsAt, cleared ones become resolved. Resolved ones past their window go.
   */
  #apply(
    desired: ReadonlyMap<string, DesiredAlert>,
    now: number,
    inScope: (alert: TrackedAlert) => boolean,
  ): AlertChanges {
    const alerts = this.#state.alerts;
    const changes: AlertChanges = { started: 0, resolved: 0, startedByKind: {}, resolvedByKind: {} };
    for (const [key, alert] of desired) {
      const known = alerts.get(key);
      if (known !== undefined && known.resolvedAt === undefined) {
        alerts.set(key, { labels: alert.labels, annotations: alert.annotations, startsAt: known.startsAt });
      } else {
        const startsAt = Math.min(alert.since ?? now, now);
        alerts.set(key, { labels: alert.labels, annotations: alert.annotations, startsAt });
        changes.started += 1;
        countKind(changes.startedByKind, alert.labels);
        this.#log.debug({ labels: alert.labels, startsAt: rfc3339(startsAt) }, 'alert firing');
      }
    }
    for (const [key, alert] of alerts) {
      if (alert.resolvedAt === undefined && !desired.has(key) && inScope(alert)) {
        alerts.set(key, { ...alert, resolvedAt: now });
        changes.resolved += 1;
        countKind(changes.resolvedByKind, alert.labels);
        this.#log.debug({ labels: alert.labels }, 'alert resolved');
      } else if (alert.resolvedAt !== undefined && now - alert.resolvedAt >= RESOLVED_RESEND_MS) {
        alerts.delete(key);
      }
    }
    return changes;
  }

  #dropExpiredHolds(now: number): void {
    for (const [key, hold] of this.#state.holds) {
      if (!holdIsActive(hold, now, this.#options.alertmanager.revokedHoldHours)) this.#state.holds.delete(key);
    }
  }

  /** One write with only what changed; a failure is logged and retried with the next write. */
  async #persist(): Promise<void> {
    if (!this.#loaded) return;
    const records = new Map<string, string>();
    const set = new Map<string, string>();
    for await (const [key, value] of withPauses(encodeState(this.#state))) {
      records.set(key, value);
      if (this.#persisted.get(key) !== value) set.set(key, value);
    }
    const remove = [...this.#persisted.keys()].filter((key) => !records.has(key));
    if (set.size === 0 && remove.length === 0) return;
    try {
      await this.#options.store.writeAlertState(set, remove);
      this.#persisted = records;
    } catch (error) {
      this.#log.warn({ err: error }, 'alert state not saved');
    }
  }

  #send(now: number): void {
    const firingEndsAt = rfc3339(now + ENDS_AT_INTERVALS * this.#options.alertmanager.resendIntervalSeconds * 1000);
    const alerts: PostableAlert[] = [...this.#state.alerts.values()].map((alert) => ({
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: rfc3339(alert.startsAt),
      endsAt: alert.resolvedAt === undefined ? firingEndsAt : rfc3339(alert.resolvedAt),
    }));
    if (alerts.length > 0) this.#options.sink.send(alerts);
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

