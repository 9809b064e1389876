import { describe, expect, it } from 'vitest';
import { failOnCauses, type JsonReport, type ReportCertificate } from '../../../src/scan/report.js';
import { formatTable } from '../../../src/scan/table.js';

function cert(
  assetId: string,
  certSN: string,
  state: ReportCertificate['state'],
  notAfter: string,
  superseded = false,
  findings: string[] = [],
): ReportCertificate {
  return {
    orgId: 'o1',
    assetId,
    productKey: '',
    deviceKey: '',
    certSN,
    status: state === 'revoked' ? 'revoked' : 'valid',
    notBefore: null,
    notAfter,
    daysLeft: 3,
    state,
    superseded,
    findings,
  };
}

const REPORT: JsonReport = {
  startedAt: '2026-12-01T00:00:00.000Z',
  finishedAt: '2026-12-01T00:00:01.000Z',
  result: 'success',
  devices: { total: 5, ok: 3, notFound: 1, failed: 1 },
  certificates: [
    cert('a1', '11', 'ok', '2027-06-01T00:00:00.000Z'),
    cert('a1', '10', 'critical', '2026-12-04T00:00:00.000Z', true),
    cert('a2', '20', 'warning', '2026-12-20T00:00:00.000Z', false, ['key_quality', 'shared']),
    cert('a2', '21', 'revoked', '2027-01-01T00:00:00.000Z'),
    cert('a3', '30', 'critical', '2026-12-03T00:00:00.000Z'),
  ],
  changes: [],
  errors: [
    { orgId: 'o1', assetId: 'gone', productKey: '', deviceKey: '', source: 'device', reason: 'code_11404', message: 'no such device', lastAnswerAt: null },
    { orgId: 'o1', assetId: 'slow', productKey: '', deviceKey: '', source: 'device', reason: 'timeout', message: 'no answer', lastAnswerAt: '2026-11-30T00:00:00.000Z' },
    { orgId: '', assetId: '', productKey: '', deviceKey: '', source: 'file', file: '/x.csv', reason: 'no_header', message: '/x.csv: needs a header', lastAnswerAt: null },
  ],
  warnings: [{ source: 'discover', orgId: 'o9', reason: 'no_devices', message: 'discover o9: found no device' }],
  devicesWithoutCertificates: [{ orgId: 'o1', assetId: 'bare', productKey: '', deviceKey: '' }],
};

describe('formatTable', () => {
  it('lists current certificates soonest first, then bare devices, failures, inventory problems and a summary', () => {
    expect(formatTable(REPORT).split('\n')).toEqual([
      'DEVICE   CERT SN  STATUS   STATE           NOT AFTER                 DAYS LEFT  SUPERSEDED  FINDINGS',
      'o1/a3    30       valid    critical        2026-12-03T00:00:00.000Z  3',
      'o1/a2    20       valid    warning         2026-12-20T00:00:00.000Z  3                      key_quality,shared',
      'o1/a2    21       revoked  revoked         2027-01-01T00:00:00.000Z  3',
      'o1/a1    11       valid    ok              2027-06-01T00:00:00.000Z  3',
      'o1/bare  -        -        no certificate',
      '',
      'NOT QUERIED  RESULT     REASON      LAST ANSWER               MESSAGE',
      'o1/gone      not found  code_11404  -                         no such device',
      'o1/slow      failed     timeout     2026-11-30T00:00:00.000Z  no answer',
      '',
      'INVENTORY  REASON      MESSAGE',
      'error      no_header   /x.csv: needs a header',
      'warning    no_devices  discover o9: found no device',
      '',
      'needs action: 1 critical, 1 warning, 1 revoked, 1 devices failed, 1 devices not found',
      'next to expire: o1/a3 cert 30 on 2026-12-03T00:00:00.000Z (3 days left, critical)',
      'scan success: 5 devices (3 ok, 1 not found, 1 failed), 5 certificates (1 not shown: superseded or filtered out), 0 changes, 2026-12-01T00:00:00.000Z → 2026-12-01T00:00:01.000Z',
      '',
    ]);
  });

  it('shows superseded certificates on request and filters by state', () => {
    const lines = formatTable(REPORT, { showSuperseded: true, states: new Set(['critical']) }).split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'DEVICE  CERT SN  STATUS  STATE     NOT AFTER                 DAYS LEFT  SUPERSEDED  FINDINGS',
      'o1/a3   30       valid   critical  2026-12-03T00:00:00.000Z  3',
      'o1/a1   10       valid   critical  2026-12-04T00:00:00.000Z  3          yes',
    ]);
  });
});

describe('failOnCauses', () => {
  it('names the current certificates at or above the level, soonest first', () => {
    expect(failOnCauses(REPORT, 'critical')).toEqual(['o1/a3 cert 30: critical, notAfter 2026-12-03T00:00:00.000Z (3 days left)']);
    expect(failOnCauses(REPORT, 'warning')).toHaveLength(2);
    expect(failOnCauses(REPORT, 'never')).toEqual([]);
  });
});
