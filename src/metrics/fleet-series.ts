import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import { assessCertificates, type AssessedCertificate } from '../domain/certificate.js';
import { deviceState, type QueryResult } from '../domain/device.js';
import { sameCertificates } from '../domain/same-certificates.js';
import type { Certificate, CertificateState, DeviceRef, DeviceState, Thresholds } from '../domain/types.js';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';
import { deviceLabels, deviceSamples, FAMILY_HEADERS, type DeviceSamples } from './certificate-lines.js';
import { EXPIRY_WINDOW_DAYS, expiryWindow, nextWindowChange } from './expiry-windows.js';
import { cleanLabelValue } from './label-value.js';
import { SampleBucket, type BucketMember } from './sample-bucket.js';
import { nextStateChange } from './state-boundary.js';

/** `metrics.perCertificate`: which certificates get their own series. */
export type PerCertificateMode = 'all' | 'expiring' | 'none';

export const CERTIFICATE_STATES: readonly CertificateState[] = ['ok', 'warning', 'critical', 'expired', 'revoked'];
export const DEVICE_STATES: readonly DeviceState[] = [
  'ok',
  'warning',
  'critical',
  'no_valid_certificate',
  'no_certificate',
  'not_found',
  'error',
];

/** Per org label value: how many certificates and devices are in each state. */
export interface OrgCounts {
  readonly certificates: Record<CertificateState, number>;
  readonly devices: Record<DeviceState, number>;
  /** Per EXPIRY_WINDOW_DAYS entry: certificates expiring within it (cumulative). */
  readonly expiring: number[];
  deviceTotal: number;
}

/**
 * Which of a device's certificates have series, one character each (`0` none, `1` shown, `2` shown
 * and superseded), then `!` when the device has no valid certificate; the samples are rebuilt when
 * it changes.
 */
type Shown = string;

/** What one device contributes, evaluated at one instant; valid until `validUntil`. */
interface Evaluation {
  readonly states: readonly CertificateState[];
  readonly device: DeviceState;
  readonly validUntil: number;
  readonly shown: Shown;
  /** Per certificate, the digit of its smallest expiry window (see expiry-windows.ts). */
  readonly windows: string;
}

interface Device {
  /** The record's device, to tell whether a later record names the same one. */
  readonly ref: DeviceRef;
  /** Cleaned, unescaped: the aggregates' label (prom-client escapes it). */
  readonly org: string;
  readonly labels: string;
  readonly query: QueryResult;
  /** Unique by certSN. */
  readonly certificates: readonly Certificate[];
}

interface DeviceEntry extends Device, BucketMember {
  ref: DeviceRef;
  certificates: readonly Certificate[];
  readonly bucket: Bucket;
  evaluation: Evaluation;
}

/**
 * A slice of the fleet: a change re-encodes one bucket, not 100k certificates. Devices are placed
 * by their labels, so two devices whose (capped, cleaned) labels collide share a bucket, where
 * only the first shows.
 */
interface Bucket {
  readonly samples: SampleBucket<DeviceEntry>;
  /** No entry in the bucket changes state before this instant. */
  validUntil: number;
}

/** Longest stretch of encoding before render() lets other work run. */
const SLICE_MS = 10;

/** Enough buckets that one changed device re-encodes about 0.1% of a large fleet. */
const BUCKETS = 1024;

/**
 * Derived metric data for the whole fleet, kept current from the FleetView's change listener so
 * a scrape does not rebuild 100k series: per device its encoded samples and state counts, per
 * bucket of devices the joined samples. Time moves states (ok → warning → …): instead of a
 * timer, `refresh(now)` re-evaluates only the devices whose next state boundary has passed, so
 * it is cheap enough for every scrape, and the aggregates and the `expiring` selection are exact
 * at scrape time.
 */
