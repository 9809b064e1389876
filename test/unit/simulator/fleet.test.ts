import { describe, expect, it } from 'vitest';
import { parseExpression } from '../../../src/simulator/expression.js';
import { Fleet } from '../../../src/simulator/fleet.js';
import type { RawCertificate, SimDevice } from '../../../src/simulator/generate.js';
import { manualClock } from '../../../src/util/clock.js';

const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 15, 12, 0, 0);

function fleetOf(devices: number, seed = 1, clock = manualClock(START), minCertificates = 0): Fleet {
  return new Fleet({ seed, orgId: 'demo-org', devices, startTime: START, clock, minCertificates });
}

function everyDevice(fleet: Fleet): { device: SimDevice; certificates: readonly RawCertificate[] }[] {
  return [...fleet.devices()].map((device) => ({ device, certificates: fleet.certificates(device) ?? [] }));
}

/** Where a certificate stands at the fleet's start time. */
function kindOf(certificate: RawCertificate): string {
  if (certificate.certStatus === 1) return 'revoked';
  if (certificate.certStatus === 2) return 'expired';
  const left = Number(certificate.expireDate) - START;
  if (left <= 0) return 'valid-past-expiry';
  if (left <= 7 * DAY) return 'valid-within-7-days';
  if (left <= 30 * DAY) return 'valid-within-30-days';
  return 'valid-far';
}

const isNearValid = (c: RawCertificate) => c.certStatus === 0 && kindOf(c).startsWith('valid-within');
const isFarValid = (c: RawCertificate) => kindOf(c) === 'valid-far';

