import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

const DEFAULT_INTERVAL_MS = 10_000;

/** Logs devices done, rate and (once the inventory is exhausted) ETA, at most every interval. */
export class ProgressReporter {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #startedAt: number;
  #lastLogAt: number;
  #done = 0;
  #total: number | undefined;

  constructor(log: Logger, clock: Clock, intervalMs = DEFAULT_INTERVAL_MS) {
    this.#log = log;
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#startedAt = clock.now();
    this.#lastLogAt = this.#startedAt;
  }

  /** The number of devices, once the inventory has been read to its end. */
  setTotal(total: number): void {
    this.#total = total;
  }

  deviceDone(): void {
    this.#done++;
    const now = this.#clock.now();
    if (now - this.#lastLogAt < this.#intervalMs) return;
    this.#lastLogAt = now;
    const elapsedSeconds = (now - this.#startedAt) / 1000;
    const rate = elapsedSeconds > 0 ? this.#done / elapsedSeconds : 0;
    const etaSeconds = this.#total !== undefined && rate > 0 ? Math.round((this.#total - this.#done) / rate) : undefined;
    this.#log.info(
      { done: this.#done, total: this.#total, ratePerSecond: Math.round(rate * 10) / 10, etaSeconds },
      'scan progress',
    );
  }
}
