import type { RawConfig } from '../config/schema.js';
import { deviceId } from '../domain/device-id.js';
import type { Certificate, ChangeEvent, DeviceRef, Thresholds } from '../domain/types.js';
import type { FleetView } from '../state/fleet-view.js';
import { LeaseLostError, type Fence, type Store } from '../state/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { withPauses } from '../util/pauses.js';
import {
  alertRecordKey,
  decodeState,
  encodeAlert,
  encodeHold,
  encodeState,
  holdRecordKey,
  recordDigest,
  STATE_MARKER_KEY,
  type AlertState,
  type TrackedAlert,
} from './alert-state.js';
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
  type RevokedHold,
} from './evaluate.js';
import type { LabelSet } from './labels.js';

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

/** What a scan lets the alerts decide. */
export interface ScanVerdict {
  readonly events: readonly ChangeEvent[];
  /** At least one device answered: without that, the scan saw nothing and resolves nothing. */
  readonly answered: boolean;
  /** The whole inventory was read: a device missing from it is gone, and so are its alerts. */
  readonly inventoryComplete: boolean;
}

/**
 * The revoked holds a device's change events start, as alert-state records: stored in the same
 * atomic step as the events, so no crash or failover between the commit and the alert loses one.
 */
export function revokedHoldRecords(events: readonly ChangeEvent[], certificates: readonly Certificate[]): Map<string, string> {
  const records = new Map<string, string>();
  for (const event of events) {
    if (event.type !== 'revoked') continue;
    const hold = holdFromEvent(event, certificates);
    records.set(holdRecordKey(holdKey(hold)), encodeHold(hold));
  }
  return records;
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
 * were resolved and must be re-sent a while. Its state lives in the store, one record per alert
 * and per revoked hold, so that a restart or a failover keeps startsAt and the holds. Records are
 * merged, never replaced wholesale: a write sets the records this instance changed and removes
 * only those that their own rule removed (a resolved alert past its re-send window, an expired
 * hold); a read adopts what others wrote. Every write is fenced by the leader lease. Operations
 * run one at a time.
 */
export class AlertLifecycle {
  readonly #options: AlertLifecycleOptions;
  readonly #log: Logger;
  #state: AlertState = { alerts: new Map(), holds: new Map() };
  /** Record key → digest of the value the store last held, as far as this instance knows (read or written). */
  #written = new Map<string, number>();
  /** Records removed by their rule, to be removed from the store by the next write. */
  readonly #removals = new Set<string>();
  #loaded = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: AlertLifecycleOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'alerts' });
  }

  /**
   * Reads the alert state and merges it with what this instance tracks; rejects when the store
   * cannot be read. Call it at start and whenever this instance becomes the leader.
   */
  init(): Promise<void> {
    return this.#serial(() => this.#load());
  }

  /**
   * After each scan: new revoked holds, evaluation, resolution of what cleared (only of what the
   * scan saw), one fenced store write, send all.
   */
  afterScan(scan: ScanVerdict, fence: Fence): Promise<void> {
    return this.#serial(async () => {
      await this.#loadOrCarryOn();
      const { fleet, clock, alertmanager, thresholds } = this.#options;
      const now = clock.now();
      for (const event of scan.events) {
        if (event.type !== 'revoked') continue;
        const hold = holdFromEvent(event, fleet.get(deviceIdOfEvent(event))?.certificates);
        this.#setHold(hold);
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
      const changes = await this.#apply(desired, now, (alert) => this.#scanDecides(alert, scan));
      this.#log.info({ ...changes, firing: desired.size }, 'alerts evaluated');
      await this.#persist(fence);
      await this.#send(now);
    });
  }

  /**
   * Between scans: expires revoked holds, re-sends firing alerts and recently resolved ones. With
   * a fence the state is written too (and written back whole if the store lost it); without one
   * (the store is unreachable) the alerts are only re-sent, from what this instance knows.
   */
  resend(fence: Fence | undefined): Promise<void> {
    return this.#serial(async () => {
      const now = this.#options.clock.now();
      this.#dropExpiredHolds(now);
      const stillRevoked = revokedAlerts({
        holds: this.#state.holds.values(),
        now,
        revokedHoldHours: this.#options.alertmanager.revokedHoldHours,
        extraLabels: this.#options.alertmanager.labels,
      });
      // Only revoked alerts change without a scan; the others wait for the next evaluation.
      const changes = await this.#apply(stillRevoked, now, (alert) => alert.content.labels.alertname === REVOKED);
      if (changes.resolved > 0) this.#log.info(changes, 'revoked alerts ended');
      if (fence !== undefined) {
        if (!this.#loaded) await this.#loadOrCarryOn();
        await this.#persist(fence);
      }
      await this.#send(now);
    });
  }

  /** Firing alerts by alertname and severity, every known pair included (zero when none). */
  firing(): FiringCount[] {
    const counts = new Map<string, { alertname: string; severity: string; count: number }>(
      ALERT_KINDS.map((kind) => [`${kind.alertname}/${kind.severity}`, { ...kind, count: 0 }]),
    );
    for (const alert of this.#state.alerts.values()) {
      if (alert.resolvedAt !== undefined) continue;
      const { alertname = '', severity = '' } = alert.content.labels;
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
    this.#merge(await this.#options.store.readAlertState());
    this.#loaded = true;
    this.#log.info({ alerts: this.#state.alerts.size, revokedHolds: this.#state.holds.size }, 'alert state loaded');
  }

  /** A store outage must not stop alerts: carry on with what this instance knows. */
  async #loadOrCarryOn(): Promise<void> {
    try {
      await this.#load();
    } catch (error) {
      if (!this.#loaded) this.#log.warn({ err: error }, 'alert state not loaded, startsAt of firing alerts may reset');
    }
  }

  /**
   * Merges the stored records into the tracked state, record by record: a stored record this
   * instance has not changed since it last saw the store wins (another leader wrote it); one it
   * changed and has not written yet is kept; one it wrote that is gone was removed by its rule
   * elsewhere. A store that lost its data (no marker where one was) gets everything written back.
   */
  #merge(records: ReadonlyMap<string, string>): void {
    const lost = this.#written.has(STATE_MARKER_KEY) && !records.has(STATE_MARKER_KEY);
    if (lost) {
      const { alerts, holds } = this.#state;
      this.#log.warn({ alerts: alerts.size, revokedHolds: holds.size }, 'the store lost the alert state; writing back the alerts tracked here');
      this.#written = new Map();
    }
    const stored = decodeState(records, this.#log);
    for (const key of stored.unreadable) this.#removals.add(key);
    mergeRecords(this.#state.alerts, stored.alerts, alertRecordKey, encodeAlert, this.#written, this.#removals);
    mergeRecords(this.#state.holds, stored.holds, holdRecordKey, encodeHold, this.#written, this.#removals);
    if (records.has(STATE_MARKER_KEY)) this.#written.set(STATE_MARKER_KEY, recordDigest(records.get(STATE_MARKER_KEY)!));
  }

  /**
   * Whether this scan may resolve `alert`: revoked alerts end by their hold only; others when the
   * scan heard from at least one device, and, when the inventory was not read whole, only for
   * devices the scan still knows.
   */
  #scanDecides(alert: TrackedAlert, scan: ScanVerdict): boolean {
    const { labels } = alert.content;
    if (labels.alertname === REVOKED) return true;
    if (!scan.answered) return false;
    return scan.inventoryComplete || this.#options.fleet.get(deviceId(deviceOfLabels(labels))) !== undefined;
  }

  /**
   * Makes `desired` the firing set among the tracked alerts that `inScope` selects: new ones start,
   * continuing ones keep startsAt, cleared ones become resolved. Resolved ones past their window go.
   * A slice of alerts at a time: a large fleet has hundreds of thousands.
   */
  async #apply(
    desired: ReadonlyMap<string, DesiredAlert>,
    now: number,
    inScope: (alert: TrackedAlert) => boolean,
  ): Promise<AlertChanges> {
    const alerts = this.#state.alerts;
    const changes: AlertChanges = { started: 0, resolved: 0, startedByKind: {}, resolvedByKind: {} };
    const debug = this.#log.isLevelEnabled('debug');
    for await (const [key, alert] of withPauses(desired)) {
      const known = alerts.get(key);
      this.#removals.delete(alertRecordKey(key));
      if (known !== undefined && known.resolvedAt === undefined) {
        alerts.set(key, { content: alert, startsAt: known.startsAt });
      } else {
        const startsAt = Math.min(alert.since ?? now, now);
        alerts.set(key, { content: alert, startsAt });
        changes.started += 1;
        countKind(changes.startedByKind, alert.labels);
        if (debug) this.#log.debug({ labels: alert.labels, startsAt: rfc3339(startsAt) }, 'alert firing');
      }
    }
    for await (const [key, alert] of withPauses(alerts)) {
      if (alert.resolvedAt === undefined && !desired.has(key) && inScope(alert)) {
        alerts.set(key, { ...alert, resolvedAt: now });
        changes.resolved += 1;
        countKind(changes.resolvedByKind, alert.content.labels);
        this.#log.debug({ labels: alert.content.labels }, 'alert resolved');
      } else if (alert.resolvedAt !== undefined && now - alert.resolvedAt >= RESOLVED_RESEND_MS) {
        alerts.delete(key);
        this.#removals.add(alertRecordKey(key));
      }
    }
    return changes;
  }

  #setHold(hold: RevokedHold): void {
    const key = holdKey(hold);
    this.#state.holds.set(key, hold);
    this.#removals.delete(holdRecordKey(key));
  }

  #dropExpiredHolds(now: number): void {
    for (const [key, hold] of this.#state.holds) {
      if (holdIsActive(hold, now, this.#options.alertmanager.revokedHoldHours)) continue;
      this.#state.holds.delete(key);
      this.#removals.add(holdRecordKey(key));
    }
  }

  /**
   * One fenced write: the records that changed since the store last held them, the marker, and
   * the removals. When the marker was missing (the store lost its data), the rest follows at once.
   * A failure is logged and the same records are written by the next write.
   */
  async #persist(fence: Fence): Promise<void> {
    if (!this.#loaded) return;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const set = new Map<string, string>();
      const digests = new Map<string, number>();
      for await (const [key, value] of withPauses(encodeState(this.#state))) {
        const digest = recordDigest(value);
        if (key !== STATE_MARKER_KEY && this.#written.get(key) === digest) continue;
        set.set(key, value);
        digests.set(key, digest);
      }
      const remove = [...this.#removals];
      let stateWasKept: boolean;
      try {
        ({ stateWasKept } = await this.#options.store.writeAlertState(set, remove, fence, STATE_MARKER_KEY));
      } catch (error) {
        if (error instanceof LeaseLostError) this.#log.info('alert state not saved: another replica holds the leader lease');
        else this.#log.warn({ err: error }, 'alert state not saved');
        return;
      }
      const wroteEverything = !this.#written.has(STATE_MARKER_KEY);
      for await (const [key, digest] of withPauses(digests)) this.#written.set(key, digest);
      for (const key of remove) {
        this.#written.delete(key);
        this.#removals.delete(key);
      }
      if (stateWasKept || wroteEverything) return;
      this.#log.warn({ alerts: this.#state.alerts.size, revokedHolds: this.#state.holds.size }, 'the store lost the alert state; writing back the alerts tracked here');
      this.#written = new Map([[STATE_MARKER_KEY, digests.get(STATE_MARKER_KEY)!]]);
    }
  }

  /**
   * endsAt never precedes startsAt (which may come from another replica's clock): Alertmanager
   * refuses that. Annotations are written out here, a slice of alerts at a time.
   */
  async #send(now: number): Promise<void> {
    const firingEndsAt = now + ENDS_AT_INTERVALS * this.#options.alertmanager.resendIntervalSeconds * 1000;
    const alerts: PostableAlert[] = [];
    for await (const alert of withPauses(this.#state.alerts.values())) {
      alerts.push({
        labels: alert.content.labels,
        annotations: alert.content.annotations,
        startsAt: rfc3339(alert.startsAt),
        endsAt: rfc3339(Math.max(alert.resolvedAt ?? firingEndsAt, alert.startsAt)),
      });
    }
    if (alerts.length > 0) this.#options.sink.send(alerts);
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** See AlertLifecycle.#merge. */
function mergeRecords<T>(
  tracked: Map<string, T>,
  stored: ReadonlyMap<string, T>,
  recordKey: (key: string) => string,
  encode: (value: T) => string,
  written: Map<string, number>,
  removals: ReadonlySet<string>,
): void {
  for (const [key, value] of stored) {
    const record = recordKey(key);
    if (removals.has(record)) continue;
    const mine = tracked.get(key);
    const changedHere = mine !== undefined && written.get(record) !== recordDigest(encode(mine));
    if (!changedHere) tracked.set(key, value);
    written.set(record, recordDigest(encode(value)));
  }
  for (const [key, mine] of tracked) {
    const record = recordKey(key);
    if (stored.has(key) || written.get(record) !== recordDigest(encode(mine))) continue;
    tracked.delete(key);
    written.delete(record);
  }
}

function deviceOfLabels(labels: LabelSet): DeviceRef {
  return {
    orgId: labels.org_id ?? '',
    ...(labels.asset_id ? { assetId: labels.asset_id } : {}),
    ...(labels.product_key ? { productKey: labels.product_key } : {}),
    ...(labels.device_key ? { deviceKey: labels.device_key } : {}),
  };
}

function deviceIdOfEvent(event: ChangeEvent): string {
  return deviceId({
    orgId: event.orgId,
    ...(event.assetId ? { assetId: event.assetId } : {}),
    ...(event.productKey ? { productKey: event.productKey } : {}),
    ...(event.deviceKey ? { deviceKey: event.deviceKey } : {}),
  });
}