describe('generated fleet', () => {
  it('is the same for the same seed', () => {
    expect(everyDevice(fleetOf(200, 7))).toEqual(everyDevice(fleetOf(200, 7)));
  });

  it('differs for another seed', () => {
    const one = everyDevice(fleetOf(50, 1));
    const two = everyDevice(fleetOf(50, 2));
    expect(one.map((d) => d.device.productKey)).not.toEqual(two.map((d) => d.device.productKey));
    expect(one.map((d) => d.certificates)).not.toEqual(two.map((d) => d.certificates));
  });

  it('names devices by zero-padded index', () => {
    const device = fleetOf(100).device(7);
    expect(device).toMatchObject({ index: 7, orgId: 'demo-org', assetId: 'asset-000007', deviceKey: 'dev-000007' });
    expect(['pk-a', 'pk-b', 'pk-c']).toContain(device?.productKey);
  });

  it('shows every certificate state in a default fleet of 100', () => {
    const devices = everyDevice(fleetOf(100));
    const kinds = new Set(devices.flatMap((d) => d.certificates.map(kindOf)));
    expect([...kinds].sort()).toEqual([
      'expired',
      'revoked',
      'valid-far',
      'valid-past-expiry',
      'valid-within-30-days',
      'valid-within-7-days',
    ]);
    expect(devices.some((d) => d.certificates.length === 0)).toBe(true);
    expect(devices.some((d) => d.certificates.some(isNearValid) && d.certificates.some(isFarValid))).toBe(true);
    const revoked = devices.flatMap((d) => d.certificates).find((c) => c.certStatus === 1);
    expect(revoked).toMatchObject({ revoker: expect.any(String), revokerReason: expect.any(String) });
    expect(revoked?.revoker).not.toBe('');
  });

  it('spells the start date both ways, per device', () => {
    const devices = everyDevice(fleetOf(100)).filter((d) => d.certificates.length > 0);
    const spellings = (d: { certificates: readonly RawCertificate[] }) =>
      new Set(d.certificates.map((c) => ('effetiveDate' in c ? 'effetiveDate' : 'effectiveDate')));
    expect(devices.every((d) => spellings(d).size === 1)).toBe(true);
    expect(new Set(devices.flatMap((d) => [...spellings(d)]))).toEqual(new Set(['effetiveDate', 'effectiveDate']));
  });

  it('holds 0 to 4 certificates per device, mostly 1 or 2, with fleet-unique numeric certSNs', () => {
    const devices = everyDevice(fleetOf(1000));
    const counts = devices.map((d) => d.certificates.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(counts.filter((n) => n === 1 || n === 2).length).toBeGreaterThan(800);
    const serials = devices.flatMap((d) => d.certificates.map((c) => c.certSN));
    expect(serials.every((sn) => typeof sn === 'string' && /^\d+$/.test(sn))).toBe(true);
    expect(new Set(serials).size).toBe(serials.length);
  });

  it.each([1, 2, 4])('gives every device at least %i certificates when asked', (minCertificates) => {
    const counts = everyDevice(fleetOf(500, 1, manualClock(START), minCertificates)).map((d) => d.certificates.length);
    expect(Math.min(...counts)).toBe(minCertificates);
    expect(Math.max(...counts)).toBe(4);
  });

  it('refuses a minimum no certificate mix reaches', () => {
    expect(() => fleetOf(10, 1, manualClock(START), 5)).toThrow(/no certificate profile has 5 certificates/);
  });

  it('answers certificates shaped like the documented sample', () => {
    const device = everyDevice(fleetOf(100)).find((d) => d.certificates.length > 0);
    const certificate = device?.certificates[0];
    expect(certificate).toMatchObject({
      certSN: expect.any(String),
      cert: expect.any(String),
      certStatus: expect.any(Number),
      signDate: expect.any(Number),
      expireDate: expect.any(Number),
      isEnosCert: expect.any(Boolean),
      audit: expect.objectContaining({ createBy: 'demo-org', deleted: false }),
    });
    expect(certificate?.issuer).toMatch(/^EMAILADDRESS=.+, CN=EnOS (ECC )?CA, OU=.+, O=EnOS, L=Shanghai, ST=Shanghai, C=CN$/);
    expect(certificate?.subject).toMatch(/^EMAILADDRESS=.+, CN=dev-\d{6}, OU=EnOS, O=EnOS, L=Shanghai, ST=Shanghai, C=CN$/);
    expect(['RSA', 'ECC']).toContain(certificate?.issueAuthority);
  });

  it('derives any device of a million-device fleet on demand', () => {
    const fleet = fleetOf(1_000_000);
    const started = performance.now();
    const device = fleet.device(1_000_000);
    const certificates = fleet.certificates({ orgId: 'demo-org', assetId: 'asset-1000000' });
    expect(device?.assetId).toBe('asset-1000000');
    expect(certificates).toBeDefined();
    expect(fleet.search([], 0, 200).devices[0]?.index).toBe(1_000_000);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('finding devices', () => {
  const fleet = fleetOf(100);
  const device = fleet.device(42) as SimDevice;

  it.each([
    ['assetId', { orgId: 'demo-org', assetId: 'asset-000042' }, 42],
    ['productKey + deviceKey', { orgId: 'demo-org', productKey: device.productKey, deviceKey: 'dev-000042' }, 42],
    ['another org', { orgId: 'other-org', assetId: 'asset-000042' }, undefined],
    ['a wrong productKey', { orgId: 'demo-org', productKey: 'pk-x', deviceKey: 'dev-000042' }, undefined],
    ['a non-canonical id', { orgId: 'demo-org', assetId: 'asset-42' }, undefined],
    ['an index past the end', { orgId: 'demo-org', assetId: 'asset-000101' }, undefined],
    ['no identifier', { orgId: 'demo-org' }, undefined],
  ])('by %s', (_name, ref, index) => {
    expect(fleet.find(ref)?.index).toBe(index);
  });
});

describe('fleet mutations', () => {
  const clock = manualClock(START);
  const fresh = () => fleetOf(20, 1, clock);
  const withCertificate = (fleet: Fleet) => {
    const device = [...fleet.devices()].find((d) => (fleet.certificates(d) ?? []).some((c) => c.certStatus === 0));
    if (!device) throw new Error('no device with a valid certificate');
    const certSN = String(fleet.certificates(device)?.find((c) => c.certStatus === 0)?.certSN);
    return { device, certSN };
  };
  const certificate = (fleet: Fleet, device: SimDevice, certSN: string) =>
    fleet.certificates(device)?.find((c) => c.certSN === certSN);

  it('addDevice creates the newest device, first in search results', () => {
    const fleet = fresh();
    const before = fleet.search([], 0, 5).devices.map((d) => d.index);
    const added = fleet.addDevice();
    expect(added.index).toBe(21);
    expect(fleet.size).toBe(21);
    expect(fleet.search([], 0, 5).devices.map((d) => d.index)).toEqual([21, ...before.slice(0, 4)]);
  });

  it('addDevice takes given certificates', () => {
    const fleet = fresh();
    const added = fleet.addDevice([{ certSN: 'x' }]);
    expect(fleet.certificates(added)).toEqual([{ certSN: 'x' }]);
  });

  it('removeDevice makes the device unknown and closes the gap in search results', () => {
    const fleet = fresh();
    fleet.removeDevice({ orgId: 'demo-org', assetId: 'asset-000019' });
    expect(fleet.find({ orgId: 'demo-org', assetId: 'asset-000019' })).toBeUndefined();
    expect(fleet.certificates({ orgId: 'demo-org', assetId: 'asset-000019' })).toBeUndefined();
    expect(fleet.size).toBe(19);
    expect(fleet.search([], 0, 3).devices.map((d) => d.index)).toEqual([20, 18, 17]);
    expect(() => fleet.removeDevice({ orgId: 'demo-org', assetId: 'asset-000019' })).toThrow(/no such device/);
  });

  it('pages without overlap or gaps however devices were removed', () => {
    const fleet = fresh();
    for (const index of [20, 19, 15, 3, 1, 8]) fleet.removeDevice({ orgId: 'demo-org', assetId: `asset-${String(index).padStart(6, '0')}` });
    const paged = [0, 1, 2, 3, 4].flatMap((page) => fleet.search([], page * 3, 3).devices.map((d) => d.index));
    const expected = [...fleet.devices()].map((d) => d.index).reverse();
    expect(paged).toEqual(expected);
  });

  it('revoke sets certStatus 1 with revoker and reason', () => {
    const fleet = fresh();
    const { device, certSN } = withCertificate(fleet);
    clock.advance(DAY);
    fleet.revoke(device, certSN, 'ops', 'KEY COMPROMISE');
    expect(certificate(fleet, device, certSN)).toMatchObject({
      certStatus: 1,
      revoker: 'ops',
      revokerReason: 'KEY COMPROMISE',
      audit: expect.objectContaining({ updateTime: clock.now() }),
    });
  });

  it('expire sets certStatus 2', () => {
    const fleet = fresh();
    const { device, certSN } = withCertificate(fleet);
    fleet.expire(device, certSN);
    expect(certificate(fleet, device, certSN)?.certStatus).toBe(2);
  });

  it('renew adds a valid successor and keeps the old certificate', () => {
    const fleet = fresh();
    const { device, certSN } = withCertificate(fleet);
    const count = fleet.certificates(device)?.length ?? 0;
    const renewed = fleet.renew(device, certSN, 90);
    expect(renewed).not.toBe(certSN);
    expect(fleet.certificates(device)).toHaveLength(count + 1);
    expect(certificate(fleet, device, certSN)).toBeDefined();
    const successor = certificate(fleet, device, renewed);
    expect(successor).toMatchObject({ certStatus: 0, expireDate: Math.floor(clock.now() / 1000) * 1000 + 90 * DAY });
    expect(successor?.[device.startDateField]).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it('addCertificate applies the partial and returns a fresh certSN', () => {
    const fleet = fresh();
    const device = fleet.device(5) as SimDevice;
    const first = fleet.addCertificate(device, { certStatus: 2, issueAuthority: 'ECC', expireDate: START - DAY });
    const second = fleet.addCertificate(device);
    expect(first).not.toBe(second);
    expect(certificate(fleet, device, first)).toMatchObject({ certStatus: 2, issueAuthority: 'ECC', expireDate: START - DAY });
    expect(certificate(fleet, device, second)).toMatchObject({ certStatus: 0 });
    const generated = everyDevice(fleet).flatMap((d) => d.certificates.map((c) => c.certSN));
    expect(new Set(generated).size).toBe(generated.length);
  });

  it('removeCertificate drops exactly that certificate', () => {
    const fleet = fresh();
    const { device, certSN } = withCertificate(fleet);
    const others = fleet.certificates(device)?.filter((c) => c.certSN !== certSN);
    fleet.removeCertificate(device, certSN);
    expect(fleet.certificates(device)).toEqual(others);
    expect(() => fleet.removeCertificate(device, certSN)).toThrow(/no certificate/);
  });

  it('setCertificates stores anything, as given', () => {
    const fleet = fresh();
    const device = fleet.device(3) as SimDevice;
    const hostile = [{ certSN: 5, certStatus: 'revoked' }, { expireDate: null }];
    fleet.setCertificates(device, hostile);
    expect(fleet.certificates(device)).toEqual(hostile);
  });

  it('mutating one fleet leaves another with the same seed untouched', () => {
    const one = fresh();
    const two = fresh();
    const { device, certSN } = withCertificate(one);
    one.revoke(device, certSN);
    expect(certificate(two, device, certSN)?.certStatus).toBe(0);
  });
});

describe('fleet search', () => {
  const fleet = fleetOf(300);
  const all = [...fleet.devices()].reverse();

  it.each([
    ["productKey = 'pk-b'", (d: SimDevice) => d.productKey === 'pk-b'],
    ["productKey = 'pk-a' AND status = 'online'", (d: SimDevice) => d.productKey === 'pk-a' && d.status === 'online'],
    ["assetId = 'asset-000123'", (d: SimDevice) => d.index === 123],
    ["deviceKey = 'dev-000123' and productKey = 'pk-none'", () => false],
    ["assetId = 'asset-999999'", () => false],
  ])('%s', (expression, predicate) => {
    const conditions = parseExpression(expression);
    const expected = all.filter(predicate).map((d) => d.index);
    const result = fleet.search(conditions, 0, 1000);
    expect(result.total).toBe(expected.length);
    expect(result.devices.map((d) => d.index)).toEqual(expected);
  });

  it('sees devices added after a cached search', () => {
    const grown = fleetOf(30);
    const conditions = parseExpression("productKey = 'pk-a'");
    const before = grown.search(conditions, 0, 100).total;
    let added = grown.addDevice();
    while (added.productKey !== 'pk-a') added = grown.addDevice();
    expect(grown.search(conditions, 0, 100).total).toBe(before + 1);
    expect(grown.search(conditions, 0, 1).devices[0]?.index).toBe(added.index);
  });
});
