import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIT_CONFIG, FleetAudit } from '../../../src/audit/fleet-audit.js';
import { FINDINGS, findingNames, unknownFindings, type AuditConfig } from '../../../src/audit/findings.js';
import { PemReader } from '../../../src/audit/pem.js';
import { DAY_MS } from '../../../src/domain/certificate.js';
import type { Certificate, CertificateState, X509Summary } from '../../../src/domain/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { opensslCertificate, type KeySpec } from '../../support/openssl-certificates.js';
import { cert, record } from '../metrics/fixtures.js';

const MADE: Readonly<Record<string, { key: KeySpec; digest?: 'sha1' | 'md5' }>> = {
  rsa2048: { key: 'rsa:2048' },
  rsa1024: { key: 'rsa:1024' },
  sha1: { key: 'ec:P-256', digest: 'sha1' },
  md5: { key: 'rsa:2048', digest: 'md5' },
  p256: { key: 'ec:P-256' },
  p192: { key: 'ec:P-192' },
  ed25519: { key: 'ed25519' },
};

const summaries = new Map<string, X509Summary>();
const reader = new PemReader();

/** A certificate as the API would report the PEM `name`: its dates agree with the PEM's unless overridden. */
function certificateWith(name: string, overrides: Partial<Certificate> = {}): Certificate {
  const pem = summaries.get(name)!;
  return cert(`sn-${name}`, 0, { notBefore: pem.notBefore, notAfter: pem.notAfter, pem, ...overrides });
}

function findingsOf(certificate: Certificate, config: Partial<AuditConfig> = {}, state: CertificateState = 'ok', now = Date.now()): string[] {
  const fleet = new FleetView();
  fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [certificate]));
  return new FleetAudit(fleet, { ...DEFAULT_AUDIT_CONFIG, ...config }).findings(certificate, state, now);
}

beforeAll(() => {
  for (const [name, options] of Object.entries(MADE)) summaries.set(name, reader.read(opensslCertificate(options).pem) as X509Summary);
});

describe('certificate findings (real certificates made by openssl)', () => {
  it.each([
    ['rsa2048', {}, []],
    ['p256', {}, []],
    ['ed25519', {}, []],
    ['rsa1024', {}, ['key_quality']],
    ['rsa1024', { minRsaBits: 1024 }, []],
    ['rsa2048', { minRsaBits: 3072 }, ['key_quality']],
    ['p192', {}, ['key_quality']],
    ['p256', { minEcBits: 384 }, ['key_quality']],
    ['sha1', {}, ['weak_signature']],
    ['md5', {}, ['weak_signature']],
  ] as const)('%s with %j: %j', (name, config, expected) => {
    expect(findingsOf(certificateWith(name), config)).toEqual(expected);
  });

  it('dates_mismatch: the PEM and the API disagree on notAfter or notBefore by more than the tolerance', () => {
    const pem = summaries.get('p256')!;
    const tolerance = DEFAULT_AUDIT_CONFIG.dateToleranceSeconds * 1000;
    expect(findingsOf(certificateWith('p256', { notAfter: pem.notAfter + tolerance }))).toEqual([]);
    expect(findingsOf(certificateWith('p256', { notAfter: pem.notAfter + tolerance + 1000 }))).toEqual(['dates_mismatch']);
    expect(findingsOf(certificateWith('p256', { notBefore: pem.notBefore - tolerance - 1000 }))).toEqual(['dates_mismatch']);
    expect(findingsOf(certificateWith('p256', { notBefore: null }))).toEqual([]);
    expect(findingsOf(certificateWith('p256', { notAfter: pem.notAfter + 10_000 }), { dateToleranceSeconds: 5 })).toEqual(['dates_mismatch']);
  });

  it('age: off by default; on, from the API notBefore, or the PEM one when the API has none', () => {
    const pem = summaries.get('p256')!;
    const later = pem.notBefore + 11 * DAY_MS;
    expect(findingsOf(certificateWith('p256'), {}, 'ok', later)).toEqual([]);
    expect(findingsOf(certificateWith('p256'), { maxAgeDays: 10 }, 'ok', later)).toEqual(['age']);
    expect(findingsOf(certificateWith('p256'), { maxAgeDays: 12 }, 'ok', later)).toEqual([]);
    expect(findingsOf(certificateWith('p256', { notBefore: null }), { maxAgeDays: 10 }, 'ok', later)).toEqual(['age']);
    expect(findingsOf(cert('plain', 100, { notBefore: later - 20 * DAY_MS }), { maxAgeDays: 10 }, 'ok', later)).toEqual(['age']);
  });

  it('unparseable, and nothing at all for a cert that is not PEM', () => {
    expect(findingsOf(cert('broken', 100, { pem: 'unparseable' }))).toEqual(['unparseable']);
    expect(findingsOf(cert('plain', 100, { pem: reader.read('52725') }))).toEqual([]);
  });

  it('audits only certificates in state ok, warning or critical', () => {
    const weak = certificateWith('rsa1024');
    for (const state of ['ok', 'warning', 'critical'] as const) expect(findingsOf(weak, {}, state)).toEqual(['key_quality']);
    for (const state of ['expired', 'revoked'] as const) expect(findingsOf(weak, {}, state)).toEqual([]);
  });

  it('names findings in a fixed order and knows which names are not findings', () => {
    expect(findingNames(0b111111)).toEqual([...FINDINGS]);
    expect(unknownFindings(['shared', 'age', 'nope', 'Shared'])).toEqual(['nope', 'Shared']);
  });
});

