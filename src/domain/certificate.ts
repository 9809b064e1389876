import type { Certificate, CertificateState, CertificateStatus, Thresholds } from './types.js';

export const DAY_MS = 86_400_000;

/** Contract: revoked; expired (status or notAfter passed); critical/warning within the thresholds; else ok. */
export function certificateState(cert: Certificate, now: number, thresholds: Thresholds): CertificateState {
  return stateAt(cert.status, cert.notAfter, now, thresholds);
}

/** The state from the only two fields it depends on, for indexes that keep just these. */
export function stateAt(status: CertificateStatus, notAfter: number, now: number, thresholds: Thresholds): CertificateState {
  if (status === 'revoked') return 'revoked';
  if (status === 'expired' || notAfter <= now) return 'expired';
  const left = notAfter - now;
  if (left <= thresholds.criticalDays * DAY_MS) return 'critical';
  if (left <= thresholds.warningDays * DAY_MS) return 'warning';
  return 'ok';
}

/** Whole days until notAfter, negative once it has passed. */
export function daysLeft(cert: Certificate, now: number): number {
  return Math.floor((cert.notAfter - now) / DAY_MS);
}

/** A certificate with everything derived from it at one instant. */
export interface AssessedCertificate {
  readonly cert: Certificate;
  readonly state: CertificateState;
  readonly superseded: boolean;
  readonly daysLeft: number;
}

/**
 * States and `superseded` for one device's certificates. A certificate is superseded when
 * another valid certificate of the device in state ok ends later: the device was renewed.
 */
export function assessCertificates(
  certs: readonly Certificate[],
  now: number,
  thresholds: Thresholds,
): AssessedCertificate[] {
  const states = certs.map((cert) => certificateState(cert, now, thresholds));
  let latestHealthyNotAfter = -Infinity;
  certs.forEach((cert, index) => {
    if (states[index] === 'ok' && cert.notAfter > latestHealthyNotAfter) latestHealthyNotAfter = cert.notAfter;
  });
  return certs.map((cert, index) => ({
    cert,
    state: states[index]!,
    superseded: latestHealthyNotAfter > cert.notAfter,
    daysLeft: daysLeft(cert, now),
  }));
}
