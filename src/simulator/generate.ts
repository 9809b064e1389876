import { hash32, seededRandom, type Random } from './random.js';

/** Device `status` values of Search Device. */
export type DeviceStatus = 'online' | 'offline' | 'inactive' | 'disable';

/** Older gateway answers spell the start date `effetiveDate`; newer ones `effectiveDate`. */
export type StartDateField = 'effectiveDate' | 'effetiveDate';

export interface SimDevice {
  /** 1-based position in creation order. */
  readonly index: number;
  readonly orgId: string;
  readonly assetId: string;
  readonly productKey: string;
  readonly deviceKey: string;
  readonly deviceName: string;
  readonly status: DeviceStatus;
  readonly deviceSecret: string;
  /** Epoch ms. */
  readonly createTime: number;
  /** How this device's certificates spell their start date. */
  readonly startDateField: StartDateField;
}

/** A certificate exactly as List Certificate answers it (tests may store anything here). */
export type RawCertificate = Record<string, unknown>;

export type IssueAuthority = 'RSA' | 'ECC';

/** What distinguishes one certificate; the rest follows from the device. */
export interface CertificateSpec {
  readonly certSN: string;
  /** 0 valid, 1 revoked, 2 expired. */
  readonly certStatus: 0 | 1 | 2;
  readonly issueAuthority: IssueAuthority;
  readonly effectiveDate: number;
  readonly expireDate: number;
  readonly revoker?: string;
  readonly revokerReason?: string;
  readonly isEnosCert?: boolean;
}

export const PRODUCT_KEYS = ['pk-a', 'pk-b', 'pk-c'] as const;

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Generated certSNs are CERT_SN_BASE + index * 10 + slot (slot 0..4); added ones end in 5. */
const CERT_SN_BASE = 100_000;
const MAX_GENERATED_PER_DEVICE = 5;

const ISSUERS: Record<IssueAuthority, string> = {
  RSA: 'EMAILADDRESS=ca@eniot.io, CN=EnOS CA, OU=EnOS CA, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
  ECC: 'EMAILADDRESS=ca@eniot.io, CN=EnOS ECC CA, OU=EnOS Cloud, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
};

const REVOKE_REASONS = ['KEY COMPROMISE', 'CESSATION OF OPERATION', 'SUPERSEDED', 'AFFILIATION CHANGED'];

/** Purposes of the derived generators, so each attribute has its own stream. */
const SALT_DEVICE = 1;
const SALT_CERTIFICATES = 2;

/**
 * The kinds of certificate a device may hold, relative to the fleet's start time:
 * far = valid, expiry far away; warning = valid, expires within 30 days; critical = within 7 days;
 * renewing = valid, near expiry, paired with a newer far certificate; stale = certStatus still 0
 * but expireDate already passed; revoked = certStatus 1; expired = certStatus 2.
 */
type CertificateKind = 'far' | 'warning' | 'critical' | 'renewing' | 'stale' | 'revoked' | 'expired';

/** Certificate sets a device can have, with their weights. */
export type CertificateProfiles = readonly (readonly [readonly CertificateKind[], number])[];

/** The default mix: mostly one or two certificates, some devices without any. */
const PROFILES: CertificateProfiles = [
  [['far'], 40],
  [['renewing', 'far'], 10],
  [['warning'], 8],
  [['revoked', 'far'], 8],
  [['critical'], 5],
  [['expired'], 5],
  [[], 5],
  [['far', 'far'], 4],
  [['expired', 'far'], 4],
  [['revoked'], 3],
  [['stale'], 3],
  [['expired', 'revoked', 'warning', 'far'], 3],
  [['revoked', 'expired', 'critical'], 2],
];

/** The most certificates a generated device starts with. */
export const MAX_GENERATED_CERTIFICATES = Math.max(...PROFILES.map(([kinds]) => kinds.length));

/** The profiles that give a device at least `minCertificates` (0: the default mix). */
export function certificateProfiles(minCertificates: number): CertificateProfiles {
  const profiles = PROFILES.filter(([kinds]) => kinds.length >= minCertificates);
  if (profiles.length === 0) throw new RangeError(`no certificate profile has ${minCertificates} certificates`);
  return profiles;
}

export function formatAssetId(index: number): string {
  return `asset-${String(index).padStart(6, '0')}`;
}

export function formatDeviceKey(index: number): string {
  return `dev-${String(index).padStart(6, '0')}`;
}

/** The index in a formatted id, or undefined unless the id is exactly the canonical form. */
export function parseIndex(id: string, format: (index: number) => string): number | undefined {
  const digits = /^[a-z]+-(\d{6,})$/.exec(id)?.[1];
  if (digits === undefined) return undefined;
  const index = Number(digits);
  return Number.isSafeInteger(index) && index > 0 && format(index) === id ? index : undefined;
}

