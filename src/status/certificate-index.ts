import type { QueryResult } from '../domain/device.js';
import type { Certificate, CertificateStatus } from '../domain/types.js';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';

export const STATUSES: readonly CertificateStatus[] = ['valid', 'revoked', 'expired'];
export const QUERY_RESULTS: readonly QueryResult[] = ['ok', 'not_found', 'error'];

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

  #grow(): void {
    const size = this.notAfter.length * 2;
    this.notAfter = grown(this.notAfter, new Float64Array(size));
    this.slot = grown(this.slot, new Uint32Array(size));
    this.generation = grown(this.generation, new Uint32Array(size));
    this.position = grown(this.position, new Uint32Array(size));
    this.status = grown(this.status, new Uint8Array(size));
  }
}

/** What the readers of the index see: every certificate ordered by notAfter, and every device. */
export interface IndexView {
  /** Certificates, ordered by notAfter (ties by device slot, then position). */
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
 * generation (its old entries are dead) and its certificates go to a pending list; the next read
 * sorts only the pending entries and merges them into the ordered ones. A device a scan sets again
 * unchanged (the usual case) costs a fingerprint comparison. States are not stored: they depend
 * on the time and are derived at read time from status, notAfter and the device's latest valid
 * notAfter, so time passing needs no maintenance.
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
  #fingerprint = new Float64Array(16);
  #certificateCount = new Uint32Array(16);
  #latestValid = new Float64Array(16);
  #ordered = new Entries(0);
  #pending = new Entries(0);
  #liveEntries = 0;
  #dirty = false;

  constructor(fleet: FleetView) {
    for (const record of fleet.records()) this.#update(record.id, record);
    fleet.onChange((id, record) => this.#update(id, record));
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

  #update(id: string, record: DeviceRecord | undefined): void {
    let slot = this.#slotOf.get(id);
    if (record === undefined) {
      if (slot !== undefined) this.#release(id, slot);
      return;
    }
    // A failing device keeps its place in the map: the order in which devices started failing.
    if (record.query === 'ok') this.#failures.delete(id);
    else this.#failures.set(id, record.reason ?? record.query);
    const fingerprint = fingerprintOf(record.certificates);
    if (slot === undefined) slot = this.#allocate(id);
    else if (this.#fingerprint[slot] === fingerprint && this.#certificateCount[slot] === record.certificates.length) {
      this.#query[slot] = QUERY_RESULTS.indexOf(record.query);
      return;
    }
    this.#org[slot] = this.#orgOf(record.device.orgId);
    this.#query[slot] = QUERY_RESULTS.indexOf(record.query);
    this.#fingerprint[slot] = fingerprint;
    this.#liveEntries += record.certificates.length - this.#certificateCount[slot]!;
    this.#certificateCount[slot] = record.certificates.length;
    const generation = ++this.#generation[slot]!;
    let latestValid = -Infinity;
    record.certificates.forEach((cert, position) => {
      if (cert.status === 'valid' && cert.notAfter > latestValid) latestValid = cert.notAfter;
      this.#pending.push(cert.notAfter, slot, generation, position, STATUSES.indexOf(cert.status));
    });
    this.#latestValid[slot] = latestValid;
    this.#dirty = true;
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
    this.#fingerprint = grown(this.#fingerprint, new Float64Array(size));
    this.#certificateCount = grown(this.#certificateCount, new Uint32Array(size));
    this.#latestValid = grown(this.#latestValid, new Float64Array(size));
  }

  /** Drops dead entries and merges the pending ones, sorted, into the order. */
  #settle(): void {
    if (!this.#dirty) return;
    const ordered = this.#ordered;
    const pending = this.#pending;
    const live = (entries: Entries, index: number) => entries.generation[index] === this.#generation[entries.slot[index]!];
    const incoming: number[] = [];
    for (let index = 0; index < pending.length; index++) if (live(pending, index)) incoming.push(index);
    incoming.sort((a, b) => compare(pending, a, pending, b));
    const merged = new Entries(this.#liveEntries);
    let next = 0;
    for (let index = 0; index < ordered.length; index++) {
      if (!live(ordered, index)) continue;
      while (next < incoming.length && compare(pending, incoming[next]!, ordered, index) < 0) merged.copy(pending, incoming[next++]!);
      merged.copy(ordered, index);
    }
    while (next < incoming.length) merged.copy(pending, incoming[next++]!);
    this.#ordered = merged;
    this.#pending = new Entries(0);
    this.#dirty = false;
  }
}

function compare(a: Entries, i: number, b: Entries, j: number): number {
  return a.notAfter[i]! - b.notAfter[j]! || a.slot[i]! - b.slot[j]! || a.position[i]! - b.position[j]!;
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

const word = new Float64Array(1);
const words = new Uint32Array(word.buffer);

/**
 * A 53-bit fingerprint of what the index keeps of a device's certificates (notAfter and status,
 * in order): two independent 32-bit hashes, so that an unchanged device is recognised without
 * holding on to its certificates.
 */
function fingerprintOf(certificates: readonly Certificate[]): number {
  let a = 0x811c9dc5 ^ certificates.length;
  let b = 0x01000193 ^ Math.imul(certificates.length, 0x9e3779b1);
  for (const cert of certificates) {
    word[0] = cert.notAfter;
    const status = STATUSES.indexOf(cert.status);
    for (const value of [words[0]!, words[1]!, status]) {
      a = Math.imul(a ^ value, 0x01000193);
      b = Math.imul(b ^ value, 0x85ebca6b) ^ (b >>> 15);
    }
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) >>> 11);
}
