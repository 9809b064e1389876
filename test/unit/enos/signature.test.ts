import { describe, expect, it } from 'vitest';
import { paramsData, requestSignature, tokenEncryption } from '../../../src/enos/signature.js';

describe('paramsData', () => {
  it.each([
    { query: 'k3=v3&k1=v1&k2=v2', body: 'B', expected: 'k1v1k2v2k3v3B' },
    { query: 'k3=v3&k1=v1&k2=v2', body: '', expected: 'k1v1k2v2k3v3' },
    { query: '', body: '{"a":1}', expected: '{"a":1}' },
    { query: 'name=a%20b&x=%E4%B8%AD&p=1%2B1', body: '', expected: 'namea bp1+1x中' },
    { query: 'b=3&a=2&A=1', body: '', expected: 'A1a2b3' },
  ])('$query with body $body gives $expected', ({ query, body, expected }) => {
    expect(paramsData(new URLSearchParams(query), body)).toBe(expected);
  });
});

// Expected digests computed independently with `echo -n '<input>' | sha256sum`.
describe('requestSignature', () => {
  it('matches sha256 of token + paramsData + timestamp + secret (docs example)', () => {
    const query = new URLSearchParams('k3=v3&k1=v1&k2=v2');
    expect(requestSignature('token-abc', query, 'B', 1_700_000_000_000, 'secret-xyz')).toBe(
      'cb806574391f7ba0c599e723cb16716c6484dadd3cbecb1db3e7d4ead6e2b694',
    );
  });

  it('signs URL-decoded values, as a List Certificate request carries them', () => {
    const url = new URL('https://gw.example/x?orgId=o1&action=list');
    url.searchParams.set('assetId', 'a b/c');
    url.searchParams.set('device', '中');
    expect(requestSignature('token-abc', url.searchParams, '', 1_700_000_000_001, 'secret-xyz')).toBe(
      '9b1c71ad5624ba147a65cfc5392594a0cbe99eb32dab1e2c5ebd934edd997b68',
    );
  });
});

describe('tokenEncryption', () => {
  it('is sha256 of appKey + timestamp + appSecret', () => {
    expect(tokenEncryption('demo-app-key', 1_700_000_000_000, 'demo-app-secret')).toBe(
      'aa3dbd256274525928efdc00818d2254c70e20945bd4b5d93dce11c31aecf403',
    );
  });
});
