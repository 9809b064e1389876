import { describe, expect, it } from 'vitest';
import { parseFindingList, trippedFindings } from '../../../src/audit/finding-gate.js';
import type { ReportCertificate } from '../../../src/scan/report.js';

function certificate(assetId: string, findings: string[]): ReportCertificate {
  return {
    orgId: 'o1',
    assetId,
    productKey: '',
    deviceKey: '',
    certSN: `sn-${assetId}`,
    status: 'valid',
    notBefore: null,
    notAfter: '2027-01-01T00:00:00.000Z',
    daysLeft: 100,
    state: 'ok',
    superseded: false,
    findings,
  };
}

describe('--fail-on-finding', () => {
  it('reads a comma-separated list of finding names', () => {
    expect(parseFindingList('--fail-on-finding', '')).toEqual([]);
    expect(parseFindingList('--fail-on-finding', 'weak_signature, key_quality,')).toEqual(['weak_signature', 'key_quality']);
  });

  it('rejects a name that is not a finding, naming it and the valid ones', () => {
    expect(() => parseFindingList('--fail-on-finding', 'shared,weak')).toThrow(
      '--fail-on-finding: unknown finding "weak"; one of: key_quality, weak_signature, shared, age, dates_mismatch, unparseable',
    );
  });

  it('names each tripped finding with its first certificates, and nothing when none has them', () => {
    const certificates = [
      certificate('a1', ['shared', 'weak_signature']),
      ...Array.from({ length: 6 }, (_, index) => certificate(`b${index}`, ['shared'])),
      certificate('c1', []),
    ];
    expect(trippedFindings(certificates, ['weak_signature', 'shared', 'age'])).toEqual([
      'finding weak_signature on 1 certificate: o1/a1 sn-a1',
      'finding shared on 7 certificates: o1/a1 sn-a1, o1/b0 sn-b0, o1/b1 sn-b1, o1/b2 sn-b2, o1/b3 sn-b3 and 2 more',
    ]);
    expect(trippedFindings(certificates, ['age', 'unparseable'])).toEqual([]);
    expect(trippedFindings(certificates, [])).toEqual([]);
  });
});
