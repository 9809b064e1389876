import { describe, expect, it } from 'vitest';
import { Fleet } from '../../../src/simulator/fleet.js';
import { listCertificates, searchDevices } from '../../../src/simulator/handlers.js';
import { faultAnswer } from '../../../src/simulator/responses.js';
import { manualClock } from '../../../src/util/clock.js';

const START = Date.UTC(2025, 0, 15);
const fleet = new Fleet({ seed: 1, orgId: 'demo-org', devices: 25, startTime: START, clock: manualClock(START) });

const body = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;
const list = (query: string) => body(listCertificates(fleet, new URLSearchParams(query)));
const search = (payload: unknown, query = 'action=search&orgId=demo-org') =>
  body(searchDevices(fleet, new URLSearchParams(query), typeof payload === 'string' ? payload : JSON.stringify(payload)));

describe('listCertificates', () => {
  it('answers the device certificates in the OK envelope', () => {
    const answer = list('action=list&orgId=demo-org&assetId=asset-000002');
    expect(answer).toEqual({
      code: 0,
      msg: 'OK',
      requestId: expect.any(String),
      data: fleet.certificates({ orgId: 'demo-org', assetId: 'asset-000002' }),
    });
  });

  it('finds a device by productKey + deviceKey', () => {
    const { productKey } = fleet.device(4) ?? { productKey: '' };
    const answer = list(`action=list&orgId=demo-org&productKey=${productKey}&deviceKey=dev-000004`);
    expect(answer.data).toEqual(fleet.certificates({ orgId: 'demo-org', assetId: 'asset-000004' }));
  });

  it.each([
    ['an unknown asset', 'action=list&orgId=demo-org&assetId=asset-999999', 11404],
    ['another org', 'action=list&orgId=other&assetId=asset-000001', 11404],
    ['a wrong productKey', 'action=list&orgId=demo-org&productKey=pk-zz&deviceKey=dev-000001', 11404],
    ['no device identifier', 'action=list&orgId=demo-org', 99400],
    ['a deviceKey without productKey', 'action=list&orgId=demo-org&deviceKey=dev-000001', 99400],
    ['an empty assetId', 'action=list&orgId=demo-org&assetId=', 99400],
    ['no orgId', 'action=list&assetId=asset-000001', 99400],
    ['another action', 'action=apply&orgId=demo-org&assetId=asset-000001', 99400],
  ])('answers %s with its code', (_name, query, code) => {
    expect(list(query)).toMatchObject({ code, msg: expect.any(String), requestId: expect.any(String), data: null });
  });
});

describe('searchDevices', () => {
  it('defaults to page 1 of 10, newest first, deviceSecret included', () => {
    const answer = search({});
    expect(answer).toMatchObject({ code: 0, pagination: { pageNo: 1, pageSize: 10, totalSize: 25 } });
    const devices = answer.data as Record<string, unknown>[];
    expect(devices.map((d) => d.assetId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `asset-${String(25 - i).padStart(6, '0')}`),
    );
    expect(devices[0]).toMatchObject({
      orgId: 'demo-org',
      deviceKey: 'dev-000025',
      deviceSecret: expect.any(String),
      deviceName: { defaultValue: expect.any(String), i18nValue: expect.any(Object) },
    });
  });

  it('accepts an empty body', () => {
    expect(search('')).toMatchObject({ code: 0, pagination: { pageNo: 1, pageSize: 10, totalSize: 25 } });
  });

  it('answers a later page, and an empty one past the end', () => {
    expect((search({ pagination: { pageNo: 3, pageSize: 10 } }).data as unknown[]).length).toBe(5);
    expect(search({ pagination: { pageNo: 4, pageSize: 10 } })).toMatchObject({ data: [], pagination: { totalSize: 25 } });
  });

  it('keeps only the projected fields', () => {
    const answer = search({ projection: ['assetId', 'productKey', 'deviceKey', 'deviceName.defaultValue', 'status'] });
    const device = (answer.data as Record<string, unknown>[])[0];
    expect(Object.keys(device ?? {}).sort()).toEqual(['assetId', 'deviceKey', 'deviceName', 'productKey', 'status']);
  });

  it('filters by expression', () => {
    const answer = search({ expression: "productKey = 'pk-a'", pagination: { pageNo: 1, pageSize: 200 } });
    const expected = [...fleet.devices()].filter((d) => d.productKey === 'pk-a');
    expect(answer.pagination).toMatchObject({ totalSize: expected.length });
    expect((answer.data as { productKey: string }[]).every((d) => d.productKey === 'pk-a')).toBe(true);
  });

  it('has no devices for another org', () => {
    expect(search({}, 'action=search&orgId=other')).toMatchObject({ code: 0, data: [], pagination: { totalSize: 0 } });
  });

  it.each([
    ['pageSize above 200', { pagination: { pageNo: 1, pageSize: 201 } }],
    ['pageSize 0', { pagination: { pageNo: 1, pageSize: 0 } }],
    ['pageNo 0', { pagination: { pageNo: 0, pageSize: 10 } }],
    ['a string pageNo', { pagination: { pageNo: '1', pageSize: 10 } }],
    ['an unparseable expression', { expression: "name like 'x%'" }],
    ['a numeric expression', { expression: 5 }],
    ['a projection that is not a list', { projection: 'assetId' }],
    ['a body that is not JSON', '{"pagination":'],
    ['a body that is an array', '[]'],
  ])('refuses %s with 99400', (_name, payload) => {
    expect(search(payload)).toMatchObject({ code: 99400, data: null });
  });

  it.each([
    ['no orgId', 'action=search'],
    ['another action', 'action=list&orgId=demo-org'],
  ])('refuses %s with 99400', (_name, query) => {
    expect(search({}, query)).toMatchObject({ code: 99400, data: null });
  });
});

describe('faultAnswer', () => {
  it.each([
    ['http_429', 'list', 429],
    ['http_500', 'search', 500],
    ['http_503', 'token', 503],
  ] as const)('%s on %s is a gateway error', (kind, endpoint, status) => {
    const answer = faultAnswer(kind, endpoint);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
  });

  it.each([
    ['code_99500', 99500],
    ['code_99400', 99400],
    ['code_11404', 11404],
  ] as const)('%s answers HTTP 200 with the code, and the token service with that status', (kind, code) => {
    expect(JSON.parse(faultAnswer(kind, 'list').body)).toMatchObject({ code, data: null, requestId: expect.any(String) });
    expect(JSON.parse(faultAnswer(kind, 'token').body)).toMatchObject({ status: code, data: null });
  });

  it.each(['token', 'list', 'search'] as const)('malformed on %s is not JSON; wrong_types is', (endpoint) => {
    expect(() => JSON.parse(faultAnswer('malformed', endpoint).body)).toThrow(SyntaxError);
    expect(JSON.parse(faultAnswer('wrong_types', endpoint).body)).toEqual(expect.any(Object));
  });
});
