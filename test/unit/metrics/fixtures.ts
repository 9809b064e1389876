import { DAY_MS } from '../../../src/domain/certificate.js';
import { deviceId } from '../../../src/domain/device-id.js';
import type { QueryResult } from '../../../src/domain/device.js';
import type { Certificate, DeviceRef } from '../../../src/domain/types.js';
import type { DeviceRecord } from '../../../src/state/fleet-view.js';

export const NOW = Date.parse('2026-06-01T00:00:00Z');
export const THRESHOLDS = { warningDays: 30, criticalDays: 7 };

/** A certificate ending `days` after NOW. */
export function cert(certSN: string, days: number, overrides: Partial<Certificate> = {}): Certificate {
  return {
    certSN,
    status: 'valid',
    notBefore: NOW - 365 * DAY_MS,
    notAfter: NOW + days * DAY_MS,
    issuer: 'EMAILADDRESS=ca@example.com, CN=EnOS CA, OU=EnOS CA, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
    subject: `EMAILADDRESS=x, OU=EnOS, CN=${certSN}, O=EnOS`,
    issueAuthority: 'RSA',
    revoker: '',
    revokerReason: '',
    ...overrides,
  };
}

export function record(device: DeviceRef, certificates: Certificate[], query: QueryResult = 'ok'): DeviceRecord {
  return { id: deviceId(device), device, query, certificates, ...(query === 'ok' ? {} : { reason: 'timeout' }) };
}

const TEN_KB = 'x'.repeat(10_240);

/**
 * Devices whose ids, serials and names hold everything a label value must survive: quotes,
 * backslashes, newlines, control characters, lone surrogates, emoji, 10 kB strings.
 */
export function hostileRecords(): DeviceRecord[] {
  return [
    record({ orgId: 'o"1', assetId: 'a\\1\nline' }, [
      cert('sn"quote', 20, {
        subject: 'EMAILADDRESS=x, OU=EnOS, CN=Smith\\, "John"\\\\ \\0A, O=EnOS',
        issuer: 'CN=EnOS "CA"\n\\evil',
        issueAuthority: 'RSA\u0000\u0007\u001b[31m',
      }),
      cert('sn\\back', 90, { status: 'revoked', notBefore: null }),
    ]),
    record({ orgId: 'org-ünïcødé-😀', productKey: 'pk\r\n', deviceKey: 'dk\u0085\u2028' }, [
      cert('😀'.repeat(100), 3, { subject: `CN=${'😀'.repeat(100)}`, issuer: `CN=${TEN_KB}` }),
      cert('lone\ud800surrogate\udc00', -5, { status: 'expired', subject: 'CN=\udfff' }),
    ]),
    record({ orgId: TEN_KB, assetId: TEN_KB }, [cert(TEN_KB, 400, { subject: TEN_KB, issuer: TEN_KB, issueAuthority: TEN_KB })]),
    record({ orgId: 'o1', assetId: 'gone' }, [], 'not_found'),
    record({ orgId: 'o1', assetId: 'failing' }, [cert('kept', 100)], 'error'),
    record({ orgId: 'o1', assetId: 'empty' }, []),
  ];
}
