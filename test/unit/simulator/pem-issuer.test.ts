import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FleetAudit } from '../../../src/audit/fleet-audit.js';
import { PemReader } from '../../../src/audit/pem.js';
import { assessCertificates } from '../../../src/domain/certificate.js';
import { parseCertificateList } from '../../../src/enos/parse.js';
import { Fleet } from '../../../src/simulator/fleet.js';
import { formatAssetId } from '../../../src/simulator/generate.js';
import { issueCertificate, type SignatureScheme } from '../../../src/simulator/x509.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { manualClock } from '../../../src/util/clock.js';

const START = Date.parse('2026-06-01T00:00:00Z');

function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text', '-startdate', '-enddate'], { input: pem, encoding: 'utf8' });
}

describe('issueCertificate', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ed25519 = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it.each([
    ['sha256WithRSAEncryption', rsa.privateKey, 'sha256WithRSAEncryption'],
    ['sha1WithRSAEncryption', rsa.privateKey, 'sha1WithRSAEncryption'],
    ['ed25519', ed25519.privateKey, 'ED25519'],
  ] as const)('makes a certificate openssl reads and verifies: %s', (scheme, issuerKey, printed) => {
    const pem = issueCertificate({
      serial: 0xfedcba9876543210n,
      issuerCommonName: 'Test CA',
      subjectCommonName: 'dev-000001',
      notBefore: START,
      // After 2049: a GeneralizedTime.
      notAfter: Date.parse('2051-02-03T04:05:06Z'),
      subjectPublicKey: ec.publicKey,
      issuerKey,
      scheme: scheme as SignatureScheme,
    });
    const text = opensslText(pem);
    expect(text).toContain(`Signature Algorithm: ${printed}`);
    expect(text).toContain('Issuer: CN = Test CA');
    expect(text).toContain('Subject: CN = dev-000001');
    expect(text).toContain('Public-Key: (256 bit)');
    expect(text).toContain('notBefore=Jun  1 00:00:00 2026 GMT');
    expect(text).toContain('notAfter=Feb  3 04:05:06 2051 GMT');
    expect(text).toContain('fe:dc:ba:98:76:54:32:10');
    // The signature is real: it verifies with the issuer's public key, and not with another.
    const certificate = new X509Certificate(pem);
    expect(certificate.verify(issuerKey === rsa.privateKey ? rsa.publicKey : ed25519.publicKey)).toBe(true);
    expect(certificate.verify(ec.publicKey)).toBe(false);
  });
});

describe('simulate --pem: the fleet serves real certificates', () => {
  const fleet = new Fleet({ seed: 1, orgId: 'demo-org', devices: 30, minCertificates: 1, startTime: START, clock: manualClock(START), pem: true });
  const answer = (index: number) => fleet.certificates({ orgId: 'demo-org', assetId: formatAssetId(index) })!;

  it('gives every device its own PEM, the same on every query', () => {
    const first = answer(2)[0]!.cert;
    expect(String(first)).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(answer(2)[0]!.cert).toBe(first);
    expect(answer(4)[0]!.cert).not.toBe(first);
  });

  it('shows every finding the PEM can show, next to healthy EC P-256 and RSA-2048 certificates', () => {
    const view = new FleetView();
    const audit = new FleetAudit(view);
    const reader = new PemReader();
    for (let index = 1; index <= 30; index++) {
      const certificates = parseCertificateList({ status: 200, json: { code: 0, data: answer(index) } } as never);
      view.set({ id: `demo-org/${formatAssetId(index)}`, device: { orgId: 'demo-org', assetId: formatAssetId(index) }, query: 'ok', certificates });
      for (const raw of answer(index)) expect(reader.read(raw.cert)).not.toBe('unparseable');
    }
    const findings = new Set<string>();
    const keys = new Set<string>();
    for (const record of view.records()) {
      for (const { cert, state } of assessCertificates(record.certificates, START, { warningDays: 30, criticalDays: 7 })) {
        // Every certificate's findings, whatever its state: the mix is by device, not by state.
        for (const finding of audit.findings(cert, state === 'ok' ? 'ok' : 'warning', START)) findings.add(finding);
        if (typeof cert.pem === 'object') keys.add(`${cert.pem.keyAlgorithm}-${cert.pem.keyBits}`);
      }
    }
    expect([...findings].sort()).toEqual(['dates_mismatch', 'key_quality', 'shared', 'weak_signature']);
    expect([...keys].sort()).toEqual(['ec-256', 'rsa-1024', 'rsa-2048']);
  });
});
