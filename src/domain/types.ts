/** A device as the inventory knows it: orgId plus assetId, or orgId plus productKey+deviceKey. */
export interface DeviceRef {
  readonly orgId: string;
  readonly assetId?: string;
  readonly productKey?: string;
  readonly deviceKey?: string;
}

/** `certStatus` 0, 1, 2 of the List Certificate API. */
export type CertificateStatus = 'valid' | 'revoked' | 'expired';

/** Derived from status, notAfter and the thresholds (contract: domain rules). */
export const CERTIFICATE_STATES = ['ok', 'warning', 'critical', 'expired', 'revoked'] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

export const DEVICE_STATES = [
  'ok',
  'warning',
  'critical',
  'no_valid_certificate',
  'no_certificate',
  'not_found',
  'error',
] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** A certificate as validated from a List Certificate answer. Timestamps are epoch milliseconds. */
export interface Certificate {
  readonly certSN: string;
  readonly status: CertificateStatus;
  readonly notBefore: number | null;
  readonly notAfter: number;
  readonly issuer: string;
  readonly subject: string;
  readonly issueAuthority: string;
  readonly revoker: string;
  readonly revokerReason: string;
  /** What the certificate's own content (`cert`) says; absent when `cert` is not a PEM certificate. */
  readonly pem?: PemContent;
}

/**
 * A PEM certificate as read once per distinct content: a few numbers and shared strings, never
 * the parsed object. `unparseable`: it looked like a PEM certificate but is not a valid one.
 */
export type PemContent = X509Summary | 'unparseable';

export interface X509Summary {
  /** `rsa`, `rsa-pss`, `ec`, `ed25519`, `ed448`, `dsa`, … or the dotted OID of an unknown one. */
  readonly keyAlgorithm: string;
  /** Null where the key type has no size the monitor knows (unknown algorithm or curve). */
  readonly keyBits: number | null;
  /** OpenSSL's name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `ED25519`, …) or the dotted OID. */
  readonly signatureAlgorithm: string;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprintSha256: string;
  /** Epoch milliseconds, from the certificate's validity. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export type ChangeType = 'added' | 'removed' | 'revoked' | 'expired' | 'renewed';

/**
 * One recorded change. `from`/`to` are statuses for added/removed/revoked/expired
 * (null where there is none); for `renewed`, certSN is the renewed certificate,
 * `from` its state before and `to` the certSN of the certificate that supersedes it.
 */
export interface ChangeEvent {
  readonly type: ChangeType;
  readonly orgId: string;
  readonly assetId: string;
  readonly productKey: string;
  readonly deviceKey: string;
  readonly certSN: string;
  readonly from: string | null;
  readonly to: string | null;
  /** ISO 8601 */
  readonly at: string;
  /** Present on `revoked` events, so the revoked alert can carry them. */
  readonly revoker?: string;
  readonly revokerReason?: string;
}

/** The certificates of one device after its last successful query. */
export interface Snapshot {
  readonly device: DeviceRef;
  readonly certificates: readonly Certificate[];
  /** Epoch ms of the query that produced it. */
  readonly queriedAt: number;
}

export interface Thresholds {
  readonly warningDays: number;
  readonly criticalDays: number;
}
