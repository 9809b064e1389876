import { setImmediate } from 'node:timers/promises';

/**
 * The items of `items`, letting other work run after every `every` of them: a loop over a large
 * fleet then never holds the event loop for long (scrapes, health checks and the scan go on).
 */
export async function* withPauses<T>(items: Iterable<T>, every = 1_000): AsyncGenerator<T> {
  let count = 0;
  for (const item of items) {
    yield item;
    if (++count % every === 0) await setImmediate();
  }
}
