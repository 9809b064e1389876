import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';

/** Longest run of a loop between two pauses: well inside the event-loop stall budget (50 ms). */
const SLICE_MS = 10;

export interface PauseOptions {
  readonly sliceMs?: number;
  /** Milliseconds from any fixed origin (a test's clock). */
  readonly now?: () => number;
}

/**
 * The items of `items`, letting other work run once a slice of `sliceMs` is used up: a loop over
 * a large fleet then never holds the event loop for long (scrapes, health checks and the scan go
 * on), however much each item costs.
 */
export async function* withPauses<T>(items: Iterable<T>, { sliceMs = SLICE_MS, now = () => performance.now() }: PauseOptions = {}): AsyncGenerator<T> {
  let sliceEnds = now() + sliceMs;
  for (const item of items) {
    yield item;
    if (now() >= sliceEnds) {
      await setImmediate();
      sliceEnds = now() + sliceMs;
    }
  }
}
