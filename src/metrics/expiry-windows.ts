import { DAY_MS, type AssessedCertificate } from '../domain/certificate.js';
import type { Certificate } from '../domain/types.js';

/** `enos_certificates_expiring{within_days}`: cumulative windows, like histogram buckets. */
export const EXPIRY_WINDOW_DAYS = [7, 30, 90, 180, 365] as const;

/** A certificate that no window counts. */
export const NO_WINDOW = EXPIRY_WINDOW_DAYS.length;

/**
 * The smallest window a certificate falls in: valid, not superseded, not yet ended, and its
 * notAfter within that many days of now. NO_WINDOW when it is not counted.
 */
export function expiryWindow({ cert, superseded }: AssessedCertificate, now: number): number {
  if (cert.status !== 'valid' || superseded || cert.notAfter <= now) return NO_WINDOW;
  const left = cert.notAfter - now;
  const index = EXPIRY_WINDOW_DAYS.findIndex((days) => left <= days * DAY_MS);
  return index < 0 ? NO_WINDOW : index;
}

/** The first instant after `now` at which the certificate enters a smaller window. */
export function nextWindowChange(cert: Certificate, now: number): number {
  if (cert.status !== 'valid') return Infinity;
  let next = Infinity;
  for (const days of EXPIRY_WINDOW_DAYS) {
    const boundary = cert.notAfter - days * DAY_MS;
    if (boundary > now && boundary < next) next = boundary;
  }
  return next;
}
