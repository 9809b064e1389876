import { setImmediate } from 'node:timers/promises';
import { assessCertificates } from '../domain/certificate.js';
import { deviceId } from '../domain/device-id.js';
import { deviceState } from '../domain/device.js';
import {
  CERTIFICATE_STATES,
  DEVICE_STATES,
  type Certificate,
  type CertificateState,
  type DeviceRef,
  type DeviceState,
  type Thresholds,
} from '../domain/types.js';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';
import { CERTIFICATE_FAMILIES, deviceLabels, deviceSamples } from './certificate-lines.js';
import { gzipMemberSync } from './gzip-members.js';
import { cleanLabelValue } from './label-value.js';
import { LabelCollisions } from './label-collisions.js';
import { SeriesBucket, type BucketMember } from './series-bucket.js';
import { EXPIRY_WINDOW_DAYS, expiryWindow, nextWindowChange } from './expiry-windows.js';
import { nextStateChange } from './state-boundary.js';

/** `metrics.perCertificate`: which certificates get their own series. */
export type PerCertificateMode = 'all' | 'expiring' | 'none';


/** Per org label value: how many certificates and devices are in each state. */
export interface OrgCounts {
  readonly certificates: Record<CertificateState, number>;
  readonly devices: Record<DeviceState, number>;
  /** Per EXPIRY_WINDOW_DAYS entry: certificates expiring within it (cumulative). */
  readonly expiring: number[];
  deviceTotal: number;
}

/**
 * One letter per certificate state, upper case when the certificate is superseded: a device's
 * states are one short, shared string.
 */
const STATE_CODE: Record<CertificateState, string> = { ok: 'o', warning: 'w', critical: 'c', expired: 'e', revoked: 'r' };
const STATE_OF_CODE: Readonly<Record<string, CertificateState>> = Object.fromEntries(
  CERTIFICATE_STATES.flatMap((state) => [
    [STATE_CODE[state], state],
    [STATE_CODE[state].toUpperCase(), state],
  ]),
);
const isSuperseded = (code: string): boolean => code !== code.toLowerCase();

/** What the metrics keep per device besides its FleetView record: a few fields, no text. */
interface DeviceEntry extends BucketMember {
  record: DeviceRecord;
  /** Cleaned, unescaped: the aggregates' label (prom-client escapes it). */
  readonly org: string;
  bucket: SeriesBucket<DeviceEntry>;
  /** The states of its certificates (unique by serial), one STATE_CODE letter each. */
  states: string;
  /** Per certificate, the digit of its smallest expiry window (expiry-windows.ts). */
  windows: string;
  device: DeviceState;
  /** The states hold until this instant. */
  validUntil: number;
  /** Its labels read like those of another device, which shows instead. */
  hidden: boolean;
  /** Set while it is part of a LabelCollisions group. */
  collisionKey: string | undefined;
}

/** A dirty bucket is compressed this long after its first change, unless a scrape needs it first. */
const COMPRESS_DELAY_MS = 1_000;
/** Buckets compressed at once when a scrape finds many dirty (zlib's thread pool has 4 threads). */
const COMPRESS_PARALLEL = 4;

