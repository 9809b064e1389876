import type { DeviceRef } from '../domain/types.js';
import type { Clock } from '../util/clock.js';
import { matchesAll, type Condition } from './expression.js';
import { PemIssuer } from './pem-issuer.js';
import {
  addedCertSN,
  buildCertificate,
  certificateProfiles,
  deriveCertificates,
  deriveDevice,
  formatAssetId,
  formatDeviceKey,
  parseIndex,
  type CertificateProfiles,
  type CertificateSpec,
  type RawCertificate,
  type SimDevice,
} from './generate.js';

export interface FleetOptions {
  readonly seed: number;
  readonly orgId: string;
  /** Number of generated devices. */
  readonly devices: number;
  /** Generated certificate dates are relative to this (epoch ms). */
  readonly startTime: number;
  /** Time of mutations (added devices, renewals, revocations). */
  readonly clock: Clock;
  /** Fewest certificates a generated device has; default 0 (some devices have none). */
  readonly minCertificates?: number;
  /** Real X.509 PEMs in `cert` (PemIssuer) instead of the serial number. */
  readonly pem?: boolean;
}

export interface SearchResult {
  readonly devices: readonly SimDevice[];
  readonly total: number;
}

const DAY = 86_400_000;
/** Generated devices were created one minute apart, the newest a minute before the start. */
const CREATION_INTERVAL = 60_000;
const SEARCH_CACHE_ENTRIES = 32;

/**
 * The simulated devices of one organisation. Devices and their certificates are derived on demand
 * from (seed, index); only changes made through the mutation methods are stored, so a fleet of a
 * million devices costs almost nothing until it is queried.
 */
export class Fleet {
  readonly seed: number;
  readonly orgId: string;
  readonly startTime: number;
  readonly #clock: Clock;
  readonly #generated: number;
  readonly #profiles: CertificateProfiles;
  readonly #pems: PemIssuer | undefined;
  #highestIndex: number;
  readonly #removed = new Set<number>();
  #removedDescending: number[] = [];
  readonly #addedAt = new Map<number, number>();
  readonly #certificates = new Map<number, RawCertificate[]>();
  #addedCertificates = 0;
  /** Changes whenever the device list changes; invalidates cached search results. */
  #version = 0;
  readonly #searchCache = new Map<string, { version: number; indices: number[] }>();

  constructor(options: FleetOptions) {
    this.seed = options.seed;
    this.orgId = options.orgId;
    this.startTime = options.startTime;
    this.#clock = options.clock;
    this.#generated = options.devices;
    this.#profiles = certificateProfiles(options.minCertificates ?? 0);
    this.#pems = options.pem === true ? new PemIssuer() : undefined;
    this.#highestIndex = options.devices;
  }

  /** Devices currently in the fleet. */
  get size(): number {
    return this.#highestIndex - this.#removed.size;
  }

  /** Device by 1-based creation index; undefined when removed or never created. */
  device(index: number): SimDevice | undefined {
    if (!Number.isSafeInteger(index) || index < 1 || index > this.#highestIndex || this.#removed.has(index)) {
      return undefined;
    }
    const createTime = this.#addedAt.get(index) ?? this.startTime - (this.#generated - index + 1) * CREATION_INTERVAL;
    return deriveDevice(this.seed, this.orgId, index, createTime);
  }

  /** Every device, oldest first. */
  *devices(): IterableIterator<SimDevice> {
    for (let index = 1; index <= this.#highestIndex; index += 1) {
      const device = this.device(index);
      if (device) yield device;
    }
  }

  /** The device a reference names (assetId first, as List Certificate does), if it exists. */
  find(ref: DeviceRef): SimDevice | undefined {
    if (ref.orgId !== this.orgId) return undefined;
    if (ref.assetId !== undefined) {
      const index = parseIndex(ref.assetId, formatAssetId);
      return index === undefined ? undefined : this.device(index);
    }
    if (ref.productKey === undefined || ref.deviceKey === undefined) return undefined;
    const index = parseIndex(ref.deviceKey, formatDeviceKey);
    const device = index === undefined ? undefined : this.device(index);
    return device?.productKey === ref.productKey ? device : undefined;
  }

