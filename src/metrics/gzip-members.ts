import { promisify } from 'node:util';
import { gunzip, gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Fast compression: the exposition is repetitive enough that level 1 is within a few percent of
 * level 9, at a fraction of the CPU.
 */
const LEVEL = 1;
/** Members inflated ahead of the one being written, in zlib's thread pool. */
const INFLATE_AHEAD = 4;

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

/** The members' text in order, inflated a few at a time off the main thread. */
export async function* inflateMembers(members: readonly Buffer[]): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  while (next < members.length || pending.length > 0) {
    while (pending.length < INFLATE_AHEAD && next < members.length) {
      const inflating = gunzipAsync(members[next++]!);
      // A reader that stops early must not leave rejections unhandled.
      inflating.catch(() => undefined);
      pending.push(inflating);
    }
    yield await pending.shift()!;
  }
}
