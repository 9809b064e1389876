import type { QueryResult } from '../domain/device.js';
import type { CertificateStatus } from '../domain/types.js';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';

export const STATUSES: readonly CertificateStatus[] = ['valid', 'revoked', 'expired'];
export const QUERY_RESULTS: readonly QueryResult[] = ['ok', 'not_found', 'error'];
const STATUS_CODE: Record<CertificateStatus, number> = { valid: 0, revoked: 1, expired: 2 };

/**
 * Certificate entries as columns: 21 bytes per certificate, no object each. `position` is the
 * certificate's index in its device record, `generation` the device's generation when added.
 */
class Entries {
  notAfter: Float64Array;
  slot: Uint32Array;
  generation: Uint32Array;
  position: Uint32Array;
  status: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    const size = Math.max(16, capacity);
    this.notAfter = new Float64Array(size);
    this.slot = new Uint32Array(size);
    this.generation = new Uint32Array(size);
    this.position = new Uint32Array(size);
    this.status = new Uint8Array(size);
  }

  push(notAfter: number, slot: number, generation: number, position: number, status: number): void {
    if (this.length === this.notAfter.length) this.#grow();
    const at = this.length++;
    this.notAfter[at] = notAfter;
    this.slot[at] = slot;
    this.generation[at] = generation;
    this.position[at] = position;
    this.status[at] = status;
  }

  copy(from: Entries, index: number): void {
    this.push(from.notAfter[index]!, from.slot[index]!, from.generation[index]!, from.position[index]!, from.status[index]!);
  }

  /** Appends `from[start, end)`: a long stretch as block copies, a short one entry by entry. */
  append(from: Entries, start: number, end: number): void {
    if (end - start < BLOCK_COPY_MIN) {
      for (let index = start; index < end; index++) this.copy(from, index);
      return;
    }
    while (this.length + (end - start) > this.notAfter.length) this.#grow();
    const at = this.length;
    this.notAfter.set(from.notAfter.subarray(start, end), at);
    this.slot.set(from.slot.subarray(start, end), at);
    this.generation.set(from.generation.subarray(start, end), at);
    this.position.set(from.position.subarray(start, end), at);
    this.status.set(from.status.subarray(start, end), at);
    this.length += end - start;
  }

  /** Empty, keeping the memory when it is large enough for `capacity`. */
  reset(capacity: number): Entries {
    if (this.notAfter.length < capacity) return new Entries(capacity);
    this.length = 0;
    return this;
  }

  #grow(): void {
    const size = this.notAfter.length * 2;
    this.notAfter = grown(this.notAfter, new Float64Array(size));
    this.slot = grown(this.slot, new Uint32Array(size));
    this.generation = grown(this.generation, new Uint32Array(size));
    this.position = grown(this.position, new Uint32Array(size));
    this.status = grown(this.status, new Uint8Array(size));
  }
}

/** Below this many entries a loop copies faster than five subarray views. */
const BLOCK_COPY_MIN = 256;

/** What the readers of the index see: every certificate ordered by notAfter, and every device. */
export interface IndexView {
  /** Certificates, ordered by notAfter (equal ones in the order they were merged). */
  readonly size: number;
  readonly notAfter: Float64Array;
  readonly slot: Uint32Array;
  readonly position: Uint32Array;
  /** Index into STATUSES. */
  readonly status: Uint8Array;
  /** Device slots: `deviceIds[slot]` is undefined for a free slot. */
  readonly deviceIds: readonly (string | undefined)[];
  readonly org: Uint32Array;
  /** Index into QUERY_RESULTS. */
  readonly query: Uint8Array;
  readonly certificateCount: Uint32Array;
  /** The latest notAfter among the device's valid certificates (-Infinity without one). */
  readonly latestValid: Float64Array;
  readonly orgNames: readonly string[];
  orgNumber(orgId: string): number | undefined;
}

/**
 * Every certificate of the fleet in notAfter order, kept in step with the FleetView's change
 * listener so that no request sorts the fleet. A device whose certificates changed gets a new
 * generation (its old entries are dead) and its certificates go to a pending list; the next read,
 * or the change that makes the list long, sorts only the pending entries and merges them into the
 * ordered ones (a warm start of the whole fleet thus merges in slices, never in one long sort).
 * A device that a scan sets again with the same certificates costs nothing. States are not
 * stored: they depend on the time and are derived at read time from status, notAfter and the
 * device's latest valid notAfter, so time passing needs no maintenance.
 */
export class CertificateIndex {
  readonly #slotOf = new Map<string, number>();
  readonly #free: number[] = [];
  readonly #orgNumbers = new Map<string, number>();
  readonly #orgNames: string[] = [];
  readonly #failures = new Map<string, string>();
  #deviceIds: (string | undefined)[] = [];
  #org = new Uint32Array(16);
  #query = new Uint8Array(16);
  #generation = new Uint32Array(16);
  #certificateCount = new Uint32Array(16);
  #latestValid = new Float64Array(16);
  #ordered = new Entries(0);
  #spare = new Entries(0);
  #pending = new Entries(0);
  #liveEntries = 0;
  #dirty = false;

