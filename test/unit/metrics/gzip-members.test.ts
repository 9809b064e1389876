import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipMemberSync, inflateMembers, plainSize } from '../../../src/metrics/gzip-members.js';

async function read(chunks: AsyncIterable<Buffer>): Promise<string> {
  const pieces: Buffer[] = [];
  for await (const chunk of chunks) pieces.push(chunk);
  return Buffer.concat(pieces).toString('utf8');
}

describe('gzip members', () => {
  const texts = Array.from({ length: 97 }, (_, i) => `series_${i}{n="${'x'.repeat(i * 131)}"} ${i}\n`);
  const members = texts.map((text) => gzipMemberSync(text));

  it('concatenated, are one gzip stream of the texts in order', () => {
    expect(gunzipSync(Buffer.concat(members)).toString('utf8')).toBe(texts.join(''));
  });

  it('inflate into the texts in order', async () => {
    expect(await read(inflateMembers(members))).toBe(texts.join(''));
  });

  it('know their plain size from the trailer', () => {
    expect(members.map(plainSize)).toEqual(texts.map((text) => Buffer.byteLength(text)));
  });

  it('inflate to nothing when there are none', async () => {
    expect(await read(inflateMembers([]))).toBe('');
  });
});
