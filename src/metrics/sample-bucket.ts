import { CERTIFICATE_FAMILIES, type DeviceSamples } from './certificate-lines.js';

/** A device's samples in a bucket: new text until it is encoded, then a place in the bucket's buffers. */
export interface BucketMember {
  /** Escaped device labels: two devices rendering the same labels would duplicate series. */
  readonly labels: string;
  /** Sample text not encoded into the bucket yet; undefined once it is, or when nothing is shown. */
  pending: DeviceSamples | undefined;
  /** Where its encoded samples are: [start, end) of family f at [2f, 2f + 1]; undefined when not encoded. */
  spans: number[] | undefined;
}

/** Pending members that make a bucket re-encode itself (copying what did not change)... */
const FOLD_MIN_PENDING = 32;
/** ...or this share of its members, so re-encoding copies O(1) bytes per change in a bucket of any size. */
const FOLD_SHARE = 4;

const FAMILIES = CERTIFICATE_FAMILIES.map((_, family) => family);
const EMPTY = Buffer.alloc(0);

/**
 * The encoded samples of a slice of the fleet, so that a scrape writes a few thousand Buffers
 * and encodes little. A scrape gets, per family, views of the encoded bytes still shown and the
 * text of the members that changed since, encoded in one Buffer. Once enough members changed,
 * the bucket re-encodes itself into one Buffer per family (copying the unchanged bytes) and drops
 * their text: the samples are held about once, not as text and again as bytes, and the cost of
 * re-encoding is spread over the scan instead of falling on one scrape.
 */
export class SampleBucket<M extends BucketMember> {
  readonly #members = new Map<string, M>();
  #encoded: readonly Buffer[] = FAMILIES.map(() => EMPTY);
  /** What a scrape writes, per family; undefined after a change. */
  #chunks: readonly (readonly Buffer[])[] | undefined;
  #pending = 0;

  members(): IterableIterator<M> {
    return this.#members.values();
  }

  get size(): number {
    return this.#members.size;
  }

  set(id: string, member: M): void {
    this.delete(id);
    this.#members.set(id, member);
    this.#changed(member);
  }

  delete(id: string): void {
    const old = this.#members.get(id);
    if (old === undefined) return;
    this.#members.delete(id);
    if (old.pending !== undefined) this.#pending--;
    this.#chunks = undefined;
  }

  /** A member's samples changed in place (time moved a certificate into another state). */
  replaceSamples(member: M, samples: DeviceSamples | undefined): void {
    if (member.pending !== undefined) this.#pending--;
    member.pending = samples;
    member.spans = undefined;
    this.#changed(member);
  }

  /** Each family's samples as Buffers to write in order. */
  chunks(): readonly (readonly Buffer[])[] {
    if (this.#chunks === undefined) {
      const shown = this.#shown();
      this.#chunks = FAMILIES.map((family) => this.#familyChunks(family, shown));
    }
    return this.#chunks;
  }

  /** Whether chunks() has work to do. */
  get changed(): boolean {
    return this.#chunks === undefined;
  }

  #changed(member: M): void {
    this.#chunks = undefined;
    if (member.pending === undefined) return;
    this.#pending++;
    if (this.#pending >= Math.max(FOLD_MIN_PENDING, this.#members.size / FOLD_SHARE)) this.#reencode();
  }

  /** The members that show, in order. Members whose labels read alike would repeat series: the first shows. */
  #shown(): M[] {
    const shown: M[] = [];
    const seen = new Set<string>();
    for (const member of this.#members.values()) {
      // The others keep their text (a later member was never encoded), for when the first goes.
      if (seen.has(member.labels)) continue;
      seen.add(member.labels);
      if (member.pending !== undefined || member.spans !== undefined) shown.push(member);
    }
    return shown;
  }

  /** Views of the encoded bytes still shown (one per run of neighbours), then the pending text. */
  #familyChunks(family: number, shown: readonly M[]): Buffer[] {
    const chunks: Buffer[] = [];
    const encoded = this.#encoded[family]!;
    const text: string[] = [];
    let run = { start: 0, end: 0 };
    for (const { pending, spans } of shown) {
      if (pending !== undefined) {
        text.push(pending[family]!);
        continue;
      }
      const [start, end] = [spans![2 * family]!, spans![2 * family + 1]!];
      if (start !== run.end) {
        if (run.end > run.start) chunks.push(encoded.subarray(run.start, run.end));
        run = { start, end };
      }
      run.end = end;
    }
    if (run.end > run.start) chunks.push(encoded.subarray(run.start, run.end));
    if (text.length > 0) chunks.push(Buffer.from(text.join('')));
    return chunks;
  }

  #reencode(): void {
    const shown = this.#shown();
    this.#encoded = FAMILIES.map((family) => encodeFamily(shown, family, this.#encoded[family]!));
    for (const member of shown) {
      if (member.pending === undefined) continue;
      member.pending = undefined;
      this.#pending--;
    }
    this.#chunks = this.#encoded.map((encoded) => [encoded]);
  }
}

/**
 * One family's samples of `members`, in order: pending text is encoded, unchanged members'
 * bytes are copied from `old` (a run of neighbours in one copy). Updates the members' spans.
 */
function encodeFamily(members: readonly BucketMember[], family: number, old: Buffer): Buffer {
  const [from, to] = [2 * family, 2 * family + 1];
  let size = 0;
  for (const { pending, spans } of members) {
    size += pending !== undefined ? Buffer.byteLength(pending[family]!) : spans![to]! - spans![from]!;
  }
  // Not from the shared pool: these live long, and a pooled slice would pin its whole pool.
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  let run = { start: 0, end: 0, at: 0 };
  const copyRun = (): void => {
    if (run.end > run.start) old.copy(out, run.at, run.start, run.end);
  };
  for (const member of members) {
    const spans = (member.spans ??= [0, 0, 0, 0, 0, 0]);
    let length: number;
    if (member.pending !== undefined) {
      length = out.write(member.pending[family]!, at);
    } else {
      const start = spans[from]!;
      length = spans[to]! - start;
      // Extends the run when it follows it both in the old buffer and in the new one.
      if (start !== run.end || run.at + (run.end - run.start) !== at) {
        copyRun();
        run = { start, end: start, at };
      }
      run.end += length;
    }
    spans[from] = at;
    spans[to] = at + length;
    at += length;
  }
  copyRun();
  return out;
}
