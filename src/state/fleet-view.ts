import type { QueryResult } from '../domain/device.js';
import type { Certificate, DeviceRef } from '../domain/types.js';

/** What the monitor currently knows about one device. */
export interface DeviceRecord {
  readonly id: string;
  readonly device: DeviceRef;
  /** How the last query ended; on error/not_found the certificates are the kept snapshot. */
  readonly query: QueryResult;
  /** The failure reason (an Outcome or `store_error`) when query is not ok. */
  readonly reason?: string;
  /** On a failing device only: epoch ms of its last good answer as far as known (absent: never). */
  readonly lastAnswerAt?: number;
  readonly certificates: readonly Certificate[];
}

/** `previous`: what the view held for the device before (undefined for a new device). */
export type FleetListener = (id: string, record: DeviceRecord | undefined, previous: DeviceRecord | undefined) => void;

/**
 * The in-memory picture of the fleet that metrics and alerts read. Scans (and the warm start)
 * write it; listeners hear about every device that changed, so readers can keep derived data
 * up to date without rescanning the whole fleet.
 */
export class FleetView {
  readonly #records = new Map<string, DeviceRecord>();
  readonly #listeners: FleetListener[] = [];

  onChange(listener: FleetListener): void {
    this.#listeners.push(listener);
  }

  set(record: DeviceRecord): void {
    const previous = this.#records.get(record.id);
    this.#records.set(record.id, record);
    for (const listener of this.#listeners) listener(record.id, record, previous);
  }

  delete(id: string): void {
    const previous = this.#records.get(id);
    if (!this.#records.delete(id)) return;
    for (const listener of this.#listeners) listener(id, undefined, previous);
  }

  get(id: string): DeviceRecord | undefined {
    return this.#records.get(id);
  }

  ids(): IterableIterator<string> {
    return this.#records.keys();
  }

  records(): IterableIterator<DeviceRecord> {
    return this.#records.values();
  }

  get size(): number {
    return this.#records.size;
  }
}
