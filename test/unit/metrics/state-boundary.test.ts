import { describe, expect, it } from 'vitest';
import { certificateState, DAY_MS } from '../../../src/domain/certificate.js';
import { nextStateChange } from '../../../src/metrics/state-boundary.js';
import { cert, NOW, THRESHOLDS } from './fixtures.js';

describe('nextStateChange', () => {
  it.each([
    ['ok → warning', cert('1', 90), NOW + 60 * DAY_MS],
    ['warning → critical', cert('1', 20), NOW + 13 * DAY_MS],
    ['critical → expired', cert('1', 3), NOW + 3 * DAY_MS],
    ['fractional days', cert('1', 7.5), NOW + 0.5 * DAY_MS],
    ['exactly on a boundary moves to the next', cert('1', 30), NOW + 23 * DAY_MS],
    ['expired by date: nothing ahead', cert('1', -1), Infinity],
    ['expired status: nothing ahead', cert('1', 90, { status: 'expired' }), Infinity],
    ['revoked: nothing ahead', cert('1', 90, { status: 'revoked' }), Infinity],
  ])('%s', (_name, certificate, expected) => {
    expect(nextStateChange(certificate, NOW, THRESHOLDS)).toBe(expected);
  });

  it.each([-2, 0, 0.25, 3, 7, 7.001, 20, 30, 31, 365])(
    'agrees with certificateState for a certificate ending in %s days',
    (days) => {
      const certificate = cert('1', days);
      const state = certificateState(certificate, NOW, THRESHOLDS);
      const next = nextStateChange(certificate, NOW, THRESHOLDS);
      for (let t = NOW; t < Math.min(next, NOW + 400 * DAY_MS); t += DAY_MS / 8) {
        expect(certificateState(certificate, t, THRESHOLDS)).toBe(state);
      }
      expect(certificateState(certificate, next - 1, THRESHOLDS)).toBe(state);
      if (Number.isFinite(next)) expect(certificateState(certificate, next, THRESHOLDS)).not.toBe(state);
    },
  );
});