export function deriveDevice(seed: number, orgId: string, index: number, createTime: number): SimDevice {
  const random = seededRandom(hash32(seed, index, SALT_DEVICE));
  const productKey = random.pick(PRODUCT_KEYS);
  const status = random.weighted<DeviceStatus>([
    ['online', 60],
    ['offline', 25],
    ['inactive', 10],
    ['disable', 5],
  ]);
  const startDateField: StartDateField = random.next() < 0.5 ? 'effetiveDate' : 'effectiveDate';
  return {
    index,
    orgId,
    assetId: formatAssetId(index),
    productKey,
    deviceKey: formatDeviceKey(index),
    deviceName: `Device ${String(index).padStart(6, '0')}`,
    status,
    deviceSecret: randomText(random, 20),
    createTime,
    startDateField,
  };
}

/**
 * The certificates a generated device starts with. The first devices of a fleet take one profile
 * each (rotated by the seed) so that even a small fleet shows every state; the rest are weighted.
 */
export function deriveCertificates(
  seed: number,
  device: SimDevice,
  startTime: number,
  profiles: CertificateProfiles = PROFILES,
): RawCertificate[] {
  const random = seededRandom(hash32(seed, device.index, SALT_CERTIFICATES));
  const kinds =
    device.index <= profiles.length
      ? profileAt(profiles, device.index - 1 + seed)
      : random.weighted(profiles);
  const now = Math.floor(startTime / 1000) * 1000;
  return kinds.map((kind, slot) =>
    buildCertificate(device, {
      ...datesFor(kind, now, random),
      certSN: String(CERT_SN_BASE + device.index * 10 + slot),
      issueAuthority: random.pick<IssueAuthority>(['RSA', 'ECC']),
      isEnosCert: random.next() < 0.9,
    }),
  );
}

/** certSN of the n-th (1-based) certificate added after generation; never collides with generated ones. */
export function addedCertSN(n: number): string {
  return String(CERT_SN_BASE + n * 10 + MAX_GENERATED_PER_DEVICE);
}

export function buildCertificate(device: SimDevice, spec: CertificateSpec): RawCertificate {
  const signDate = spec.effectiveDate;
  return {
    certSN: spec.certSN,
    cert: spec.certSN,
    certStatus: spec.certStatus,
    issuer: ISSUERS[spec.issueAuthority],
    subject: `EMAILADDRESS=${device.deviceKey}@devices.enos, CN=${device.deviceKey}, OU=EnOS, O=EnOS, L=Shanghai, ST=Shanghai, C=CN`,
    signDate,
    [device.startDateField]: spec.effectiveDate,
    expireDate: spec.expireDate,
    audit: {
      createBy: device.orgId,
      createTime: signDate + 1_000,
      updateBy: device.orgId,
      updateTime: signDate + 1_000,
      ns: device.orgId,
      deleted: false,
    },
    revoker: spec.revoker ?? '',
    revokerReason: spec.revokerReason ?? '',
    isEnosCert: spec.isEnosCert ?? true,
    issueAuthority: spec.issueAuthority,
  };
}

function profileAt(profiles: CertificateProfiles, position: number): readonly CertificateKind[] {
  const count = profiles.length;
  const profile = profiles[((position % count) + count) % count];
  if (profile === undefined) throw new RangeError('no certificate profile');
  return profile[0];
}

type Dates = Pick<CertificateSpec, 'certStatus' | 'effectiveDate' | 'expireDate' | 'revoker' | 'revokerReason'>;

function datesFor(kind: CertificateKind, now: number, random: Random): Dates {
  const validFor = (expireDate: number): Dates => ({ certStatus: 0, effectiveDate: expireDate - 365 * DAY, expireDate });
  switch (kind) {
    case 'far':
      return {
        certStatus: 0,
        effectiveDate: now - random.int(1, 400) * DAY - random.int(0, 23) * HOUR,
        expireDate: now + random.int(60, 730) * DAY + random.int(0, 23) * HOUR,
      };
    case 'warning':
      return validFor(now + random.int(8, 28) * DAY + random.int(0, 23) * HOUR);
    case 'critical':
      return validFor(now + random.int(2, 150) * HOUR);
    case 'renewing':
      return validFor(now + random.int(3, 25) * DAY);
    case 'stale':
      return validFor(now - random.int(1, 10) * DAY);
    case 'expired':
      return { ...validFor(now - random.int(1, 300) * DAY), certStatus: 2 };
    case 'revoked':
      return {
        certStatus: 1,
        effectiveDate: now - random.int(30, 300) * DAY,
        expireDate: now + random.int(30, 300) * DAY,
        revoker: 'IoT_Hub',
        revokerReason: random.pick(REVOKE_REASONS),
      };
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(random: Random, length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += ALPHANUMERIC.charAt(random.int(0, ALPHANUMERIC.length - 1));
  return text;
}
