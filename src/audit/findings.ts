import { DAY_MS } from '../domain/certificate.js';
import type { Certificate, CertificateState } from '../domain/types.js';
import { WEAK_SIGNATURE_ALGORITHMS } from './algorithms.js';

/** The audit's findings, a fixed set shared by metrics, JSON, the table and `--fail-on-finding`. */
export const FINDINGS = ['key_quality', 'weak_signature', 'shared', 'age', 'dates_mismatch', 'unparseable'] as const;
export type Finding = (typeof FINDINGS)[number];

/** The `audit:` config section. */
export interface AuditConfig {
  readonly minRsaBits: number;
  readonly minEcBits: number;
  /** 0: the age finding is off. */
  readonly maxAgeDays: number;
  readonly dateToleranceSeconds: number;
}

/** Certificates in other states (expired, revoked) are past auditing. */
export function isAudited(state: CertificateState): boolean {
  return state === 'ok' || state === 'warning' || state === 'critical';
}

const BIT: Readonly<Record<Finding, number>> = Object.fromEntries(FINDINGS.map((finding, index) => [finding, 1 << index])) as Record<
  Finding,
  number
>;

/**
 * One audited certificate's findings as a bit set over FINDINGS (a small integer per
 * certificate). `shared` is the fleet's verdict: whether another device holds the same certificate.
 */
export function findingBits(cert: Certificate, shared: boolean, now: number, config: AuditConfig): number {
  let bits = shared ? BIT.shared : 0;
  const pem = cert.pem;
  if (pem === 'unparseable') bits |= BIT.unparseable;
  else if (pem !== undefined) {
    if (weakKey(pem.keyAlgorithm, pem.keyBits, config)) bits |= BIT.key_quality;
    if (WEAK_SIGNATURE_ALGORITHMS.has(pem.signatureAlgorithm)) bits |= BIT.weak_signature;
    const tolerance = config.dateToleranceSeconds * 1000;
    const notBeforeOff = cert.notBefore !== null && Math.abs(pem.notBefore - cert.notBefore) > tolerance;
    if (notBeforeOff || Math.abs(pem.notAfter - cert.notAfter) > tolerance) bits |= BIT.dates_mismatch;
  }
  const ageLimit = ageBoundary(cert, config);
  if (ageLimit !== undefined && now > ageLimit) bits |= BIT.age;
  return bits;
}

/** When the certificate gets too old (the age finding starts); undefined when the check is off or no start is known. */
export function ageBoundary(cert: Certificate, config: AuditConfig): number | undefined {
  if (config.maxAgeDays <= 0) return undefined;
  const notBefore = cert.notBefore ?? (typeof cert.pem === 'object' ? cert.pem.notBefore : null);
  return notBefore === null ? undefined : notBefore + config.maxAgeDays * DAY_MS;
}

function weakKey(algorithm: string, bits: number | null, config: AuditConfig): boolean {
  if (bits === null) return false;
  if (algorithm === 'rsa' || algorithm === 'rsa-pss') return bits < config.minRsaBits;
  if (algorithm === 'ec') return bits < config.minEcBits;
  return false;
}

export function hasFinding(bits: number, finding: Finding): boolean {
  return (bits & BIT[finding]) !== 0;
}

export function findingNames(bits: number): Finding[] {
  return FINDINGS.filter((finding) => hasFinding(bits, finding));
}

/** `--fail-on-finding` and friends: the names that are not findings. */
export function unknownFindings(names: readonly string[]): string[] {
  return names.filter((name) => !(FINDINGS as readonly string[]).includes(name));
}