describe('shared: the same certificate on more than one device, fleet-wide', () => {
  const a = { orgId: 'o1', assetId: 'a' };
  const b = { orgId: 'o2', productKey: 'p', deviceKey: 'b' };
  const c = { orgId: 'o1', assetId: 'c' };

  it('follows devices as they get, share, change and lose certificates, across orgs', () => {
    const fleet = new FleetView();
    const audit = new FleetAudit(fleet);
    const shared = (certificate: Certificate) => audit.findings(certificate, 'ok', Date.now()).includes('shared');
    // The same PEM under another certSN is still the same certificate.
    const onA = certificateWith('p256');
    const onB = certificateWith('p256', { certSN: 'other-sn' });
    fleet.set(record(a, [onA, certificateWith('rsa2048')]));
    expect(shared(onA)).toBe(false);
    fleet.set(record(b, [onB]));
    expect([shared(onA), shared(onB), shared(certificateWith('rsa2048'))]).toEqual([true, true, false]);
    fleet.set(record(c, [onA]));
    fleet.delete('o1/a');
    expect(shared(onA)).toBe(true);
    fleet.set(record(b, [certificateWith('ed25519')]));
    expect(shared(onA)).toBe(false);
  });

  it('without a parseable PEM, compares issuer and certSN', () => {
    const fleet = new FleetView();
    fleet.set(record(a, [cert('sn-1', 100), cert('sn-2', 100, { pem: 'unparseable' })]));
    fleet.set(record(b, [cert('sn-1', 200), cert('sn-2', 100, { issuer: 'CN=another CA', pem: 'unparseable' })]));
    // Built after the devices: the index starts from the fleet as it is.
    const audit = new FleetAudit(fleet);
    expect(audit.findings(cert('sn-1', 100), 'ok', Date.now())).toEqual(['shared']);
    expect(audit.findings(cert('sn-2', 100, { pem: 'unparseable' }), 'ok', Date.now())).toEqual(['unparseable']);
  });

  it('a certificate listed twice by one device is not shared', () => {
    const fleet = new FleetView();
    const audit = new FleetAudit(fleet);
    fleet.set(record(a, [certificateWith('p256'), certificateWith('p256', { certSN: 'again' })]));
    expect(audit.findings(certificateWith('p256'), 'ok', Date.now())).toEqual([]);
    fleet.set(record(a, [certificateWith('p256')]));
    fleet.delete('o1/a');
    fleet.set(record(b, [certificateWith('p256')]));
    expect(audit.findings(certificateWith('p256'), 'ok', Date.now())).toEqual([]);
  });
});
