import type { Logger } from '../util/log.js';
import type { DeviceOutcome } from './types.js';

/** Examples per scan, and per reason, so that one common reason cannot hide the rare ones. */
const MAX_EXAMPLES = 10;
const MAX_EXAMPLES_PER_REASON = 3;

interface FailureExample {
  readonly device: string;
  readonly reason: string;
  readonly message: string;
  /** The device's last good answer (RFC 3339), or null when it never answered. */
  readonly lastAnswerAt: string | null;
}

/**
 * The devices a scan could not get a fresh answer from, as one log line whatever their number:
 * counts by reason and a few examples, with how many more there were.
 */
export class FailureSummary {
  readonly #byReason = new Map<string, number>();
  readonly #examples: FailureExample[] = [];
  #total = 0;

  add(outcome: DeviceOutcome): void {
    if (outcome.query === 'ok') return;
    const reason = outcome.reason ?? 'internal_error';
    const seen = this.#byReason.get(reason) ?? 0;
    this.#byReason.set(reason, seen + 1);
    this.#total++;
    if (this.#examples.length < MAX_EXAMPLES && seen < MAX_EXAMPLES_PER_REASON) {
      this.#examples.push({
        device: outcome.id,
        reason,
        message: outcome.message ?? '',
        lastAnswerAt: outcome.lastAnswerAt === undefined ? null : new Date(outcome.lastAnswerAt).toISOString(),
      });
    }
  }

  log(log: Logger): void {
    if (this.#total === 0) return;
    log.warn(
      {
        failed: this.#total,
        byReason: Object.fromEntries(this.#byReason),
        examples: this.#examples,
        andMore: this.#total - this.#examples.length,
      },
      'device queries failed',
    );
  }
}
