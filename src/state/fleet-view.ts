import type { QueryResult } from '../domain/device.js';
import { sameCertificates } from '../domain/same-certificates.js';
import type { Certificate, DeviceRef } from '../domain/types.js';
import { compactCertificate } from './compact-certificate.js';
import { StringPool } from './string-pool.js';

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

/** `previous` is the record the device had before this change (undefined: it is new). */
export type FleetListener = (id: string, record: DeviceRecord | undefined, previous: DeviceRecord | undefined) => void;

/**
 * The in-memory picture of the fleet that metrics, alerts and reports read. Scans (and the warm
 * start) write it; listeners hear about every device that changed, so readers keep derived data
 * up to date without rescanning the whole fleet.
 *
 * It is the one place that holds a device's certificates for long, so it holds them compactly
 * (100,000 devices or more in a small pod): `set` shares repeated strings (org, product key,
 * issuer, status, revoker…), keeps distinguished names as patterns over the device's own
 * identifiers, and keeps the objects it already holds when a scan brings the same device and
 * certificates again (a rescan allocates nothing that lives on). Records keep the plain
 * DeviceRecord/Certificate shape for readers.
 *
 * Attaching data of another module:
 * - per certificate: add an optional readonly field to `Certificate` (src/domain/types.ts) and
 *   set it where the certificate is parsed. Keep it small: a number or bit mask, a short or
 *   shared string, or an object shared by every certificate with the same value (one per
 *   distinct content, from the module's own cache). `set` carries such fields over as they are;
 *   add the field to `sameCertificates` (compared with ===) and to the snapshot codec
 *   (src/state/codec.ts) so a warm start keeps it.
 * - per fleet (indexes such as "certificates needing action by notAfter"): keep them in the
 *   module, fed by `onChange`, which passes the previous record so an index can drop its entries.
 */
export class FleetView {
  readonly #records = new Map<string, DeviceRecord>();
  readonly #listeners: FleetListener[] = [];
  readonly #strings = new StringPool();

  onChange(listener: FleetListener): void {
    this.#listeners.push(listener);
  }

  /** Stores a compact copy of `record` (the caller's objects are not kept). */
  set(record: DeviceRecord): void {
    const previous = this.#records.get(record.id);
    const stored = this.#compact(record, previous);
    this.#records.set(stored.id, stored);
    for (const listener of this.#listeners) listener(stored.id, stored, previous);
  }

  delete(id: string): void {
    const previous = this.#records.get(id);
    if (previous === undefined) return;
    this.#records.delete(id);
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

  #compact(record: DeviceRecord, previous: DeviceRecord | undefined): DeviceRecord {
    const device =
      previous !== undefined && sameDevice(previous.device, record.device) ? previous.device : this.#compactDevice(record.device);
    const certificates =
      previous !== undefined && previous.device === device && sameCertificates(previous.certificates, record.certificates)
        ? previous.certificates
        : record.certificates.map((cert) => compactCertificate(cert, device, this.#strings));
    // The held id (the map's key) rather than this scan's copy of the same text.
    return { ...record, id: previous?.id ?? record.id, device, certificates };
  }

  #compactDevice({ orgId, assetId, productKey, deviceKey }: DeviceRef): DeviceRef {
    const strings = this.#strings;
    return {
      orgId: strings.intern(orgId),
      ...(assetId !== undefined ? { assetId } : {}),
      ...(productKey !== undefined ? { productKey: strings.intern(productKey) } : {}),
      ...(deviceKey !== undefined ? { deviceKey } : {}),
    };
  }
}

function sameDevice(a: DeviceRef, b: DeviceRef): boolean {
  return a.orgId === b.orgId && a.assetId === b.assetId && a.productKey === b.productKey && a.deviceKey === b.deviceKey;
}
