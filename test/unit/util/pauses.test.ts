import { describe, expect, it } from 'vitest';
import { withPauses } from '../../../src/util/pauses.js';

describe('withPauses', () => {
  it.each([
    { items: 0, every: 3 },
    { items: 7, every: 3 },
    { items: 9, every: 3 },
    { items: 5, every: 1 },
  ])('yields $items items in order, pausing every $every', async ({ items, every }) => {
    const seen: number[] = [];
    for await (const item of withPauses(Array.from({ length: items }, (_, i) => i), every)) seen.push(item);
    expect(seen).toEqual(Array.from({ length: items }, (_, i) => i));
  });

  it('lets other work run between slices, not within one', async () => {
    const events: string[] = [];
    const other = new Promise<void>((resolve) =>
      setImmediate(() => {
        events.push('other');
        resolve();
      }),
    );
    for await (const item of withPauses([1, 2, 3, 4], 2)) events.push(String(item));
    await other;
    expect(events).toEqual(['1', '2', 'other', '3', '4']);
  });
});
