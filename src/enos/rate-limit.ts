import type { Clock } from '../util/clock.js';
import type { Sleep } from './sleep.js';

/**
 * Spaces requests evenly at `requestsPerSecond` (0 = unlimited), shared by every call of a
 * client. Each caller reserves the next free slot, so there is never a burst: at most one
 * request starts per interval.
 */
export class RateLimiter {
  readonly #intervalMs: number;
  #nextSlot = Number.NEGATIVE_INFINITY;

  constructor(
    requestsPerSecond: number,
    private readonly clock: Clock,
    private readonly sleep: Sleep,
  ) {
    this.#intervalMs = requestsPerSecond > 0 ? 1000 / requestsPerSecond : 0;
  }

  /** Resolves when the caller may send; rejects with the abort reason if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#intervalMs === 0) return;
    const now = this.clock.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#intervalMs;
    if (slot <= now) return;
    try {
      await this.sleep(slot - now, signal);
    } catch (error) {
      // Give the slot back when nobody queued behind it, so an abort does not slow the next caller.
      if (this.#nextSlot === slot + this.#intervalMs) this.#nextSlot = slot;
      throw error;
    }
  }
}
