import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import { assessCertificates } from '../domain/certificate.js';
import { deviceState, type QueryResult } from '../domain/device.js';
import type { Certificate, CertificateState, DeviceState, Thresholds } from '../domain/types.js';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';
import { deviceLabels, deviceSamples, FAMILY_HEADERS, type DeviceSamples } from './certificate-lines.js';
import { cleanLabelValue } from './label-value.js';
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
  deviceTotal: number;
}

/** Which of a device's certificates have series, e.g. `101`; the samples are rebuilt when it changes. */
type Shown = string;

/** What one device contributes, evaluated at one instant; valid until `validUntil`. */
interface Evaluation {
  readonly states: readonly CertificateState[];
  readonly device: DeviceState;
  readonly validUntil: number;
  readonly shown: Shown;
  readonly samples: DeviceSamples | undefined;
}

interface Device {
  /** Cleaned, unescaped: the aggregates' label (prom-client escapes it). */
  readonly org: string;
  /** Escaped device labels: two devices rendering the same labels would duplicate series. */
  readonly labels: string;
  readonly query: QueryResult;
  /** Unique by certSN. */
  readonly certificates: readonly Certificate[];
}

interface DeviceEntry extends Device {
  readonly bucket: Bucket;
  evaluation: Evaluation;
}

/**
 * A slice of the fleet whose joined samples are cached: a change re-joins one bucket, not 100k
 * certificates. Devices are placed by their labels, so two devices whose (capped, cleaned) labels
 * collide share a bucket, where the join drops the second.
 */
interface Bucket {
  readonly entries: Map<string, DeviceEntry>;
  /** No entry in the bucket changes state before this instant. */
  validUntil: number;
  joined: DeviceSamples | undefined;
}

/** Longest stretch of joining before render() lets other work run. */
const SLICE_MS = 10;

/** Enough buckets that one changed device re-joins about 0.1% of a large fleet. */
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
    entries: new Map<string, DeviceEntry>(),
    validUntil: Infinity,
    joined: undefined,
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
      for (const entry of bucket.entries.values()) {
        if (entry.evaluation.validUntil <= now) {
          this.#count(entry, -1);
          const previous = entry.evaluation;
          entry.evaluation = this.#evaluate(entry, now, previous);
          this.#count(entry, 1);
          if (entry.evaluation.samples !== previous.samples) bucket.joined = undefined;
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
   * Re-joining many buckets (after a scan touched every device) yields to the event loop every
   * few milliseconds, so health checks and the scan are not stalled by a large scrape.
   */
  async render(): Promise<Buffer[]> {
    if (this.#mode === 'none') return [];
    const families: Buffer[][] = FAMILY_HEADERS.map((header) => [header]);
    let sliceStart = performance.now();
    for (const bucket of this.#buckets) {
      if (bucket.entries.size === 0) continue;
      if (bucket.joined === undefined && performance.now() - sliceStart > SLICE_MS) {
        await setImmediate();
        sliceStart = performance.now();
      }
      bucket.joined ??= join(bucket);
      bucket.joined.forEach((samples, family) => families[family]!.push(samples));
    }
    return families.flat();
  }

  #update(id: string, record: DeviceRecord | undefined): void {
    const old = this.#entries.get(id);
    if (old !== undefined) {
      this.#count(old, -1);
      this.#entries.delete(id);
      old.bucket.entries.delete(id);
      old.bucket.joined = undefined;
    }
    if (record !== undefined) {
      const entry = this.#entry(record);
      this.#entries.set(id, entry);
      entry.bucket.entries.set(id, entry);
      entry.bucket.joined = undefined;
      entry.bucket.validUntil = Math.min(entry.bucket.validUntil, entry.evaluation.validUntil);
      this.#count(entry, 1);
    }
  }

  #entry(record: DeviceRecord): DeviceEntry {
    const seen = new Set<string>();
    const labels = deviceLabels(record.device);
    const device: Device = {
      org: cleanLabelValue(record.device.orgId),
      labels,
      query: record.query,
      certificates: record.certificates.filter((cert) => !seen.has(cert.certSN) && seen.add(cert.certSN)),
    };
    const bucket = this.#buckets[hash(labels) % BUCKETS]!;
    return { ...device, bucket, evaluation: this.#evaluate(device, this.#now(), undefined) };
  }

  #evaluate(device: Device, now: number, previous: Evaluation | undefined): Evaluation {
    const assessed = assessCertificates(device.certificates, now, this.#thresholds);
    const states = assessed.map((a) => a.state);
    let validUntil = Infinity;
    for (const cert of device.certificates) validUntil = Math.min(validUntil, nextStateChange(cert, now, this.#thresholds));
    const shown = this.#shown(states);
    const samples = previous !== undefined && previous.shown === shown ? previous.samples : this.#samples(device, shown);
    return { states, device: deviceState(device.query, assessed), validUntil, shown, samples };
  }

  /** `expiring` shows certificates in warning, critical, expired or revoked state. */
  #shown(states: readonly CertificateState[]): Shown {
    if (this.#mode === 'none') return '';
    return states.map((state) => (this.#mode === 'all' || state !== 'ok' ? '1' : '0')).join('');
  }

  #samples(device: Device, shown: Shown): DeviceSamples | undefined {
    if (!shown.includes('1')) return undefined;
    return deviceSamples(device.labels, device.certificates.filter((_, index) => shown[index] === '1'));
  }

  #count(entry: DeviceEntry, sign: 1 | -1): void {
    let counts = this.#orgs.get(entry.org);
    if (counts === undefined) {
      counts = { certificates: zeros(CERTIFICATE_STATES), devices: zeros(DEVICE_STATES), deviceTotal: 0 };
      this.#orgs.set(entry.org, counts);
    }
    for (const state of entry.evaluation.states) counts.certificates[state] += sign;
    counts.devices[entry.evaluation.device] += sign;
    counts.deviceTotal += sign;
    if (counts.deviceTotal === 0) this.#orgs.delete(entry.org);
  }
}

/** Each family's samples of one bucket; a device whose labels another device already shows is left out. */
function join(bucket: Bucket): DeviceSamples {
  const families: [Buffer[], Buffer[], Buffer[]] = [[], [], []];
  const seen = new Set<string>();
  for (const { labels, evaluation } of bucket.entries.values()) {
    if (evaluation.samples === undefined || seen.has(labels)) continue;
    seen.add(labels);
    evaluation.samples.forEach((samples, family) => families[family]!.push(samples));
  }
  return [Buffer.concat(families[0]), Buffer.concat(families[1]), Buffer.concat(families[2])];
}

/** FNV-1a: a cheap, well-spread bucket index. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
