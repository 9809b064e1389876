import { describe, expect, it } from 'vitest';
import { SharedIndex } from '../../../src/audit/shared-index.js';
import type { Certificate } from '../../../src/domain/types.js';
import { cert } from '../domain/fixtures.js';

/** A small random walk: devices take and drop certificates from a pool of a few serials. */
function* randomUpdates(seed: number, steps: number): Generator<[id: string, certificates: Certificate[]]> {
  let state = seed;
  const random = (n: number): number => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state % n;
  };
  const pool = ['1', '2', '3', '4'].map((serial) => cert(serial, 90));
  for (let step = 0; step < steps; step++) {
    const id = `o1/a${random(5)}`;
    yield [id, pool.filter(() => random(3) === 0)];
  }
}

describe('SharedIndex', () => {
  it.each([1, 2, 3, 4, 5])('says a device holds a shared certificate exactly when one of its certificates is shared (seed %i)', (seed) => {
    const index = new SharedIndex();
    const held = new Map<string, Certificate[]>();
    for (const [id, certificates] of randomUpdates(seed, 300)) {
      index.update(id, held.get(id) ?? [], certificates);
      held.set(id, certificates);
      for (const [device, theirs] of held) {
        expect(index.holdsShared(device), device).toBe(theirs.some((each) => index.isShared(each)));
      }
    }
  });

  it.each([1, 2, 3])('calls a certificate shared exactly when two or more devices hold it (seed %i)', (seed) => {
    const index = new SharedIndex();
    const held = new Map<string, Certificate[]>();
    for (const [id, certificates] of randomUpdates(seed, 300)) {
      index.update(id, held.get(id) ?? [], certificates);
      held.set(id, certificates);
      for (const serial of ['1', '2', '3', '4']) {
        const holders = [...held.values()].filter((theirs) => theirs.some((each) => each.certSN === serial)).length;
        expect(index.isShared(cert(serial, 90)), serial).toBe(holders >= 2);
      }
    }
  });

  it('lets go of a device whose shared certificate the other holder dropped', () => {
    const index = new SharedIndex();
    const clone = cert('clone', 90);
    index.update('o1/a1', [], [clone]);
    index.update('o2/a2', [], [clone]);
    expect([index.holdsShared('o1/a1'), index.holdsShared('o2/a2')]).toEqual([true, true]);
    index.update('o2/a2', [clone], []);
    expect([index.holdsShared('o1/a1'), index.holdsShared('o2/a2'), index.isShared(clone)]).toEqual([false, false, false]);
  });
});
