import type { ChangeEvent } from '../domain/types.js';
import type { Clock } from '../util/clock.js';
import { decodeEvent, decodeSnapshotEntry, encodeEvent, encodeSnapshotEntry } from './codec.js';
import {
  fenceHolder,
  fenceOf,
  LeaseLostError,
  type AlertStateWriteResult,
  type CommitRequest,
  type CommitResult,
  type Fence,
  type HistoryQuery,
  type LeaseAttempt,
  type Store,
  type StoreChanges,
  type StoredSnapshot,
} from './store.js';

export interface MemoryStoreOptions {
  readonly historyMaxLength: number;
  readonly clock: Clock;
}

interface Lease {
  readonly fence: Fence;
  readonly expiresAt: number;
}

/**
 * The Store in process memory, with the semantics of RedisStore: values go through the same
 * codec (so callers never share objects with it), commits compare-and-set per device (newer
 * answers win), writes are fenced by the lease, the history keeps the newest `historyMaxLength`
 * events, the lease expires by the injected clock.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #historyMaxLength: number;
  readonly #clock: Clock;
  readonly #snapshots = new Map<string, { readonly version: number; readonly queriedAt: number; readonly entry: string }>();
  /** Oldest first. */
  #events: { readonly deviceId: string; readonly event: string }[] = [];
  readonly #alerts = new Map<string, string>();
  /** Device id → the generation its snapshot was last written or deleted at. */
  readonly #changes = new Map<string, number>();
  #generation = 0;
  #lease: Lease | undefined;
  #lastToken = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.#historyMaxLength = options.historyMaxLength;
    this.#clock = options.clock;
  }

  async getSnapshots(ids: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    this.#assertOpen();
    const found = new Map<string, StoredSnapshot>();
    for (const id of ids) {
      const stored = this.#snapshots.get(id);
      if (stored) found.set(id, { id, ...decodeSnapshotEntry(stored.entry) });
    }
    return found;
  }

  async commit(requests: readonly CommitRequest[], fence: Fence): Promise<CommitResult[]> {
    this.#assertOpen();
    this.#assertFence(fence);
    return requests.map((request) => this.#commitOne(request));
  }

  async *allSnapshots(): AsyncIterable<StoredSnapshot> {
    this.#assertOpen();
    for (const [id, stored] of [...this.#snapshots]) yield { id, ...decodeSnapshotEntry(stored.entry) };
  }

  async *snapshotIds(): AsyncIterable<string> {
    this.#assertOpen();
    yield* [...this.#snapshots.keys()];
  }

  async deleteSnapshots(ids: readonly string[], fence: Fence): Promise<number> {
    this.#assertOpen();
    this.#assertFence(fence);
    let deleted = 0;
    for (const id of ids) {
      if (!this.#snapshots.delete(id)) continue;
      this.#markChanged(id);
      deleted++;
    }
    return deleted;
  }

  async changedSince(generation: number): Promise<StoreChanges> {
    this.#assertOpen();
    if (generation === 0 || this.#generation < generation) return { generation: this.#generation };
    const ids = [...this.#changes].filter(([, at]) => at > generation).map(([id]) => id);
    return { generation: this.#generation, ids };
  }

  async history(query: HistoryQuery): Promise<ChangeEvent[]> {
    this.#assertOpen();
    const found: ChangeEvent[] = [];
    for (let i = this.#events.length - 1; i >= 0 && found.length < query.limit; i--) {
      const { deviceId, event } = this.#events[i]!;
      if (query.deviceId !== undefined && query.deviceId !== deviceId) continue;
      const decoded = decodeEvent(event);
      if (query.matches?.(decoded) ?? true) found.push(decoded);
    }
    return found;
  }

  async readAlertState(): Promise<Map<string, string>> {
    this.#assertOpen();
    return new Map(this.#alerts);
  }

  async writeAlertState(
    set: ReadonlyMap<string, string>,
    remove: readonly string[],
    fence: Fence,
    markerKey: string,
  ): Promise<AlertStateWriteResult> {
    this.#assertOpen();
    this.#assertFence(fence);
    const stateWasKept = this.#alerts.has(markerKey);
    // Same order as RedisStore: set first, then remove.
    for (const [key, value] of set) this.#alerts.set(key, value);
    for (const key of remove) this.#alerts.delete(key);
    return { stateWasKept };
  }

  async acquireLease(holder: string, ttlMs: number): Promise<LeaseAttempt> {
    this.#assertOpen();
    const now = this.#clock.now();
    const current = this.#currentLease();
    if (current && fenceHolder(current.fence) !== holder) return { held: false, holder: fenceHolder(current.fence) };
    const fence = current?.fence ?? fenceOf(++this.#lastToken, holder);
    this.#lease = { fence, expiresAt: now + ttlMs };
    return { held: true, fence };
  }

  async releaseLease(fence: Fence): Promise<void> {
    this.#assertOpen();
    if (this.#currentLease()?.fence === fence) this.#lease = undefined;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #commitOne({ id, expectedVersion, snapshot, events, alertRecords }: CommitRequest): CommitResult {
    const stored = this.#snapshots.get(id);
    if (stored !== undefined && stored.queriedAt > snapshot.queriedAt) return { status: 'stale' };
    if ((stored?.version ?? 0) !== expectedVersion) return { status: 'conflict' };
    const version = expectedVersion + 1;
    this.#snapshots.set(id, { version, queriedAt: snapshot.queriedAt, entry: encodeSnapshotEntry(version, snapshot) });
    this.#markChanged(id);
    for (const event of events) this.#events.push({ deviceId: id, event: encodeEvent(event) });
    for (const [key, record] of alertRecords ?? []) this.#alerts.set(key, record);
    const excess = this.#events.length - this.#historyMaxLength;
    if (excess > 0) this.#events = this.#events.slice(excess);
    return { status: 'committed', version };
  }

  #currentLease(): Lease | undefined {
    return this.#lease && this.#lease.expiresAt > this.#clock.now() ? this.#lease : undefined;
  }

  #assertFence(fence: Fence): void {
    if (this.#currentLease()?.fence !== fence) throw new LeaseLostError();
  }

  #markChanged(id: string): void {
    this.#changes.set(id, ++this.#generation);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}
