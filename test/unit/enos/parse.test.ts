import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnosApiError } from '../../../src/enos/outcome.js';
import { parseCertificateList, parseDevicePage, parseTokenGrant } from '../../../src/enos/parse.js';

const sample = JSON.parse(
  readFileSync(new URL('../../fixtures/enos/list-certificates-sample.json', import.meta.url), 'utf8'),
) as { data: Record<string, unknown>[] };

const ok = (json: unknown) => ({ status: 200, json });

/** A valid certificate with `changes` applied (undefined removes a field). */
function cert(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { certSN: '1', certStatus: 0, expireDate: 1_900_000_000_000 };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

function failure(parse: () => unknown): EnosApiError {
  try {
    parse();
  } catch (error) {
    if (error instanceof EnosApiError) return error;
    throw error;
  }
  throw new Error('expected an EnosApiError');
}

describe('parseCertificateList', () => {
  it('reads every certificate of the documented sample answer', () => {
    expect(parseCertificateList(ok(sample))).toEqual([
      {
        certSN: '52725',
        status: 'revoked',
        notBefore: 1_581_216_505_000,
        notAfter: 1_582_080_505_000,
        issuer: 'EMAILADDRESS=ca@gmail.com, CN=EnOS CA, OU=EnOS CA, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        subject: 'EMAILADDRESS=xT7EaR, OU=EnOS, CN=xMen1, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        issueAuthority: 'RSA',
        revoker: 'IoT_Hub',
        revokerReason: 'KEY COMPROMISE',
      },
      {
        certSN: '52726',
        status: 'valid',
        notBefore: 1_581_218_161_000,
        notAfter: 1_582_082_161_000,
        issuer: 'EMAILADDRESS=ca@gmail.com, CN=EnOS ECC CA, OU=EnOS Cloud, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        subject: 'EMAILADDRESS=uKGdK, OU=EnOS, CN=yPI9z8z, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        issueAuthority: 'ECC',
        revoker: '',
        revokerReason: '',
      },
      {
        certSN: '52727',
        status: 'expired',
        notBefore: 1_581_234_648_000,
        notAfter: 1_581_493_848_000,
        issuer: 'EMAILADDRESS=ca@gmail.com, CN=EnOS ECC CA, OU=EnOS Cloud, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        subject: 'EMAILADDRESS=xT7EaR, OU=EnOS, CN=xMen1, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
        issueAuthority: 'ECC',
        revoker: '',
        revokerReason: '',
      },
    ]);
  });

  it('keeps no field beyond the Certificate ones (the cert content is dropped: the sample\'s is not PEM)', () => {
    for (const certificate of parseCertificateList(ok(sample))) {
      expect(Object.keys(certificate).sort()).toEqual(
        ['certSN', 'issueAuthority', 'issuer', 'notAfter', 'notBefore', 'revoker', 'revokerReason', 'status', 'subject'],
      );
    }
  });

  it.each([
    { name: 'effectiveDate', fields: { effectiveDate: 1_600_000_000_000 }, notBefore: 1_600_000_000_000 },
    { name: 'effetiveDate (old spelling)', fields: { effetiveDate: 1_600_000_000_001 }, notBefore: 1_600_000_000_001 },
    { name: 'both (the right spelling wins)', fields: { effectiveDate: 1, effetiveDate: 2 }, notBefore: 1 },
    { name: 'neither', fields: {}, notBefore: null },
    { name: 'null', fields: { effectiveDate: null }, notBefore: null },
  ])('notBefore from $name', ({ fields, notBefore }) => {
    expect(parseCertificateList(ok({ code: 0, data: [cert(fields)] }))[0]?.notBefore).toBe(notBefore);
  });

  it('stringifies a numeric certSN and defaults missing or null texts to empty', () => {
    const [certificate] = parseCertificateList(ok({ code: 0, data: [cert({ certSN: 52725, issuer: null })] }));
    expect(certificate).toMatchObject({ certSN: '52725', issuer: '', subject: '', revoker: '', revokerReason: '' });
  });

  it('accepts an empty list', () => {
    expect(parseCertificateList(ok({ code: 0, msg: 'OK', data: [] }))).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['a body that is not an object', [cert()]],
    ['no code', { data: [cert()] }],
    ['a code that is not a number', { code: '0', data: [cert()] }],
    ['data not an array', { code: 0, data: { certSN: '1' } }],
    ['data null', { code: 0, data: null }],
    ['certStatus 3', { code: 0, data: [cert({ certStatus: 3 })] }],
    ['certStatus as a string', { code: 0, data: [cert({ certStatus: '0' })] }],
    ['expireDate missing', { code: 0, data: [cert({ expireDate: undefined })] }],
    ['expireDate null', { code: 0, data: [cert({ expireDate: null })] }],
    ['expireDate a string', { code: 0, data: [cert({ expireDate: '1900000000000' })] }],
    ['expireDate negative', { code: 0, data: [cert({ expireDate: -1 })] }],
    ['expireDate zero', { code: 0, data: [cert({ expireDate: 0 })] }],
    ['expireDate past year 9999', { code: 0, data: [cert({ expireDate: 1e18 })] }],
    ['expireDate fractional', { code: 0, data: [cert({ expireDate: 1.5 })] }],
    ['effectiveDate a string', { code: 0, data: [cert({ effectiveDate: 'yesterday' })] }],
    ['certSN missing', { code: 0, data: [cert({ certSN: undefined })] }],
    ['certSN empty', { code: 0, data: [cert({ certSN: '' })] }],
    ['certSN an object', { code: 0, data: [cert({ certSN: { n: 1 } })] }],
    ['certSN negative', { code: 0, data: [cert({ certSN: -5 })] }],
    ['issuer a number', { code: 0, data: [cert({ issuer: 42 })] }],
    ['an issuer of 1 MB', { code: 0, data: [cert({ issuer: 'x'.repeat(1 << 20) })] }],
    ['an entry that is not an object', { code: 0, data: [cert(), 'cert'] }],
    ['duplicate certSN', { code: 0, data: [cert({ certSN: '7' }), cert({ certSN: '7' })] }],
    ['duplicate certSN, one numeric', { code: 0, data: [cert({ certSN: '7' }), cert({ certSN: 7 })] }],
  ])('%s → invalid_response', (_name, json) => {
    const error = failure(() => parseCertificateList(ok(json)));
    expect(error.outcome).toBe('invalid_response');
    expect(error.operation).toBe('list_certificates');
    expect(error.message).toMatch(/^list_certificates failed: invalid_response \(.+\)$/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('does not echo a huge payload in the error message', () => {
    const huge = 'A'.repeat(100_000);
    const error = failure(() => parseCertificateList(ok({ code: 0, data: [cert({ certStatus: huge })] })));
    expect(error.message).not.toContain('AAAA');
  });

  it.each([
    { json: { code: 11404, msg: 'Device cannot be found', data: null }, status: 200, outcome: 'code_11404' },
    { json: { code: 99500, msg: 'Internal error', data: null }, status: 500, outcome: 'code_99500' },
    { json: { code: 99403, msg: 'permission denied' }, status: 403, outcome: 'code_99403' },
    { json: { message: 'API rate limit exceeded' }, status: 429, outcome: 'http_429' },
    { json: undefined, status: 503, outcome: 'http_503' },
    { json: { code: 0, data: [] }, status: 500, outcome: 'http_500' },
  ])('HTTP $status with $json → $outcome', ({ json, status, outcome }) => {
    expect(failure(() => parseCertificateList({ status, json })).outcome).toBe(outcome);
  });

  it('names the API outcome and its message in the error', () => {
    const error = failure(() => parseCertificateList(ok({ code: 99500, msg: 'Internal error', data: null })));
    expect(error.message).toBe('list_certificates failed: code_99500 (Internal error)');
  });

  it('caps a long API message', () => {
    const error = failure(() => parseCertificateList(ok({ code: 99400, msg: 'm'.repeat(10_000) })));
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('parseDevicePage', () => {
  const page = (data: unknown, pagination: unknown = { pageNo: 1, pageSize: 200, totalSize: 2 }) =>
    ok({ code: 0, msg: 'OK', data, pagination });

  it('reads devices and pagination, with the orgId of the request', () => {
    const parsed = parseDevicePage(
      'o1',
      page([
        { assetId: 'a1', productKey: 'p1', deviceKey: 'd1', deviceName: { defaultValue: 'n' }, status: 'online' },
        { assetId: 'a2', productKey: 'p1', deviceKey: 'd2', orgId: 'other' },
      ]),
    );
    expect(parsed).toEqual({
      devices: [
        { orgId: 'o1', assetId: 'a1', productKey: 'p1', deviceKey: 'd1' },
        { orgId: 'o1', assetId: 'a2', productKey: 'p1', deviceKey: 'd2' },
      ],
      pageNo: 1,
      pageSize: 200,
      totalSize: 2,
    });
  });

  it('drops a deviceSecret the gateway sends anyway', () => {
    const parsed = parseDevicePage('o1', page([{ assetId: 'a1', deviceSecret: 'top-secret-value' }]));
    expect(parsed.devices).toEqual([{ orgId: 'o1', assetId: 'a1' }]);
    expect(JSON.stringify(parsed)).not.toContain('top-secret-value');
  });

  it('accepts a device known by productKey and deviceKey only', () => {
    expect(parseDevicePage('o1', page([{ productKey: 'p', deviceKey: 'd', assetId: '' }])).devices).toEqual([
      { orgId: 'o1', productKey: 'p', deviceKey: 'd' },
    ]);
  });

  it.each<[string, unknown, unknown]>([
    ['data not an array', { assetId: 'a' }, undefined],
    ['a device without identifiers', [{ deviceName: 'x' }], undefined],
    ['a productKey without deviceKey', [{ productKey: 'p' }], undefined],
    ['an assetId that is a number', [{ assetId: 5 }], undefined],
    ['pagination missing', [], null],
    ['negative totalSize', [], { pageNo: 1, pageSize: 200, totalSize: -1 }],
    ['pageNo a string', [], { pageNo: '1', pageSize: 200, totalSize: 0 }],
  ])('%s → invalid_response', (_name, data, pagination) => {
    const response = pagination === undefined ? page(data) : page(data, pagination);
    const error = failure(() => parseDevicePage('o1', response));
    expect([error.operation, error.outcome]).toEqual(['search_devices', 'invalid_response']);
  });
});

describe('parseTokenGrant', () => {
  it('reads accessToken and expire', () => {
    const json = { status: 0, msg: 'Success', business: 'apim-token-service', data: { accessToken: 't-1', expire: 7200 } };
    expect(parseTokenGrant(ok(json))).toEqual({ accessToken: 't-1', expireSeconds: 7200 });
  });

  it.each([
    { json: { status: 1002, msg: 'appKey does not exist' }, outcome: 'code_1002' },
    { json: { status: 1003, msg: 'invalid encryption', data: null }, outcome: 'code_1003' },
    { json: { code: 0, data: { accessToken: 't', expire: 1 } }, outcome: 'invalid_response' },
    { json: { status: 0, data: { accessToken: '', expire: 7200 } }, outcome: 'invalid_response' },
    { json: { status: 0, data: { accessToken: 't', expire: 0 } }, outcome: 'invalid_response' },
    { json: { status: 0, data: { accessToken: 't', expire: '7200' } }, outcome: 'invalid_response' },
    { json: { status: 0, data: null }, outcome: 'invalid_response' },
  ])('$json → $outcome', ({ json, outcome }) => {
    const error = failure(() => parseTokenGrant(ok(json)));
    expect([error.operation, error.outcome]).toEqual(['token', outcome]);
  });

  it('never puts the token in an error', () => {
    const error = failure(() => parseTokenGrant(ok({ status: 0, data: { accessToken: 'tok-SECRET', expire: -1 } })));
    expect(error.message).not.toContain('tok-SECRET');
  });
});