const FAMILY_HEADER_TEXT = CERTIFICATE_FAMILIES.map(({ name, help }) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`);
/** `# HELP` and `# TYPE` of each per-certificate family, as gzip members. */
const FAMILY_HEADERS: readonly Buffer[] = FAMILY_HEADER_TEXT.map((text) => gzipMemberSync(text));

/**
 * Derived metric data for the whole fleet, kept current from the FleetView's change listener so
 * a scrape does not rebuild 100k series: per device its states (a few fields), per bucket of
 * devices the per-certificate samples as gzip members (about 45 bytes per certificate instead of
 * 560 as text). A scrape writes the members as they are; plain text is inflated from them on the
 * way out. Time moves states (ok → warning → …): instead of a timer, `refresh(now)` re-evaluates
 * only the devices whose next state boundary has passed, so it is cheap enough for every scrape,
 * and the aggregates and the `expiring` selection are exact at scrape time.
 */
export class FleetSeries {
  readonly #mode: PerCertificateMode;
  readonly #thresholds: Thresholds;
  readonly #now: () => number;
  readonly #entries = new Map<string, DeviceEntry>();
  readonly #buckets: SeriesBucket<DeviceEntry>[] = [];
  /** Buckets with room for another device. */
  readonly #withRoom: SeriesBucket<DeviceEntry>[] = [];
  readonly #dirty = new Set<SeriesBucket<DeviceEntry>>();
  #compressTimer: NodeJS.Timeout | undefined;
  readonly #orgs = new Map<string, OrgCounts>();
  readonly #collisions = new LabelCollisions<DeviceEntry>();
  readonly #renderText = (members: readonly DeviceEntry[]): string[] => this.#text(members);

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
      for (const entry of bucket.members) {
        if (entry.validUntil <= now) {
          const shownBefore = this.#shownStates(entry.states);
          this.#count(entry, -1);
          this.#evaluate(entry, now);
          this.#count(entry, 1);
          if (this.#shownStates(entry.states) !== shownBefore) this.#changed(bucket);
        }
        bucket.validUntil = Math.min(bucket.validUntil, entry.validUntil);
      }
    }
  }

  /** Certificate and device counts by org label; read-only view. */
  counts(): ReadonlyMap<string, OrgCounts> {
    return this.#orgs;
  }

  /**
   * The per-certificate families as gzip members to write in order (none in `none` mode): per
   * family its header, then each bucket's samples. Buckets changed since they were last
   * compressed are compressed first, a few at a time in zlib's thread pool.
   */
  async render(): Promise<Buffer[]> {
    if (this.#mode === 'none') return [];
    await this.#compressDirty();
    const members: Buffer[] = [];
    FAMILY_HEADERS.forEach((header, family) => {
      members.push(header);
      for (const bucket of this.#buckets) {
        const member = bucket.compressed[family]!;
        if (member.length > 0) members.push(member);
      }
    });
    return members;
  }

  #update(id: string, record: DeviceRecord | undefined): void {
    const old = this.#entries.get(id);
    if (old !== undefined && record !== undefined && old.record.device === record.device) {
      // The FleetView keeps its objects when nothing changed: then there is nothing to re-render.
      const same = old.record.certificates === record.certificates && old.record.query === record.query;
      old.record = record;
      if (same) return;
      this.#count(old, -1);
      this.#evaluate(old, this.#now());
      this.#count(old, 1);
      this.#placed(old);
      return;
    }
    if (old !== undefined) this.#remove(id, old);
    if (record !== undefined) this.#add(id, record);
  }

  #add(id: string, record: DeviceRecord): void {
    const bucket = this.#bucketWithRoom();
    const entry: DeviceEntry = {
      record,
      org: cleanLabelValue(record.device.orgId),
      bucket,
      slot: 0,
      states: '',
      windows: '',
      device: 'no_certificate',
      validUntil: Infinity,
      hidden: false,
      collisionKey: undefined,
    };
    this.#evaluate(entry, this.#now());
    this.#entries.set(id, entry);
    bucket.add(entry);
    if (bucket.full) this.#withRoom.splice(this.#withRoom.indexOf(bucket), 1);
    this.#count(entry, 1);
    this.#joinCollisions(entry);
    this.#placed(entry);
  }

  #remove(id: string, entry: DeviceEntry): void {
    this.#count(entry, -1);
    this.#entries.delete(id);
    const { bucket } = entry;
    if (bucket.full) this.#withRoom.push(bucket);
    bucket.remove(entry);
    this.#changed(bucket);
    if (entry.collisionKey === undefined) return;
    const shownInstead = this.#collisions.remove(entry, entry.collisionKey);
    if (shownInstead !== undefined) {
      shownInstead.hidden = false;
      this.#changed(shownInstead.bucket);
    }
  }

  #bucketWithRoom(): SeriesBucket<DeviceEntry> {
    let bucket = this.#withRoom.at(-1);
    if (bucket === undefined) {
      bucket = new SeriesBucket<DeviceEntry>();
      this.#buckets.push(bucket);
      this.#withRoom.push(bucket);
    }
    return bucket;
  }

  /**
   * Devices whose labels read alike once cleaned and capped would repeat series: only devices
   * whose labels cleaning changed can meet another's, so ordinary devices skip the lookup.
   */
  #joinCollisions(entry: DeviceEntry): void {
    const { device } = entry.record;
    const cleaned = cleanedDevice(device);
    const altered = !sameRef(cleaned, device);
    if (!altered && this.#collisions.size === 0) return;
    const labels = deviceLabels(device);
    const twin = altered ? this.#entries.get(deviceId(cleaned)) : undefined;
    const twinLabels = twin !== undefined && twin !== entry && deviceLabels(twin.record.device) === labels ? twin : undefined;
    const shows = this.#collisions.add(entry, labels, altered, twinLabels);
    if (shows === undefined) return;
    entry.collisionKey = labels;
    if (twinLabels !== undefined) twinLabels.collisionKey = labels;
    entry.hidden = !shows;
  }

  #evaluate(entry: DeviceEntry, now: number): void {
    const certificates = uniqueBySerial(entry.record.certificates);
    const assessed = assessCertificates(certificates, now, this.#thresholds);
    let states = '';
    let windows = '';
    for (const each of assessed) {
      states += each.superseded ? STATE_CODE[each.state].toUpperCase() : STATE_CODE[each.state];
      windows += expiryWindow(each, now);
    }
    let validUntil = Infinity;
    for (const cert of certificates) {
      validUntil = Math.min(validUntil, nextStateChange(cert, now, this.#thresholds), nextWindowChange(cert, now));
    }
    entry.states = internStates(states);
    entry.windows = internStates(windows);
    entry.device = deviceState(entry.record.query, assessed);
    entry.validUntil = validUntil;
  }

  /** After a device's series may have changed: its bucket is re-compressed, its time watched. */
  #placed(entry: DeviceEntry): void {
    const { bucket } = entry;
    bucket.validUntil = Math.min(bucket.validUntil, entry.validUntil);
    this.#changed(bucket);
  }

  /** Which certificates show, as the states string with hidden ones blanked (comparable). */
  #shownStates(states: string): string {
    return this.#mode === 'expiring' ? states.replaceAll(/o/gi, '-') : states;
  }

  #changed(bucket: SeriesBucket<DeviceEntry>): void {
    if (this.#mode === 'none') return;
    bucket.changed();
    this.#dirty.add(bucket);
    if (this.#compressTimer === undefined) {
      this.#compressTimer = setTimeout(() => {
        this.#compressTimer = undefined;
        void this.#compressDirty();
      }, COMPRESS_DELAY_MS);
      this.#compressTimer.unref();
    }
  }

  /** Compresses every dirty bucket, a few at a time, yielding between them. */
  async #compressDirty(): Promise<void> {
    while (this.#dirty.size > 0) {
      const batch = [...this.#dirty].slice(0, COMPRESS_PARALLEL);
      for (const bucket of batch) this.#dirty.delete(bucket);
      await Promise.all(batch.map((bucket) => bucket.compress(this.#renderText)));
      await setImmediate();
    }
  }

  /** The samples of the members that show, one text per family. */
  #text(members: readonly DeviceEntry[]): string[] {
    const families: string[][] = CERTIFICATE_FAMILIES.map(() => []);
    for (const entry of members) {
      if (entry.hidden) continue;
      const shown = this.#shownCertificates(entry);
      if (shown.length === 0) continue;
      const superseded = new Set(uniqueBySerial(entry.record.certificates).filter((_, index) => isSuperseded(entry.states[index]!)));
      const noValid = entry.device === 'no_valid_certificate';
      deviceSamples(deviceLabels(entry.record.device), shown, superseded, noValid).forEach((text, family) => families[family]!.push(text));
    }
    return families.map((texts) => texts.join(''));
  }

  /** `expiring` shows certificates in warning, critical, expired or revoked state. */
  #shownCertificates(entry: DeviceEntry): Certificate[] {
    const certificates = uniqueBySerial(entry.record.certificates);
    if (this.#mode === 'all') return [...certificates];
    return certificates.filter((_, index) => entry.states[index]!.toLowerCase() !== STATE_CODE.ok);
  }

  #count(entry: DeviceEntry, sign: 1 | -1): void {
    let counts = this.#orgs.get(entry.org);
    if (counts === undefined) {
      counts = { certificates: zeros(CERTIFICATE_STATES), devices: zeros(DEVICE_STATES), expiring: EXPIRY_WINDOW_DAYS.map(() => 0), deviceTotal: 0 };
      this.#orgs.set(entry.org, counts);
    }
    for (const code of entry.states) counts.certificates[STATE_OF_CODE[code]!] += sign;
    counts.devices[entry.device] += sign;
    for (const digit of entry.windows) {
      for (let window = Number(digit); window < EXPIRY_WINDOW_DAYS.length; window++) counts.expiring[window]! += sign;
    }
    counts.deviceTotal += sign;
    if (counts.deviceTotal === 0) this.#orgs.delete(entry.org);
  }
}

