import type { FleetView } from './fleet-view.js';
import type { Store, StoredSnapshot } from './store.js';

/** Ids per read round trip when applying what changed. */
const READ_BATCH = 1_000;

/**
 * Keeps a fleet view equal to the store's snapshots: the warm start and a standby replica's
 * refresh. The first sync reads everything; later ones ask the store what changed since the
 * generation they saw and read only those devices, so a refresh when nothing changed is one
 * small round trip. A device deleted from the store leaves the view.
 */
export class StoreFollower {
  readonly #store: Store;
  readonly #fleet: FleetView;
  /** The store generation the view matches; 0: unknown, read everything. */
  #generation = 0;
  readonly #versions = new Map<string, number>();

  constructor(store: Store, fleet: FleetView) {
    this.#store = store;
    this.#fleet = fleet;
  }

  /** Returns how many devices were added, replaced or removed. */
  async sync(): Promise<number> {
    const changes = await this.#store.changedSince(this.#generation);
    if (changes.ids === undefined) return this.#readAll(changes.generation);
    let applied = 0;
    for (let i = 0; i < changes.ids.length; i += READ_BATCH) {
      const ids = changes.ids.slice(i, i + READ_BATCH);
      const found = await this.#store.getSnapshots(ids);
      for (const id of ids) applied += this.#apply(id, found.get(id));
    }
    this.#generation = changes.generation;
    return applied;
  }

  /** `generation` was read before the snapshots, so nothing written meanwhile is skipped by the next sync. */
  async #readAll(generation: number): Promise<number> {
    let applied = 0;
    const stored = new Set<string>();
    for await (const snapshot of this.#store.allSnapshots()) {
      stored.add(snapshot.id);
      applied += this.#apply(snapshot.id, snapshot);
    }
    for (const id of [...this.#fleet.ids()]) if (!stored.has(id)) applied += this.#apply(id, undefined);
    this.#generation = generation;
    return applied;
  }

  #apply(id: string, stored: StoredSnapshot | undefined): number {
    if (stored === undefined) {
      this.#versions.delete(id);
      if (this.#fleet.get(id) === undefined) return 0;
      this.#fleet.delete(id);
      return 1;
    }
    if (this.#versions.get(id) === stored.version) return 0;
    this.#versions.set(id, stored.version);
    this.#fleet.set({ id, device: stored.snapshot.device, query: 'ok', certificates: stored.snapshot.certificates });
    return 1;
  }
}
