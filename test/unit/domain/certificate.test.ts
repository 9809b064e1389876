import { describe, expect, it } from 'vitest';
import { assessCertificates, certificateState, daysLeft } from '../../../src/domain/certificate.js';
import { cert, NOW, THRESHOLDS } from './fixtures.js';

describe('certificateState', () => {
  it.each([
    ['valid, far from expiry', cert('1', 90), 'ok'],
    ['valid, just outside warning', cert('1', 30.01), 'ok'],
    ['valid, exactly warningDays left', cert('1', 30), 'warning'],
    ['valid, within warning', cert('1', 10), 'warning'],
    ['valid, exactly criticalDays left', cert('1', 7), 'critical'],
    ['valid, within critical', cert('1', 0.5), 'critical'],
    ['valid, notAfter is now', cert('1', 0), 'expired'],
    ['valid, notAfter passed', cert('1', -3), 'expired'],
    ['status expired, notAfter in the future', cert('1', 90, 'expired'), 'expired'],
    ['revoked, far from expiry', cert('1', 90, 'revoked'), 'revoked'],
    ['revoked and past notAfter', cert('1', -10, 'revoked'), 'revoked'],
  ] as const)('%s → %s', (_name, certificate, expected) => {
    expect(certificateState(certificate, NOW, THRESHOLDS)).toBe(expected);
  });
});

describe('daysLeft', () => {
  it.each([
    [90, 90],
    [0.5, 0],
    [-0.5, -1],
    [-3, -3],
  ])('%s days ahead → %s', (days, expected) => {
    expect(daysLeft(cert('1', days), NOW)).toBe(expected);
  });
});

describe('superseded', () => {
  it.each([
    ['a single certificate', [cert('old', 5)], []],
    ['near expiry, a later healthy one exists', [cert('old', 5), cert('new', 365)], ['old']],
    ['expired, a later healthy one exists', [cert('old', -5, 'expired'), cert('new', 365)], ['old']],
    ['the later one is itself in warning', [cert('old', 5), cert('new', 20)], []],
    ['the later one is revoked', [cert('old', 5), cert('new', 365, 'revoked')], []],
    ['the later one has status expired', [cert('old', 5), cert('new', 365, 'expired')], []],
    ['two healthy: the earlier is superseded', [cert('a', 100), cert('b', 200)], ['a']],
    ['revoked older one is superseded too', [cert('r', 50, 'revoked'), cert('new', 365)], ['r']],
    ['equal notAfter does not supersede', [cert('a', 100), cert('b', 100)], []],
  ] as const)('%s', (_name, certs, expected) => {
    const superseded = assessCertificates(certs, NOW, THRESHOLDS)
      .filter((assessed) => assessed.superseded)
      .map((assessed) => assessed.cert.certSN);
    expect(superseded).toEqual(expected);
  });
});
