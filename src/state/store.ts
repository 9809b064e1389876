import type { ChangeEvent, Snapshot } from '../domain/types.js';

/** A snapshot with the version the store holds it at (compare-and-set token). */
export interface StoredSnapshot {
  readonly id: string;
  readonly snapshot: Snapshot;
  readonly version: number;
}

/** Replace one device's snapshot if it is still at `expectedVersion` (0: none stored yet). */
export interface CommitRequest {
  readonly id: string;
  readonly expectedVersion: number;
  readonly snapshot: Snapshot;
  /** Appended to the history in the same atomic step as the snapshot. */
  readonly events: readonly ChangeEvent[];
}

/** `conflict`: another writer got there first; re-read, diff again, retry. */
export type CommitResult = { readonly status: 'committed'; readonly version: number } | { readonly status: 'conflict' };

/**
 * What changed in the store after a generation a reader saw: the ids of the devices whose
 * snapshot was written or deleted since. `ids` is absent when the store cannot list them (the
 * reader knew no generation, or the store was emptied meanwhile): then read everything.
 */
export interface StoreChanges {
  readonly generation: number;
  readonly ids?: readonly string[];
}

export interface HistoryQuery {
  readonly deviceId?: string;
  /** Only events this accepts (e.g. a device written in another form than its id). */
  readonly matches?: (event: ChangeEvent) => boolean;
  readonly limit: number;
}

/**
 * Durable state: per-device snapshots, the change history, alert state and the leader lease.
 * Every method may reject when the backend is unreachable; callers treat that as a store failure.
 */
export interface Store {
  readonly kind: 'memory' | 'redis';
  /** Pipelined: one round trip for the whole batch. Absent ids are missing from the map. */
  getSnapshots(ids: readonly string[]): Promise<Map<string, StoredSnapshot>>;
  /** Atomic per device; the whole batch in one round trip. Results in request order. */
  commit(requests: readonly CommitRequest[]): Promise<CommitResult[]>;
  /** Every stored snapshot (warm start). */
  allSnapshots(): AsyncIterable<StoredSnapshot>;
  /** The ids of every stored snapshot; one may come twice (Redis may repeat it while it rehashes). */
  snapshotIds(): AsyncIterable<string>;
  /**
   * Deletes the snapshots of devices that left the inventory (their history stays), in one round
   * trip; readers see the deletion through `changedSince`. Returns how many existed.
   */
  deleteSnapshots(ids: readonly string[]): Promise<number>;
  /** One small round trip when nothing changed: what a standby reads to follow the leader. */
  changedSince(generation: number): Promise<StoreChanges>;
  /** Newest first. */
  history(query: HistoryQuery): Promise<ChangeEvent[]>;
  /** Opaque alert records by key (the alerts module owns their format). */
  readAlertState(): Promise<Map<string, string>>;
  writeAlertState(set: ReadonlyMap<string, string>, remove: readonly string[]): Promise<void>;
  /** Leader lease: true while `holder` holds it (acquired or renewed). */
  acquireLease(holder: string, ttlMs: number): Promise<boolean>;
  /** Releases the lease only if `holder` still holds it. */
  releaseLease(holder: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
