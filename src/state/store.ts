import type { ChangeEvent, Snapshot } from '../domain/types.js';

/** A snapshot with the version the store holds it at (compare-and-set token). */
export interface StoredSnapshot {
  readonly id: string;
  readonly snapshot: Snapshot;
  readonly version: number;
}

/**
 * Replace one device's snapshot if it is still at `expectedVersion` (0: none stored yet) and the
 * stored one was not obtained later than `snapshot.queriedAt` (newer wins).
 */
export interface CommitRequest {
  readonly id: string;
  readonly expectedVersion: number;
  readonly snapshot: Snapshot;
  /** Appended to the history in the same atomic step as the snapshot. */
  readonly events: readonly ChangeEvent[];
  /** Alert-state records (key → record) that depend on `events`, written in the same atomic step. */
  readonly alertRecords?: ReadonlyMap<string, string>;
}

/**
 * `conflict`: another writer got there first; re-read, diff again, retry.
 * `stale`: the stored snapshot comes from a later answer; this one is dropped.
 */
export type CommitResult =
  | { readonly status: 'committed'; readonly version: number }
  | { readonly status: 'conflict' }
  | { readonly status: 'stale' };

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
 * The proof of one acquisition of the leader lease: it names the holder and a token that grows
 * with every acquisition. Every write carries it; the store refuses a write whose fence is not the
 * lease as it stands (expired, released or taken by another), so a stale holder writes nothing.
 */
export type Fence = string;

export type LeaseAttempt = { readonly held: true; readonly fence: Fence } | { readonly held: false; readonly holder: string };

/** A write refused because its fence no longer holds the lease. */
export class LeaseLostError extends Error {
  constructor() {
    super('the leader lease is held by another replica or has expired; nothing was written');
    this.name = 'LeaseLostError';
  }
}

/** Every store write carries a fence: the token and the holder of the lease it was made under. */
export function fenceOf(token: number, holder: string): Fence {
  return `${token}:${holder}`;
}

/** The holder a fence names (for messages). */
export function fenceHolder(fence: Fence): string {
  return fence.slice(fence.indexOf(':') + 1);
}

/** `stateWasKept`: false when the alert state's marker record was missing before this write (the store lost its data). */
export interface AlertStateWriteResult {
  readonly stateWasKept: boolean;
}

/**
 * Durable state: per-device snapshots, the change history, alert state and the leader lease.
 * Every method may reject when the backend is unreachable; callers treat that as a store failure.
 * Writes reject with LeaseLostError when their fence does not hold the lease.
 */
export interface Store {
  readonly kind: 'memory' | 'redis';
  /** Pipelined: one round trip for the whole batch. Absent ids are missing from the map. */
  getSnapshots(ids: readonly string[]): Promise<Map<string, StoredSnapshot>>;
  /** Atomic per device; the whole batch in one round trip. Results in request order. */
  commit(requests: readonly CommitRequest[], fence: Fence): Promise<CommitResult[]>;
  /** Every stored snapshot (warm start). */
  allSnapshots(): AsyncIterable<StoredSnapshot>;
  /** The ids of every stored snapshot; one may come twice (Redis may repeat it while it rehashes). */
  snapshotIds(): AsyncIterable<string>;
  /**
   * Deletes the snapshots of devices that left the inventory (their history stays), in one round
   * trip; readers see the deletion through `changedSince`. Returns how many existed.
   */
  deleteSnapshots(ids: readonly string[], fence: Fence): Promise<number>;
  /** One small round trip when nothing changed: what a standby reads to follow the leader. */
  changedSince(generation: number): Promise<StoreChanges>;
  /** Newest first. */
  history(query: HistoryQuery): Promise<ChangeEvent[]>;
  /** Opaque alert records by key (the alerts module owns their format). */
  readAlertState(): Promise<Map<string, string>>;
  /**
   * Sets and removes the named records only (others are left alone). `markerKey` names the record
   * that is always written; whether it was there before tells a store that lost its data.
   */
  writeAlertState(
    set: ReadonlyMap<string, string>,
    remove: readonly string[],
    fence: Fence,
    markerKey: string,
  ): Promise<AlertStateWriteResult>;
  /** Leader lease: acquired (a new fence, its token one more than any before) or renewed (the same fence). */
  acquireLease(holder: string, ttlMs: number): Promise<LeaseAttempt>;
  /** Releases the lease only if `fence` still holds it. */
  releaseLease(fence: Fence): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
