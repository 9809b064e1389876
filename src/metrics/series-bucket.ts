import { CERTIFICATE_FAMILIES } from './certificate-lines.js';
import { gzipMember } from './gzip-members.js';

/** Devices per bucket: a change re-compresses about 50 KB of text; 100k devices make 800 buckets. */
export const BUCKET_CAPACITY = 128;

const EMPTY = Buffer.alloc(0);

/** Where a member sits in its bucket, so that removing it is O(1). */
export interface BucketMember {
  slot: number;
}

/**
 * The per-certificate samples of up to BUCKET_CAPACITY devices, held only as one gzip member per
 * family. Devices are added where there is room (a scan that meets devices for the first time
 * fills bucket after bucket instead of touching all of them), and a change marks the bucket for
 * re-compression. `compress` brings it up to date; concurrent callers share one compression.
 */
export class SeriesBucket<M extends BucketMember> {
  readonly members: M[] = [];
  /** No member changes state before this instant (see FleetSeries.refresh). */
  validUntil = Infinity;
  #compressed: readonly Buffer[] = CERTIFICATE_FAMILIES.map(() => EMPTY);
  #version = 1;
  #compressedVersion = 0;
  #compressing: Promise<void> | undefined;

  get full(): boolean {
    return this.members.length >= BUCKET_CAPACITY;
  }

  get dirty(): boolean {
    return this.#compressedVersion !== this.#version;
  }

  add(member: M): void {
    member.slot = this.members.length;
    this.members.push(member);
    this.changed();
  }

  /** Removes `member`; the last member takes its place. */
  remove(member: M): void {
    const last = this.members.pop()!;
    if (last !== member) {
      this.members[member.slot] = last;
      last.slot = member.slot;
    }
    this.changed();
  }

  changed(): void {
    this.#version++;
  }

  /** The gzip member of each family (empty when the family has no sample here). */
  get compressed(): readonly Buffer[] {
    return this.#compressed;
  }

  /** Compresses the members as they are now, unless that is done; `text` renders each family. */
  async compress(text: (members: readonly M[]) => readonly string[]): Promise<void> {
    const wanted = this.#version;
    while (this.#compressedVersion < wanted) {
      this.#compressing ??= this.#compressNow(text).finally(() => {
        this.#compressing = undefined;
      });
      await this.#compressing;
    }
  }

  async #compressNow(text: (members: readonly M[]) => readonly string[]): Promise<void> {
    const version = this.#version;
    const families = text(this.members);
    this.#compressed = await Promise.all(families.map((family) => (family.length === 0 ? EMPTY : gzipMember(family))));
    this.#compressedVersion = version;
  }
}
