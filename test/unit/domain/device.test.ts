import { describe, expect, it } from 'vitest';
import { assessCertificates } from '../../../src/domain/certificate.js';
import { deviceState, type QueryResult } from '../../../src/domain/device.js';
import type { Certificate } from '../../../src/domain/types.js';
import { cert, NOW, THRESHOLDS } from './fixtures.js';

describe('deviceState', () => {
  it.each<[string, QueryResult, Certificate[], string]>([
    ['query failed', 'error', [cert('1', 90)], 'error'],
    ['device not found', 'not_found', [], 'not_found'],
    ['no certificates', 'ok', [], 'no_certificate'],
    ['one healthy', 'ok', [cert('1', 90)], 'ok'],
    ['best of warning and ok', 'ok', [cert('1', 10), cert('2', 90)], 'ok'],
    ['best of critical and warning', 'ok', [cert('1', 3), cert('2', 20)], 'warning'],
    ['only critical', 'ok', [cert('1', 3)], 'critical'],
    ['critical beside revoked and expired', 'ok', [cert('1', 3), cert('2', 90, 'revoked'), cert('3', -1)], 'critical'],
    ['all revoked or expired', 'ok', [cert('1', 90, 'revoked'), cert('2', -1), cert('3', 10, 'expired')], 'no_valid_certificate'],
  ])('%s → %s', (_name, query, certs, expected) => {
    expect(deviceState(query, assessCertificates(certs, NOW, THRESHOLDS))).toBe(expected);
  });
});
