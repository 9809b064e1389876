import { describe, expect, it } from 'vitest';
import type { DeviceSamples } from '../../../src/metrics/certificate-lines.js';
import { SampleBucket, type BucketMember } from '../../../src/metrics/sample-bucket.js';
import { seededRandom } from '../../../src/simulator/random.js';

interface Member extends BucketMember {
  readonly id: string;
}

function member(id: string, labels: string, version: number, shows = true): Member {
  const samples: DeviceSamples = [`a{${labels}} ${version}\n`, version % 3 === 0 ? '' : `b{${labels}} ${version}\n`, `c{${labels}} ✓${version}\n`, version % 2 === 0 ? `d{${labels}} 1\n` : '', version % 5 === 0 ? `e{${labels}} 1\n` : ''];
  return { id, labels, pending: shows ? samples : undefined, spans: undefined };
}

/** What the bucket must write: per family, the text of the first member of each label set, in any order. */
function expected(members: readonly { labels: string; text: DeviceSamples | undefined }[]): string[][] {
  const seen = new Set<string>();
  const families: string[][] = [[], [], [], [], []];
  for (const { labels, text } of members) {
    if (seen.has(labels)) continue;
    seen.add(labels);
    if (text === undefined) continue;
    text.forEach((lines, family) => families[family]!.push(...lines.split('\n').filter(Boolean)));
  }
  return families.map((lines) => lines.sort());
}

function written(bucket: SampleBucket<Member>): string[][] {
  return bucket.chunks().map((chunks) => Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).sort());
}

describe('SampleBucket', () => {
  it('writes the samples of its members, each family on its own', () => {
    const bucket = new SampleBucket<Member>();
    bucket.set('1', member('1', 'x="1"', 1));
    bucket.set('2', member('2', 'x="2"', 2));
    expect(written(bucket)).toEqual([
      ['a{x="1"} 1', 'a{x="2"} 2'],
      ['b{x="1"} 1', 'b{x="2"} 2'],
      ['c{x="1"} ✓1', 'c{x="2"} ✓2'],
      ['d{x="2"} 1'],
      [],
    ]);
  });

  it('shows the first of two members whose labels read alike, and the second once the first goes', () => {
    const bucket = new SampleBucket<Member>();
    bucket.set('1', member('1', 'same', 1));
    bucket.set('2', member('2', 'same', 2));
    expect(written(bucket)[0]).toEqual(['a{same} 1']);
    bucket.delete('1');
    expect(written(bucket)[0]).toEqual(['a{same} 2']);
  });

  it('keeps the chunks of an unchanged bucket', () => {
    const bucket = new SampleBucket<Member>();
    bucket.set('1', member('1', 'x="1"', 1));
    const first = bucket.chunks();
    expect(bucket.changed).toBe(false);
    expect(bucket.chunks()).toBe(first);
    bucket.set('1', member('1', 'x="1"', 2));
    expect(bucket.changed).toBe(true);
  });

  it('re-encodes itself once enough members changed, into one Buffer per family', () => {
    const bucket = new SampleBucket<Member>();
    const members = Array.from({ length: 200 }, (_, i) => member(String(i), `x="${i}"`, i));
    for (const each of members) bucket.set(each.id, each);
    expect(members.filter((each) => each.pending !== undefined).length).toBeLessThan(100);
    expect(members.filter((each) => each.spans !== undefined).length).toBeGreaterThan(100);
  });

  it.each([1, 2, 3, 4, 5])('matches a plain model through random changes (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const bucket = new SampleBucket<Member>();
    const model = new Map<string, { labels: string; text: DeviceSamples | undefined }>();
    const current = new Map<string, Member>();
    for (let step = 0; step < 3_000; step++) {
      const id = String(random.int(0, 150));
      const roll = random.next();
      if (roll < 0.15) {
        bucket.delete(id);
        model.delete(id);
        current.delete(id);
      } else if (roll < 0.25 && current.has(id)) {
        const existing = current.get(id)!;
        const replacement = member(id, existing.labels, step, random.next() < 0.8).pending;
        bucket.replaceSamples(existing, replacement);
        model.set(id, { labels: existing.labels, text: replacement });
      } else {
        // A few label sets repeat, as capped hostile labels might.
        const labels = random.next() < 0.05 ? 'shared' : `x="${id}"`;
        const added = member(id, labels, step, random.next() < 0.9);
        const text = added.pending;
        bucket.set(id, added);
        model.delete(id);
        model.set(id, { labels, text });
        current.set(id, added);
      }
      if (random.next() < 0.05) expect(written(bucket)).toEqual(expected([...model.values()]));
    }
    expect(written(bucket)).toEqual(expected([...model.values()]));
  });
});