  constructor(fleet: FleetView) {
    for (const record of fleet.records()) this.#update(record.id, record, undefined);
    fleet.onChange((id, record, previous) => this.#update(id, record, previous));
  }

  /** Devices whose last query failed (error or not found): id → reason, in the order they failed. */
  failures(): ReadonlyMap<string, string> {
    return this.#failures;
  }

  /** The current order; merges what changed since the last read. */
  view(): IndexView {
    this.#settle();
    const ordered = this.#ordered;
    const orgNumbers = this.#orgNumbers;
    return {
      size: ordered.length,
      notAfter: ordered.notAfter,
      slot: ordered.slot,
      position: ordered.position,
      status: ordered.status,
      deviceIds: this.#deviceIds,
      org: this.#org,
      query: this.#query,
      certificateCount: this.#certificateCount,
      latestValid: this.#latestValid,
      orgNames: this.#orgNames,
      orgNumber: (orgId) => orgNumbers.get(orgId),
    };
  }

  #update(id: string, record: DeviceRecord | undefined, previous: DeviceRecord | undefined): void {
    let slot = this.#slotOf.get(id);
    if (record === undefined) {
      if (slot !== undefined) this.#release(id, slot);
      return;
    }
    // A failing device keeps its place in the map: the order in which devices started failing.
    if (record.query === 'ok') this.#failures.delete(id);
    else this.#failures.set(id, record.reason ?? record.query);
    // The fleet view keeps a device's certificates array when a scan brings the same ones again.
    const unchanged = slot !== undefined && previous !== undefined && previous.certificates === record.certificates;
    slot ??= this.#allocate(id);
    this.#query[slot] = QUERY_RESULTS.indexOf(record.query);
    if (unchanged) return;
    this.#org[slot] = this.#orgOf(record.device.orgId);
    this.#liveEntries += record.certificates.length - this.#certificateCount[slot]!;
    this.#certificateCount[slot] = record.certificates.length;
    const generation = ++this.#generation[slot]!;
    let latestValid = -Infinity;
    record.certificates.forEach((cert, position) => {
      if (cert.status === 'valid' && cert.notAfter > latestValid) latestValid = cert.notAfter;
      this.#pending.push(cert.notAfter, slot, generation, position, STATUS_CODE[cert.status]);
    });
    this.#latestValid[slot] = latestValid;
    this.#dirty = true;
    this.#settleIfLarge();
  }

  #allocate(id: string): number {
    const slot = this.#free.pop() ?? this.#deviceIds.length;
    if (slot === this.#deviceIds.length) {
      this.#deviceIds.push(id);
      if (slot === this.#org.length) this.#growSlots();
    } else {
      this.#deviceIds[slot] = id;
    }
    this.#slotOf.set(id, slot);
    this.#certificateCount[slot] = 0;
    return slot;
  }

  #release(id: string, slot: number): void {
    this.#liveEntries -= this.#certificateCount[slot]!;
    this.#certificateCount[slot] = 0;
    this.#generation[slot]!++;
    this.#deviceIds[slot] = undefined;
    this.#slotOf.delete(id);
    this.#failures.delete(id);
    this.#free.push(slot);
    this.#dirty = true;
  }

  #orgOf(orgId: string): number {
    let number = this.#orgNumbers.get(orgId);
    if (number === undefined) {
      number = this.#orgNames.push(orgId) - 1;
      this.#orgNumbers.set(orgId, number);
    }
    return number;
  }

  #growSlots(): void {
    const size = this.#org.length * 2;
    this.#org = grown(this.#org, new Uint32Array(size));
    this.#query = grown(this.#query, new Uint8Array(size));
    this.#generation = grown(this.#generation, new Uint32Array(size));
    this.#certificateCount = grown(this.#certificateCount, new Uint32Array(size));
    this.#latestValid = grown(this.#latestValid, new Float64Array(size));
  }

  /** Drops dead entries and merges the pending ones, sorted, into the order. */
  #settle(): void {
    if (!this.#dirty) return;
    const ordered = this.#ordered;
    const pending = this.#pending;
    const generation = this.#generation;
    const incoming: number[] = [];
    for (let index = 0; index < pending.length; index++) {
      if (pending.generation[index] === generation[pending.slot[index]!]) incoming.push(index);
    }
    incoming.sort((a, b) => pending.notAfter[a]! - pending.notAfter[b]! || pending.slot[a]! - pending.slot[b]! || pending.position[a]! - pending.position[b]!);
    // The order before last becomes the new one's storage: two buffers in turn, no allocation each time.
    const merged = this.#spare.reset(this.#liveEntries);
    // Runs of the ordered entries between two insertions are copied whole; on equal notAfter the
    // entry that was there first stays first.
    let from = 0;
    for (const index of incoming) {
      const to = upperBound(ordered.notAfter, ordered.length, pending.notAfter[index]!, from);
      this.#copyLive(ordered, from, to, merged);
      merged.copy(pending, index);
      from = to;
    }
    this.#copyLive(ordered, from, ordered.length, merged);
    this.#spare = ordered;
    this.#ordered = merged;
    this.#pending = pending.reset(0);
    this.#dirty = false;
  }

  /** Appends the live entries of `from[start, end)`, in stretches without a dead one. */
  #copyLive(from: Entries, start: number, end: number, to: Entries): void {
    let run = start;
    for (let index = start; index <= end; index++) {
      if (index < end && from.generation[index] === this.#generation[from.slot[index]!]) continue;
      if (index > run) to.append(from, run, index);
      run = index + 1;
    }
  }

  /** Merges now when enough has changed that a read would otherwise sort a lot at once. */
  #settleIfLarge(): void {
    if (this.#pending.length >= Math.max(SETTLE_CHUNK, this.#ordered.length >>> 4)) this.#settle();
  }
}

/** Pending entries that are merged in one step at the latest: about a millisecond of sorting. */
const SETTLE_CHUNK = 4096;

/** The first index in [from, length) whose value is greater than `value`. */
function upperBound(values: Float64Array, length: number, value: number, from: number): number {
  let low = from;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
