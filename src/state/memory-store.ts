import type { ChangeEvent } from '../domain/types.js';
import type { Clock } from '../util/clock.js';
import { decodeEvent, decodeSnapshotEntry, encodeEvent, encodeSnapshotEntry } from './codec.js';
import type { CommitRequest, CommitResult, HistoryQuery, Store, StoreChanges, StoredSnapshot } from './store.js';

export interface MemoryStoreOptions {
  readonly historyMaxLength: number;
  readonly clock: Clock;
}

interface Lease {
  readonly holder: string;
  readonly expiresAt: number;
}

/**
 * The Store in process memory, with the semantics of RedisStore: values go through the same
 * codec (so callers never share objects with it), commits compare-and-set per device, the
 * history keeps the newest `historyMaxLength` events, the lease expires by the injected clock.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #historyMaxLength: number;
  readonly #clock: Clock;
  readonly #snapshots = new Map<string, { readonly version: number; readonly entry: string }>();
  /** Oldest first. */
  #events: { readonly deviceId: string; readonly event: string }[] = [];
  readonly #alerts = new Map<string, string>();
  /** Device id → the generation its snapshot was last written or deleted at. */
  readonly #changes = new Map<string, number>();
  #generation = 0;
  #lease: Lease | undefined;
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

  async commit(requests: readonly CommitRequest[]): Promise<CommitResult[]> {
    this.#assertOpen();
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

  async deleteSnapshots(ids: readonly string[]): Promise<number> {
    this.#assertOpen();
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

  async writeAlertState(set: ReadonlyMap<string, string>, remove: readonly string[]): Promise<void> {
    this.#assertOpen();
    // Same order as RedisStore: set first, then remove.
    for (const [key, value] of set) this.#alerts.set(key, value);
    for (const key of remove) this.#alerts.delete(key);
  }

  async acquireLease(holder: string, ttlMs: number): Promise<boolean> {
    this.#assertOpen();
    const now = this.#clock.now();
    const current = this.#lease && this.#lease.expiresAt > now ? this.#lease : undefined;
    if (current && current.holder !== holder) return false;
    this.#lease = { holder, expiresAt: now + ttlMs };
    return true;
  }

  async releaseLease(holder: string): Promise<void> {
    this.#assertOpen();
    if (this.#lease?.holder === holder) this.#lease = undefined;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #commitOne({ id, expectedVersion, snapshot, events }: CommitRequest): CommitResult {
    if ((this.#snapshots.get(id)?.version ?? 0) !== expectedVersion) return { status: 'conflict' };
    const version = expectedVersion + 1;
    this.#snapshots.set(id, { version, entry: encodeSnapshotEntry(version, snapshot) });
    this.#markChanged(id);
    for (const event of events) this.#events.push({ deviceId: id, event: encodeEvent(event) });
    const excess = this.#events.length - this.#historyMaxLength;
    if (excess > 0) this.#events = this.#events.slice(excess);
    return { status: 'committed', version };
  }

  #markChanged(id: string): void {
    this.#changes.set(id, ++this.#generation);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}
