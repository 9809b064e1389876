import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PEM_CHARS, PemReader } from '../../../src/audit/pem.js';
import type { X509Summary } from '../../../src/domain/types.js';
import { derOf, opensslCertificate, pemOf, type KeySpec, type OpensslCertificate } from '../../support/openssl-certificates.js';

const CASES: readonly { key: KeySpec; digest?: 'sha1' | 'sha256' | 'sha384' | 'md5'; days?: number; keyAlgorithm: string; keyBits: number }[] = [
  { key: 'rsa:2048', keyAlgorithm: 'rsa', keyBits: 2048 },
  { key: 'rsa:1024', digest: 'sha1', keyAlgorithm: 'rsa', keyBits: 1024 },
  { key: 'rsa:1024', digest: 'md5', keyAlgorithm: 'rsa', keyBits: 1024 },
  { key: 'ec:P-256', keyAlgorithm: 'ec', keyBits: 256 },
  // Valid until after 2049: the validity is a GeneralizedTime, not a UTCTime.
  { key: 'ec:P-384', digest: 'sha384', days: 10_000, keyAlgorithm: 'ec', keyBits: 384 },
  { key: 'ec:P-192', keyAlgorithm: 'ec', keyBits: 192 },
  { key: 'ed25519', keyAlgorithm: 'ed25519', keyBits: 256 },
  { key: 'dsa:1024', keyAlgorithm: 'dsa', keyBits: 1024 },
];

describe('PemReader', () => {
  const made = new Map<string, OpensslCertificate>();
  const made1 = (index: number) => made.get(String(index))!;
  beforeAll(() => {
    CASES.forEach((c, index) => made.set(String(index), opensslCertificate(c)));
  });

  it.each(CASES.map((c, index) => ({ ...c, index, name: `${c.key} ${c.digest ?? ''}` })))(
    'reads key, signature, validity and fingerprint of an openssl $name certificate',
    ({ index, keyAlgorithm, keyBits }) => {
      const expected = made1(index);
      expect(new PemReader().read(expected.pem)).toEqual({
        keyAlgorithm,
        keyBits,
        signatureAlgorithm: expected.signatureAlgorithm,
        fingerprintSha256: expected.fingerprintSha256,
        notBefore: expected.notBefore,
        notAfter: expected.notAfter,
      });
      if (keyAlgorithm !== 'ed25519') expect(keyBits).toBe(expected.keyBits);
    },
  );

  it.each([['52725'], [52725], [null], [undefined], [''], ['hello'], [{}], ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'], [`${' '.repeat(300)}-----BEGIN CERTIFICATE-----`]])(
    'ignores %j, which is not a PEM certificate',
    (cert) => {
      expect(new PemReader().read(cert)).toBeUndefined();
    },
  );

  it('accepts leading whitespace, CRLF and other line widths', () => {
    const { pem, fingerprintSha256 } = made1(0);
    const reader = new PemReader();
    expect((reader.read(`\n  ${pem.replace(/\n/g, '\r\n')}`) as X509Summary).fingerprintSha256).toBe(fingerprintSha256);
    expect((reader.read(pemOf(derOf(pem), 76)) as X509Summary).fingerprintSha256).toBe(fingerprintSha256);
  });

  it('audits the first certificate of a PEM that holds several', () => {
    const first = made1(3);
    const summary = new PemReader().read(`${first.pem}${made1(0).pem}${made1(1).pem}`) as X509Summary;
    expect(summary.fingerprintSha256).toBe(first.fingerprintSha256);
    expect(summary.keyAlgorithm).toBe('ec');
  });

  it.each([
    ['no END line', (pem: string) => pem.replace('-----END CERTIFICATE-----', '')],
    ['truncated', (pem: string) => pemOf(derOf(pem).subarray(0, 200))],
    ['one byte changed in the length', (pem: string) => pemOf(Buffer.from([0x30, 0x84, ...derOf(pem).subarray(1)]))],
    ['characters that are not base64', (pem: string) => pem.replace(/\n(.)/, '\n!')],
    ['an empty body', () => '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'],
    ['base64 of random bytes', () => pemOf(Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)))],
    ['a DER SEQUENCE of nothing', () => pemOf(Buffer.from([0x30, 0x00]))],
  ])('reports a PEM with %s as unparseable', (_name, damage) => {
    expect(new PemReader().read(damage(made1(0).pem))).toBe('unparseable');
  });

  it('refuses a PEM past the size cap without decoding or parsing it', () => {
    const reader = new PemReader();
    const huge = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(MAX_PEM_CHARS)}\n-----END CERTIFICATE-----`;
    expect(reader.read(huge)).toBe('unparseable');
    expect(reader.parses).toBe(0);
  });

  it('reads an unknown key algorithm by its OID, with no size', () => {
    // The EC public key OID 1.2.840.10045.2.1 becomes 1.2.840.10045.2.9, which nothing knows.
    const der = derOf(made1(3).pem);
    const at = der.indexOf(Buffer.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]));
    expect(at).toBeGreaterThan(0);
    der[at + 8] = 0x09;
    const summary = new PemReader().read(pemOf(der));
    expect(summary).toMatchObject({ keyAlgorithm: '1.2.840.10045.2.9', keyBits: null, signatureAlgorithm: 'ecdsa-with-SHA256' });
  });

  it('parses a certificate once while its content is unchanged, and hands out the same summary', () => {
    const reader = new PemReader();
    const { pem } = made1(0);
    const first = reader.read(pem);
    expect(reader.read(pemOf(derOf(pem), 76))).toBe(first);
    expect(reader.read(pem)).toBe(first);
    expect(reader.parses).toBe(1);
  });

  it('keeps between one and two generations of its capacity: what each scan reads again survives', () => {
    const reader = new PemReader(2);
    const [a, b, c, d, e, f] = [0, 1, 3, 6, 7, 4].map((index) => made1(index).pem);
    for (const pem of [a, b, c]) reader.read(pem);
    for (const pem of [a, b, c]) reader.read(pem);
    expect(reader.parses).toBe(3);
    for (const pem of [d, e, f, a]) reader.read(pem);
    expect(reader.parses).toBe(7);
  });
});
