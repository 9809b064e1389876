import type { Outcome } from './outcome.js';

/**
 * API codes worth another try: 99500 internal error; token service 1001 (repeated request: the
 * next attempt has a fresh timestamp) and 1005 (internal error).
 */
const RETRYABLE_CODES: ReadonlySet<Outcome> = new Set(['code_99500', 'code_1001', 'code_1005']);

/** Whether a failed attempt may succeed when repeated: overload, server faults, lost connections. */
export function isRetryable(outcome: Outcome): boolean {
  if (outcome === 'timeout' || outcome === 'network' || outcome === 'http_429') return true;
  if (RETRYABLE_CODES.has(outcome)) return true;
  const http = /^http_(\d+)$/.exec(outcome);
  return http !== null && Number(http[1]) >= 500 && Number(http[1]) <= 599;
}

/**
 * Delay before the attempt after `attempt` (1-based): exponential growth capped at `maxMs`, with
 * full jitter so that many callers failing together do not retry together.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