export class FleetSeries {
  readonly #mode: PerCertificateMode;
  readonly #thresholds: Thresholds;
  readonly #now: () => number;
  readonly #entries = new Map<string, DeviceEntry>();
  readonly #buckets: readonly Bucket[] = Array.from({ length: BUCKETS }, () => ({
    samples: new SampleBucket<DeviceEntry>(),
    validUntil: Infinity,
  }));
  readonly #orgs = new Map<string, OrgCounts>();

  constructor(options: { fleet: FleetView; mode: PerCertificateMode; thresholds: Thresholds; now: () => number }) {
    this.#mode = options.mode;
    this.#thresholds = options.thresholds;
    this.#now = options.now;
    for (const record of options.fleet.records()) this.#update(record.id, record);
    options.fleet.onChange((id, record) => this.#update(id, record));
  }

  /** Re-evaluates devices whose certificates crossed a state boundary since they were evaluated. */
  refresh(now: number): void {
    for (const bucket of this.#buckets) {
      if (bucket.validUntil > now) continue;
      bucket.validUntil = Infinity;
      for (const entry of bucket.samples.members()) {
        if (entry.evaluation.validUntil <= now) {
          this.#count(entry, -1);
          const previous = entry.evaluation;
          entry.evaluation = this.#evaluate(entry, now);
          this.#count(entry, 1);
          if (entry.evaluation.shown !== previous.shown) {
            bucket.samples.replaceSamples(entry, this.#samples(entry, entry.evaluation.shown));
          }
        }
        bucket.validUntil = Math.min(bucket.validUntil, entry.evaluation.validUntil);
      }
    }
  }

  /** Certificate and device counts by org label; read-only view. */
  counts(): ReadonlyMap<string, OrgCounts> {
    return this.#orgs;
  }

  /**
   * The per-certificate families as exposition chunks (write them in order); none in `none` mode.
   * Re-encoding many buckets (after a scan touched every device) yields to the event loop every
   * few milliseconds, so health checks and the scan are not stalled by a large scrape.
   */
  async render(): Promise<Buffer[]> {
    if (this.#mode === 'none') return [];
    const families: Buffer[][] = FAMILY_HEADERS.map((header) => [header]);
    let sliceStart = performance.now();
    for (const { samples } of this.#buckets) {
      if (samples.size === 0) continue;
      if (samples.changed && performance.now() - sliceStart > SLICE_MS) {
        await setImmediate();
        sliceStart = performance.now();
      }
      samples.chunks().forEach((chunks, family) => families[family]!.push(...chunks));
    }
    return families.flat();
  }

  #update(id: string, record: DeviceRecord | undefined): void {
    const old = this.#entries.get(id);
    const certificates = record === undefined ? [] : uniqueBySerial(record.certificates);
    // Every scan sets every device again; one that would show the same keeps its evaluation, so
    // its bucket's encoded samples stay valid and the next scrape has nothing to re-encode. It
    // takes the record's objects, though, so that the old ones can be collected.
    if (old !== undefined && record !== undefined && sameDevice(old, record, certificates)) {
      old.ref = record.device;
      old.certificates = certificates;
      return;
    }
    if (old !== undefined) {
      this.#count(old, -1);
      this.#entries.delete(id);
      old.bucket.samples.delete(id);
    }
    if (record !== undefined) {
      const entry = this.#entry(record, certificates);
      this.#entries.set(id, entry);
      entry.bucket.samples.set(id, entry);
      entry.bucket.validUntil = Math.min(entry.bucket.validUntil, entry.evaluation.validUntil);
      this.#count(entry, 1);
    }
  }

  #entry(record: DeviceRecord, certificates: readonly Certificate[]): DeviceEntry {
    const labels = deviceLabels(record.device);
    const device: Device = {
      ref: record.device,
      org: cleanLabelValue(record.device.orgId),
      labels,
      query: record.query,
      certificates,
    };
    const bucket = this.#buckets[hash(labels) % BUCKETS]!;
    const evaluation = this.#evaluate(device, this.#now());
    const pending = this.#samples(device, evaluation.shown);
    // A literal, not a spread of `device`: V8 gives each spread copy a hidden class of its own.
    const { ref, org, query } = device;
    return { ref, org, labels, query, certificates, bucket, evaluation, pending, spans: undefined };
  }

  #evaluate(device: Device, now: number): Evaluation {
    const assessed = assessCertificates(device.certificates, now, this.#thresholds);
    const states = assessed.map((a) => a.state);
    let validUntil = Infinity;
    for (const cert of device.certificates) {
      validUntil = Math.min(validUntil, nextStateChange(cert, now, this.#thresholds), nextWindowChange(cert, now));
    }
    const state = deviceState(device.query, assessed);
    const windows = assessed.map((a) => expiryWindow(a, now)).join('');
    return { states, device: state, validUntil, shown: this.#shown(assessed, state), windows };
  }

  /** `expiring` shows certificates in warning, critical, expired or revoked state. */
  #shown(assessed: readonly AssessedCertificate[], device: DeviceState): Shown {
    if (this.#mode === 'none') return '';
    const certificates = assessed.map(({ state, superseded }) => (this.#mode === 'all' || state !== 'ok' ? (superseded ? '2' : '1') : '0'));
    return certificates.join('') + (device === 'no_valid_certificate' ? '!' : '');
  }

  #samples(device: Device, shown: Shown): DeviceSamples | undefined {
    if (!/[12!]/.test(shown)) return undefined;
    const certificates = device.certificates.filter((_, index) => shown[index] === '1' || shown[index] === '2');
    const superseded = new Set(device.certificates.filter((_, index) => shown[index] === '2'));
    return deviceSamples(device.labels, certificates, superseded, shown.endsWith('!'));
  }

  #count(entry: DeviceEntry, sign: 1 | -1): void {
    let counts = this.#orgs.get(entry.org);
    if (counts === undefined) {
      counts = { certificates: zeros(CERTIFICATE_STATES), devices: zeros(DEVICE_STATES), expiring: EXPIRY_WINDOW_DAYS.map(() => 0), deviceTotal: 0 };
      this.#orgs.set(entry.org, counts);
    }
    for (const state of entry.evaluation.states) counts.certificates[state] += sign;
    counts.devices[entry.evaluation.device] += sign;
    for (const digit of entry.evaluation.windows) {
      for (let window = Number(digit); window < EXPIRY_WINDOW_DAYS.length; window++) counts.expiring[window]! += sign;
    }
    counts.deviceTotal += sign;
    if (counts.deviceTotal === 0) this.#orgs.delete(entry.org);
  }
}

/** Same device, query result and certificates: its series would not change. */
function sameDevice(entry: DeviceEntry, record: DeviceRecord, certificates: readonly Certificate[]): boolean {
  const { ref } = entry;
  const { device } = record;
  return (
    entry.query === record.query &&
    ref.orgId === device.orgId &&
    ref.assetId === device.assetId &&
    ref.productKey === device.productKey &&
    ref.deviceKey === device.deviceKey &&
    sameCertificates(entry.certificates, certificates)
  );
}

/** The first certificate of each certSN; the same array when there is nothing to drop. */
function uniqueBySerial(certificates: readonly Certificate[]): readonly Certificate[] {
  if (certificates.length < 2) return certificates;
  const serials = new Set(certificates.map((cert) => cert.certSN));
  if (serials.size === certificates.length) return certificates;
  return certificates.filter((cert) => serials.delete(cert.certSN));
}

/** FNV-1a with a final avalanche: every bit of the result depends on the whole text. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  // Without it the low bits are weak: labels that repeat the same digits (asset-000123,
  // dev-000123) cancel out in the lowest bit, and half of the buckets stay empty.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
