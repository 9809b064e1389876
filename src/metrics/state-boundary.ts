import { DAY_MS } from '../domain/certificate.js';
import type { Certificate, Thresholds } from '../domain/types.js';

/**
 * The first instant after `now` at which `certificateState(cert, …)` can differ from its value
 * at `now`: a valid certificate moves at notAfter − warningDays, notAfter − criticalDays and
 * notAfter; revoked and expired ones never move. Infinity when nothing is ahead.
 */
export function nextStateChange(cert: Certificate, now: number, thresholds: Thresholds): number {
  if (cert.status !== 'valid') return Infinity;
  let next = Infinity;
  for (const days of [thresholds.warningDays, thresholds.criticalDays, 0]) {
    const boundary = cert.notAfter - days * DAY_MS;
    if (boundary > now && boundary < next) next = boundary;
  }
  return next;
}
