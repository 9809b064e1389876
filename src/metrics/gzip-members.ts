import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Fast compression: the exposition is repetitive enough that level 1 is within a few percent of
 * level 9, at a fraction of the CPU.
 */
const LEVEL = 1;
/** Text pieces of a plain scrape: large enough for few writes, small enough to hold a few. */
const INFLATE_CHUNK_BYTES = 256 * 1024;

/**
 * One gzip member of `text`. Members written one after another form a single valid gzip stream
 * (RFC 1952), so pieces compressed at different times are served as they are.
 */
export function gzipMember(text: string | Buffer): Promise<Buffer> {
  return gzipAsync(text, { level: LEVEL });
}

export function gzipMemberSync(text: string | Buffer): Buffer {
  return gzipSync(text, { level: LEVEL });
}

/** The uncompressed size of one member, from its trailer (ISIZE: exact below 4 GiB). */
export function plainSize(member: Buffer): number {
  return member.length < 18 ? 0 : member.readUInt32LE(member.length - 4);
}

/**
 * The members' text in order, inflated as it is read, in zlib's thread pool: one gunzip stream
 * over all members (it reads member after member), so a plain scrape holds a few pieces at a time.
 */
export function inflateMembers(members: readonly Buffer[]): AsyncIterable<Buffer> {
  // A gunzip stream given no member at all fails (unexpected end of input).
  if (members.length === 0) return Readable.from([]);
  // One input write (a copy of the compressed bytes, a few MB): a write per member would cost a
  // thread-pool round trip each.
  return Readable.from([Buffer.concat(members)], { objectMode: false }).pipe(createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }));
}
