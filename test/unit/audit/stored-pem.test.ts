import { beforeAll, describe, expect, it } from 'vitest';
import { PemReader } from '../../../src/audit/pem.js';
import { sameCertificates } from '../../../src/domain/same-certificates.js';
import type { Certificate, X509Summary } from '../../../src/domain/types.js';
import { CorruptEntryError, decodeSnapshotEntry, encodeSnapshotEntry } from '../../../src/state/codec.js';
import { opensslCertificate } from '../../support/openssl-certificates.js';
import { cert } from '../metrics/fixtures.js';

let summary: X509Summary;
beforeAll(() => {
  summary = new PemReader().read(opensslCertificate({ key: 'ec:P-256' }).pem) as X509Summary;
});

const device = { orgId: 'o1', assetId: 'a1' };
const roundTrip = (certificates: Certificate[]): Certificate[] =>
  decodeSnapshotEntry(encodeSnapshotEntry(1, { device, certificates, queriedAt: 1 })).snapshot.certificates as Certificate[];

describe('a certificate read from its PEM, in the store', () => {
  it('keeps what the PEM said, compactly, and nothing of the PEM itself', () => {
    const certificates = [cert('read', 100, { pem: summary }), cert('broken', 100, { pem: 'unparseable' }), cert('plain', 100)];
    const encoded = encodeSnapshotEntry(1, { device, certificates, queriedAt: 1 });
    expect(encoded).not.toContain('keyAlgorithm');
    expect(encoded).not.toContain('BEGIN');
    const decoded = roundTrip(certificates);
    expect(decoded).toEqual(certificates);
    // Names come back as the shared copies every other certificate uses.
    const pem = decoded[0]!.pem as X509Summary;
    expect(pem.signatureAlgorithm).toBe(summary.signatureAlgorithm);
    expect(sameCertificates(decoded, certificates)).toBe(true);
  });

  it('counts a certificate whose PEM changed, appeared or went away as changed', () => {
    const stored = [cert('sn', 100, { pem: summary })];
    expect(sameCertificates(stored, [cert('sn', 100, { pem: { ...summary, fingerprintSha256: '0'.repeat(64) } })])).toBe(false);
    expect(sameCertificates(stored, [cert('sn', 100)])).toBe(false);
    expect(sameCertificates([cert('sn', 100)], [cert('sn', 100, { pem: 'unparseable' })])).toBe(false);
  });

  it('rejects a stored summary of the wrong shape as a corrupt entry', () => {
    const encoded = encodeSnapshotEntry(1, { device, certificates: [cert('sn', 100, { pem: summary })], queriedAt: 1 });
    expect(() => decodeSnapshotEntry(encoded.replace(summary.fingerprintSha256, 'not-hex'))).toThrow(CorruptEntryError);
  });
});
