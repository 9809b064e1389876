import type { AssessedCertificate } from './certificate.js';
import type { CertificateState, DeviceState } from './types.js';

/** How the device's last query ended. */
export type QueryResult = 'ok' | 'not_found' | 'error';

const USABLE_RANK: Partial<Record<CertificateState, number>> = { ok: 3, warning: 2, critical: 1 };

/**
 * Contract: the best state among its usable (ok/warning/critical) certificates;
 * no_valid_certificate when it has certificates but none usable; no_certificate when it has none.
 */
export function deviceState(query: QueryResult, certs: readonly AssessedCertificate[]): DeviceState {
  if (query !== 'ok') return query;
  if (certs.length === 0) return 'no_certificate';
  let best: DeviceState = 'no_valid_certificate';
  let bestRank = 0;
  for (const { state } of certs) {
    const rank = USABLE_RANK[state] ?? 0;
    if (rank > bestRank) {
      bestRank = rank;
      best = state as DeviceState;
    }
  }
  return best;
}