  /** What List Certificate answers for the device; undefined for an unknown device. */
  certificates(ref: DeviceRef): readonly RawCertificate[] | undefined {
    const device = this.find(ref);
    if (!device) return undefined;
    const list = this.#certificates.get(device.index) ?? deriveCertificates(this.seed, device, this.startTime, this.#profiles);
    if (this.#pems === undefined) return list;
    return this.#pems.withPems(device, list, () => this.certificates({ orgId: this.orgId, assetId: formatAssetId(device.index - 1) }));
  }

  /** Creates a device; being the newest, it comes first in Search Device results. */
  addDevice(certificates?: readonly RawCertificate[]): SimDevice {
    this.#highestIndex += 1;
    this.#version += 1;
    const index = this.#highestIndex;
    this.#addedAt.set(index, this.#clock.now());
    if (certificates) this.#certificates.set(index, [...certificates]);
    return this.#existing(this.device(index));
  }

  removeDevice(ref: DeviceRef): void {
    const device = this.#existing(this.find(ref));
    this.#removed.add(device.index);
    this.#certificates.delete(device.index);
    this.#removedDescending = [...this.#removed].sort((a, b) => b - a);
    this.#version += 1;
  }

  revoke(ref: DeviceRef, certSN: string, revoker = 'IoT_Hub', reason = 'KEY COMPROMISE'): void {
    this.#update(ref, certSN, { certStatus: 1, revoker, revokerReason: reason });
  }

  /** The gateway marks the certificate expired (certStatus 2). */
  expire(ref: DeviceRef, certSN: string): void {
    this.#update(ref, certSN, { certStatus: 2 });
  }

  /** Issues a successor valid for `validDays` from now; the old certificate stays as it is. */
  renew(ref: DeviceRef, certSN: string, validDays: number): string {
    const { list } = this.#editable(ref);
    const old = certificateIn(list, certSN);
    const now = this.#now();
    return this.addCertificate(ref, {
      issueAuthority: old.issueAuthority === 'ECC' ? 'ECC' : 'RSA',
      effectiveDate: now,
      expireDate: now + validDays * DAY,
    });
  }

  /** Adds a certificate (by default valid for a year from yesterday); returns its certSN. */
  addCertificate(ref: DeviceRef, partial: Partial<CertificateSpec> = {}): string {
    const { device, list } = this.#editable(ref);
    const now = this.#now();
    this.#addedCertificates += 1;
    const certificate = buildCertificate(device, {
      certSN: addedCertSN(this.#addedCertificates),
      certStatus: 0,
      issueAuthority: 'RSA',
      effectiveDate: now - DAY,
      expireDate: now + 365 * DAY,
      ...partial,
    });
    list.push(certificate);
    return String(certificate.certSN);
  }

  removeCertificate(ref: DeviceRef, certSN: string): void {
    const { list } = this.#editable(ref);
    list.splice(list.indexOf(certificateIn(list, certSN)), 1);
  }

  /** Replaces the device's answer with arbitrary objects (for tests of hostile input). */
  setCertificates(ref: DeviceRef, certificates: readonly RawCertificate[]): void {
    const device = this.#existing(this.find(ref));
    this.#certificates.set(device.index, [...certificates]);
  }

  /** Search Device: devices matching every condition, newest first, `limit` of them from `offset`. */
  search(conditions: readonly Condition[], offset: number, limit: number): SearchResult {
    const pinned = this.#pinned(conditions);
    if (pinned) return { devices: pinned.slice(offset, offset + limit), total: pinned.length };
    if (conditions.length > 0) {
      const indices = this.#matchingIndices(conditions);
      return { devices: indices.slice(offset, offset + limit).map((index) => this.#existing(this.device(index))), total: indices.length };
    }
    return { devices: this.#newest(offset, limit), total: this.size };
  }

  /** An assetId or deviceKey condition names at most one device: no need to scan. */
  #pinned(conditions: readonly Condition[]): SimDevice[] | undefined {
    const pin = conditions.find((condition) => condition.field === 'assetId' || condition.field === 'deviceKey');
    if (!pin) return undefined;
    const index = parseIndex(pin.value, pin.field === 'assetId' ? formatAssetId : formatDeviceKey);
    const device = index === undefined ? undefined : this.device(index);
    return device && matchesAll(conditions, device) ? [device] : [];
  }

  /** Indices of matching devices, newest first; cached until the device list changes. */
  #matchingIndices(conditions: readonly Condition[]): number[] {
    const key = JSON.stringify(conditions);
    const cached = this.#searchCache.get(key);
    if (cached?.version === this.#version) return cached.indices;
    const indices: number[] = [];
    for (let index = this.#highestIndex; index >= 1; index -= 1) {
      const device = this.device(index);
      if (device && matchesAll(conditions, device)) indices.push(index);
    }
    const oldest = this.#searchCache.keys().next();
    if (this.#searchCache.size >= SEARCH_CACHE_ENTRIES && !oldest.done) this.#searchCache.delete(oldest.value);
    this.#searchCache.set(key, { version: this.#version, indices });
    return indices;
  }

  /** Unfiltered page: computed from the indices, skipping removed devices. */
  #newest(offset: number, limit: number): SimDevice[] {
    const devices: SimDevice[] = [];
    for (let index = this.#nthNewestIndex(offset); index >= 1 && devices.length < limit; index -= 1) {
      const device = this.device(index);
      if (device) devices.push(device);
    }
    return devices;
  }

  /** Index of the k-th (0-based) newest device still present. */
  #nthNewestIndex(k: number): number {
    let candidate = this.#highestIndex - k;
    for (const removed of this.#removedDescending) {
      if (removed < candidate) break;
      candidate -= 1;
    }
    return candidate;
  }

  #update(ref: DeviceRef, certSN: string, changes: RawCertificate): void {
    const { list } = this.#editable(ref);
    const certificate = certificateIn(list, certSN);
    const audit = certificate.audit;
    Object.assign(certificate, changes);
    if (typeof audit === 'object' && audit !== null) certificate.audit = { ...audit, updateTime: this.#now() };
  }

  /** The device and its stored certificate list, materialising the generated one on first change. */
  #editable(ref: DeviceRef): { device: SimDevice; list: RawCertificate[] } {
    const device = this.#existing(this.find(ref));
    let list = this.#certificates.get(device.index);
    if (!list) {
      list = deriveCertificates(this.seed, device, this.startTime, this.#profiles);
      this.#certificates.set(device.index, list);
    }
    return { device, list };
  }

  #existing(device: SimDevice | undefined): SimDevice {
    if (!device) throw new Error('no such device in the simulated fleet');
    return device;
  }

  #now(): number {
    return Math.floor(this.#clock.now() / 1000) * 1000;
  }
}

function certificateIn(list: readonly RawCertificate[], certSN: string): RawCertificate {
  const certificate = list.find((candidate) => candidate.certSN === certSN);
  if (!certificate) throw new Error(`no certificate ${certSN} on this device`);
  return certificate;
}
