import { DAY_MS } from '../../../src/domain/certificate.js';
import type { Certificate, DeviceRef } from '../../../src/domain/types.js';

export const NOW = Date.parse('2026-06-01T00:00:00Z');
export const THRESHOLDS = { warningDays: 30, criticalDays: 7 };
export const DEVICE: DeviceRef = { orgId: 'o1', assetId: 'a1' };

/** A certificate ending `days` from NOW (fractions allowed). */
export function cert(certSN: string, days: number, status: Certificate['status'] = 'valid'): Certificate {
  return {
    certSN,
    status,
    notBefore: NOW - 365 * DAY_MS,
    notAfter: NOW + days * DAY_MS,
    issuer: 'CN=EnOS CA',
    subject: `CN=${certSN}`,
    issueAuthority: 'RSA',
    revoker: status === 'revoked' ? 'IoT_Hub' : '',
    revokerReason: status === 'revoked' ? 'KEY COMPROMISE' : '',
  };
}
