import { describe, expect, it } from 'vitest';
import { NumberKeyMap } from '../../../src/util/number-key-map.js';

describe('NumberKeyMap', () => {
  it.each([1, 2, 3])('agrees with a Map through random sets and deletes, while it grows and shrinks (seed %i)', (seed) => {
    let state = seed;
    const random = (n: number): number => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state % n;
    };
    // Few distinct keys, small and past 2^32, so runs collide, wrap around the table and shift back.
    const keyPool = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i : 2 ** 52 - 1 - i * 2 ** 33));
    const table = new NumberKeyMap<string>(4);
    const reference = new Map<number, string>();
    for (let step = 0; step < 20_000; step++) {
      const key = keyPool[random(keyPool.length)]!;
      if (random(5) < (step < 10_000 ? 3 : 1)) {
        table.set(key, `v${step}`);
        reference.set(key, `v${step}`);
      } else {
        expect(table.delete(key)).toBe(reference.delete(key));
      }
      expect(table.size).toBe(reference.size);
      if (step % 100 === 0) for (const each of keyPool) expect(table.get(each), String(each)).toBe(reference.get(each));
    }
  });

  it('refuses a key it cannot hold exactly', () => {
    const table = new NumberKeyMap<number>();
    for (const key of [-1, 0.5, 2 ** 53, Number.NaN]) expect(() => table.set(key, 1)).toThrow(RangeError);
    table.set(0, 7);
    expect([table.get(0), table.get(1), table.size]).toEqual([7, undefined, 1]);
  });
});