const STATE_STRINGS = new Map<string, string>();
/** Devices share the few distinct state and window strings (`o`, `wo`, `reo`, `15`…). */
function internStates(states: string): string {
  const held = STATE_STRINGS.get(states);
  if (held !== undefined) return held;
  if (STATE_STRINGS.size < 4096) STATE_STRINGS.set(states, states);
  return states;
}

/** The device as its labels show it: cleaned and capped values, '' for absent ones. */
function cleanedDevice(device: DeviceRef): DeviceRef {
  const clean = (value: string | undefined) => (value === undefined ? undefined : cleanLabelValue(value));
  return {
    orgId: cleanLabelValue(device.orgId),
    assetId: clean(device.assetId),
    productKey: clean(device.productKey),
    deviceKey: clean(device.deviceKey),
  };
}

function sameRef(a: DeviceRef, b: DeviceRef): boolean {
  return a.orgId === b.orgId && a.assetId === b.assetId && a.productKey === b.productKey && a.deviceKey === b.deviceKey;
}

/** The first certificate of each certSN; the same array when there is nothing to drop. */
function uniqueBySerial(certificates: readonly Certificate[]): readonly Certificate[] {
  if (certificates.length < 2) return certificates;
  const serials = new Set(certificates.map((cert) => cert.certSN));
  if (serials.size === certificates.length) return certificates;
  return certificates.filter((cert) => serials.delete(cert.certSN));
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
