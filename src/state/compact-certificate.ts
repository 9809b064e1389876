import type { Certificate, DeviceRef } from '../domain/types.js';
import { packInstant, unpackInstant, type PackedInstant } from './packed-instant.js';
import type { StringPool } from './string-pool.js';

/**
 * Stand-ins for the device's own identifiers inside a distinguished name (Unicode private use
 * characters). A subject such as `CN=dev-000123, OU=EnOS, …` is held as `CN=\uE000, OU=EnOS, …`:
 * one shared pattern for the whole fleet instead of a 100-byte string per certificate.
 */
const DEVICE_KEY_MARK = '\uE000';
const ASSET_ID_MARK = '\uE001';
/** Starts a pattern that is the name itself: one that holds a mark character of its own. */
const LITERAL_MARK = '\uE002';
const MARKS = /[\uE000-\uE002]/;
const MARKS_GLOBAL = /[\uE000\uE001]/g;
/** Shorter identifiers are left in place: replacing them saves nothing and may hit unrelated text. */
const MIN_REPLACED_LENGTH = 3;

/** The fields CompactCertificate holds itself. */
type BaseField =
  | 'certSN'
  | 'status'
  | 'notBefore'
  | 'notAfter'
  | 'issuer'
  | 'subject'
  | 'issueAuthority'
  | 'revoker'
  | 'revokerReason';

/**
 * Optional per-certificate fields other modules add to Certificate (see FleetView): carried over
 * as they are, so their values must be compact already. Nothing else of the caller's object is
 * kept (a raw PEM or answer never is).
 */
const EXTENSION_FIELDS = ['pem'] as const satisfies ReadonlyArray<keyof Certificate>;

type UnlistedField = Exclude<keyof Certificate, BaseField | (typeof EXTENSION_FIELDS)[number]>;
// Fails to compile when Certificate gains a field that is neither kept nor listed as an extension.
const _everyFieldKept: UnlistedField extends never ? true : never = true;
void _everyFieldKept;

/**
 * A certificate as the FleetView holds it: repeated strings shared, distinguished names as
 * patterns over the device's identifiers (exact: `issuer` and `subject` read back the original
 * text), dates unboxed (packed-instant.ts): about 140 bytes instead of 450.
 */
class CompactCertificate implements Certificate {
  readonly certSN: string;
  readonly status: Certificate['status'];
  readonly issueAuthority: string;
  readonly revoker: string;
  readonly revokerReason: string;
  readonly #notBefore: PackedInstant | null;
  readonly #notAfter: PackedInstant;
  readonly #issuer: string;
  readonly #subject: string;
  readonly #device: DeviceRef;

  constructor(cert: Certificate, device: DeviceRef, pool: StringPool) {
    this.certSN = cert.certSN;
    this.status = cert.status;
    this.#notBefore = cert.notBefore === null ? null : packInstant(cert.notBefore);
    this.#notAfter = packInstant(cert.notAfter);
    this.issueAuthority = pool.intern(cert.issueAuthority);
    this.revoker = pool.intern(cert.revoker);
    this.revokerReason = pool.intern(cert.revokerReason);
    this.#issuer = pool.intern(dnPattern(cert.issuer, device));
    this.#subject = pool.intern(dnPattern(cert.subject, device));
    this.#device = device;
  }

  get notBefore(): number | null {
    return this.#notBefore === null ? null : unpackInstant(this.#notBefore);
  }

  get notAfter(): number {
    return unpackInstant(this.#notAfter);
  }

  get issuer(): string {
    return expandDn(this.#issuer, this.#device);
  }

  get subject(): string {
    return expandDn(this.#subject, this.#device);
  }

  /** JSON sees every field, in the order of a plain Certificate. */
  toJSON(): Certificate {
    const { certSN, status, notBefore, notAfter, issuer, subject, issueAuthority, revoker, revokerReason } = this;
    return withExtensions(this, { certSN, status, notBefore, notAfter, issuer, subject, issueAuthority, revoker, revokerReason });
  }
}

/** The compact form of `cert`, whose `device` must be the (compact) device it belongs to. */
export function compactCertificate(cert: Certificate, device: DeviceRef, pool: StringPool): Certificate {
  return withExtensions(cert, new CompactCertificate(cert, device, pool));
}

/** `to` with the extension fields `from` has. */
function withExtensions<T extends Certificate>(from: Certificate, to: T): T {
  for (const field of EXTENSION_FIELDS) {
    if (from[field] !== undefined) (to as Record<string, unknown>)[field] = from[field];
  }
  return to;
}

/** A plain copy: what tests and logs compare, with no pattern or getter left. */
export function plainCertificate(cert: Certificate): Certificate {
  return cert instanceof CompactCertificate ? cert.toJSON() : { ...cert };
}

/** `dn` with the device's key and asset id replaced by marks (a name holding marks already is kept literally). */
export function dnPattern(dn: string, device: DeviceRef): string {
  if (MARKS.test(dn)) return LITERAL_MARK + dn;
  let pattern = dn;
  const { deviceKey, assetId } = device;
  if (deviceKey !== undefined && deviceKey.length >= MIN_REPLACED_LENGTH && !MARKS.test(deviceKey)) {
    pattern = pattern.split(deviceKey).join(DEVICE_KEY_MARK);
  }
  if (assetId !== undefined && assetId.length >= MIN_REPLACED_LENGTH && !MARKS.test(assetId)) {
    pattern = pattern.split(assetId).join(ASSET_ID_MARK);
  }
  return pattern;
}

/** The inverse of dnPattern for the same device. */
export function expandDn(pattern: string, device: DeviceRef): string {
  if (pattern.startsWith(LITERAL_MARK)) return pattern.slice(1);
  if (!MARKS.test(pattern)) return pattern;
  return pattern.replace(MARKS_GLOBAL, (mark) => (mark === DEVICE_KEY_MARK ? device.deviceKey! : device.assetId!));
}
