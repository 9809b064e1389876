import { beforeAll, describe, expect, it } from 'vitest';
import { PemReader } from '../../../src/audit/pem.js';
import type { PemContent } from '../../../src/domain/types.js';
import { seededRandom } from '../../../src/simulator/random.js';
import { mutatedDer, NASTY_STRINGS, randomJson } from '../../support/hostile.js';
import { derOf, opensslCertificate, pemOf } from '../../support/openssl-certificates.js';

const SEED = 20_261_201;
const ROUNDS = 3_000;

/** What read() may answer: nothing, `unparseable`, or a summary whose every field is in range. */
function expectWellFormed(content: PemContent | undefined): void {
  if (content === undefined || content === 'unparseable') return;
  expect(Object.keys(content).sort()).toEqual(['fingerprintSha256', 'keyAlgorithm', 'keyBits', 'notAfter', 'notBefore', 'signatureAlgorithm']);
  expect(content.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(content.keyAlgorithm).toMatch(/^[a-z0-9.-]{1,80}$/);
  expect(content.signatureAlgorithm).toMatch(/^[A-Za-z0-9._-]{1,200}$/);
  expect(content.keyBits === null || (Number.isInteger(content.keyBits) && content.keyBits > 0)).toBe(true);
  expect(Number.isFinite(content.notBefore) && Number.isFinite(content.notAfter)).toBe(true);
}

describe('the PEM reader under hostile input (seeded property test)', () => {
  const ders: Buffer[] = [];
  beforeAll(() => {
    for (const key of ['rsa:2048', 'ec:P-256', 'ed25519'] as const) ders.push(derOf(opensslCertificate({ key }).pem));
  });

  it('never throws on damaged certificates, random text or JSON, and answers only well-formed content', () => {
    const random = seededRandom(SEED);
    const reader = new PemReader(64);
    const answers = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const roll = random.next();
      const input =
        roll < 0.8
          ? pemOf(mutatedDer(random, random.pick(ders)), random.pick([64, 76, 1_000]))
          : roll < 0.9
            ? `-----BEGIN CERTIFICATE-----\n${random.pick(NASTY_STRINGS)}\n-----END CERTIFICATE-----`
            : randomJson(random);
      const content = reader.read(input);
      expectWellFormed(content);
      const kind = typeof content === 'object' ? 'read' : String(content);
      answers.set(kind, (answers.get(kind) ?? 0) + 1);
    }
    // The damage must be varied enough to reach every answer: parsed, refused and not PEM at all.
    expect([...answers.keys()].sort()).toEqual(['read', 'undefined', 'unparseable']);
  });
});
