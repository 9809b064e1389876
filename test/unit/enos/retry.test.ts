import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../../src/enos/outcome.js';
import { backoffDelayMs, isRetryable } from '../../../src/enos/retry.js';

describe('isRetryable', () => {
  it.each<[Outcome, boolean]>([
    ['http_429', true],
    ['http_500', true],
    ['http_502', true],
    ['http_503', true],
    ['http_599', true],
    ['code_99500', true],
    ['code_1001', true],
    ['code_1005', true],
    ['timeout', true],
    ['network', true],
    ['success', false],
    ['invalid_response', false],
    ['http_400', false],
    ['http_401', false],
    ['http_403', false],
    ['http_404', false],
    ['http_413', false],
    ['http_600', false],
    ['code_11404', false],
    ['code_99400', false],
    ['code_99403', false],
    ['code_99404', false],
    ['code_1002', false],
    ['code_1003', false],
    ['code_1004', false],
    ['code_1202', false],
    ['code_1203', false],
  ])('%s → %s', (outcome, expected) => {
    expect(isRetryable(outcome)).toBe(expected);
  });
});

describe('backoffDelayMs', () => {
  it.each([
    { attempt: 1, ceiling: 250 },
    { attempt: 2, ceiling: 500 },
    { attempt: 3, ceiling: 1000 },
    { attempt: 6, ceiling: 8000 },
    { attempt: 7, ceiling: 10_000 },
    { attempt: 40, ceiling: 10_000 },
  ])('attempt $attempt waits between 0 and $ceiling ms', ({ attempt, ceiling }) => {
    expect(backoffDelayMs(attempt, 250, 10_000, () => 0)).toBe(0);
    expect(backoffDelayMs(attempt, 250, 10_000, () => 0.5)).toBe(Math.floor(ceiling / 2));
    const highest = backoffDelayMs(attempt, 250, 10_000, () => 0.999_999);
    expect(highest).toBeLessThan(ceiling);
    expect(highest).toBeGreaterThanOrEqual(ceiling - 1);
  });

  it('is zero when the base delay is zero', () => {
    expect(backoffDelayMs(3, 0, 10_000, () => 0.9)).toBe(0);
  });
});
