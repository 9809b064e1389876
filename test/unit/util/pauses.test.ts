import { describe, expect, it } from 'vitest';
import { withPauses } from '../../../src/util/pauses.js';

/** A clock the loop body moves: each item "costs" `msPerItem`. */
function costlyItems(msPerItem: number) {
  let time = 0;
  return { now: () => time, spend: () => (time += msPerItem) };
}

describe('withPauses', () => {
  it.each([
    { items: 0, msPerItem: 3 },
    { items: 7, msPerItem: 3 },
    { items: 9, msPerItem: 0 },
    { items: 5, msPerItem: 20 },
  ])('yields $items items in order ($msPerItem ms each)', async ({ items, msPerItem }) => {
    const clock = costlyItems(msPerItem);
    const seen: number[] = [];
    for await (const item of withPauses(Array.from({ length: items }, (_, i) => i), { sliceMs: 10, now: clock.now })) {
      seen.push(item);
      clock.spend();
    }
    expect(seen).toEqual(Array.from({ length: items }, (_, i) => i));
  });

  it.each([
    { msPerItem: 5, expected: ['1', '2', 'other', '3', '4', '5'] },
    { msPerItem: 10, expected: ['1', 'other', '2', '3', '4', '5'] },
    { msPerItem: 1, expected: ['1', '2', '3', '4', '5', 'other'] },
  ])('lets other work run once a slice of 10 ms is used up, not within one ($msPerItem ms an item)', async ({ msPerItem, expected }) => {
    const clock = costlyItems(msPerItem);
    const events: string[] = [];
    const other = new Promise<void>((resolve) =>
      setImmediate(() => {
        events.push('other');
        resolve();
      }),
    );
    for await (const item of withPauses([1, 2, 3, 4, 5], { sliceMs: 10, now: clock.now })) {
      events.push(String(item));
      clock.spend();
    }
    await other;
    expect(events).toEqual(expected);
  });
});
