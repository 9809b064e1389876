import { describe, expect, it } from 'vitest';
import { diffCertificates } from '../../../src/domain/diff.js';
import type { Certificate } from '../../../src/domain/types.js';
import { cert, DEVICE, NOW, THRESHOLDS } from './fixtures.js';

type Row = [string, Certificate[] | undefined, Certificate[], Array<[string, string, string | null, string | null]>];

describe('diffCertificates', () => {
  it.each<Row>([
    ['first sight is the baseline, even with a revoked one', undefined, [cert('1', 90), cert('2', 10, 'revoked')], []],
    ['nothing changed', [cert('1', 90)], [cert('1', 90)], []],
    ['added', [cert('1', 90)], [cert('1', 90), cert('2', 20)], [['added', '2', null, 'valid']]],
    ['removed', [cert('1', 90), cert('2', 20)], [cert('1', 90)], [['removed', '2', 'valid', null]]],
    ['revoked', [cert('1', 90)], [cert('1', 90, 'revoked')], [['revoked', '1', 'valid', 'revoked']]],
    ['expired by status', [cert('1', 1)], [cert('1', 1, 'expired')], [['expired', '1', 'valid', 'expired']]],
    ['an expired certificate being revoked is not a revocation', [cert('1', -1, 'expired')], [cert('1', -1, 'revoked')], []],
    [
      'renewed from warning',
      [cert('old', 20)],
      [cert('old', 20), cert('new', 365)],
      [['added', 'new', null, 'valid'], ['renewed', 'old', 'warning', 'new']],
    ],
    [
      'renewed from critical while the old one is removed',
      [cert('old', 3)],
      [cert('new', 365)],
      [['added', 'new', null, 'valid'], ['removed', 'old', 'valid', null], ['renewed', 'old', 'critical', 'new']],
    ],
    [
      'renewed from expired',
      [cert('old', -2, 'expired')],
      [cert('old', -2, 'expired'), cert('new', 365)],
      [['added', 'new', null, 'valid'], ['renewed', 'old', 'expired', 'new']],
    ],
    [
      'a new certificate beside a healthy one is no renewal',
      [cert('old', 200)],
      [cert('old', 200), cert('new', 365)],
      [['added', 'new', null, 'valid']],
    ],
    [
      'a new certificate that is itself near expiry is no renewal',
      [cert('old', 5)],
      [cert('old', 5), cert('new', 20)],
      [['added', 'new', null, 'valid']],
    ],
    [
      'an already superseded certificate is not renewed again',
      [cert('old', 5), cert('mid', 300)],
      [cert('old', 5), cert('mid', 300), cert('new', 365)],
      [['added', 'new', null, 'valid']],
    ],
    [
      'revoked certificates are not renewed',
      [cert('old', 5, 'revoked')],
      [cert('old', 5, 'revoked'), cert('new', 365)],
      [['added', 'new', null, 'valid']],
    ],
  ])('%s', (_name, previous, current, expected) => {
    const events = diffCertificates(DEVICE, previous, current, NOW, THRESHOLDS);
    expect(events.map((e) => [e.type, e.certSN, e.from, e.to])).toEqual(expected);
  });

  it('stamps events with the device and the time, and carries the revoker', () => {
    const [event] = diffCertificates(DEVICE, [cert('1', 90)], [cert('1', 90, 'revoked')], NOW, THRESHOLDS);
    expect(event).toEqual({
      type: 'revoked',
      orgId: 'o1',
      assetId: 'a1',
      productKey: '',
      deviceKey: '',
      certSN: '1',
      from: 'valid',
      to: 'revoked',
      at: '2026-06-01T00:00:00.000Z',
      revoker: 'IoT_Hub',
      revokerReason: 'KEY COMPROMISE',
    });
  });
});
