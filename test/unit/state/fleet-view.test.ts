import { describe, expect, it } from 'vitest';
import type { Certificate, DeviceRef } from '../../../src/domain/types.js';
import { dnPattern, expandDn, plainCertificate } from '../../../src/state/compact-certificate.js';
import { FleetView, type DeviceRecord } from '../../../src/state/fleet-view.js';
import { StringPool } from '../../../src/state/string-pool.js';
import { cert, record } from '../metrics/fixtures.js';

const DEVICE: DeviceRef = { orgId: 'o1', productKey: 'pk', deviceKey: 'dev-000123' };

/** The same text in a string of its own, as each parsed answer brings it. */
function copy(text: string): string {
  return text.split('').join('');
}

describe('dnPattern / expandDn', () => {
  it.each<[string, DeviceRef, string]>([
    ['EMAILADDRESS=dev-000123@devices.enos, CN=dev-000123, OU=EnOS', DEVICE, 'EMAILADDRESS=\uE000@devices.enos, CN=\uE000, OU=EnOS'],
    ['CN=asset-9, O=dev-000123', { orgId: 'o', assetId: 'asset-9', deviceKey: 'dev-000123' }, 'CN=\uE001, O=\uE000'],
    ['CN=EnOS CA, O=EnOS', DEVICE, 'CN=EnOS CA, O=EnOS'],
    ['CN=ab, O=ab', { orgId: 'o', deviceKey: 'ab' }, 'CN=ab, O=ab'],
    ['CN=x\uE000y', DEVICE, '\uE002CN=x\uE000y'],
    ['CN=\uE002dev-000123', DEVICE, '\uE002CN=\uE002dev-000123'],
    ['', DEVICE, ''],
  ])('%j is held as %j and read back exactly', (dn, device, pattern) => {
    expect(dnPattern(dn, device)).toBe(pattern);
    expect(expandDn(dnPattern(dn, device), device)).toBe(dn);
  });

  it('reads back names whose device ids hold mark characters or overlap', () => {
    const devices: DeviceRef[] = [
      { orgId: 'o', assetId: 'a\uE000b', deviceKey: 'key' },
      { orgId: 'o', assetId: 'keykey', deviceKey: 'key' },
      { orgId: 'o', assetId: 'abc', deviceKey: 'abcabc' },
    ];
    for (const device of devices) {
      for (const dn of ['CN=keykeykey, O=abcabcabc', `CN=${device.assetId}, O=${device.deviceKey}`, 'a\uE000b']) {
        expect(expandDn(dnPattern(dn, device), device)).toBe(dn);
      }
    }
  });
});

describe('StringPool', () => {
  it('returns the first of equal strings, and starts over when full', () => {
    const pool = new StringPool(2);
    const first = pool.intern(copy('issuer'));
    expect(pool.intern(copy('issuer'))).toBe(first);
    pool.intern('b');
    expect(pool.size).toBe(2);
    pool.intern('c');
    expect(pool.size).toBe(1);
  });
});

describe('FleetView', () => {
  const subject = 'EMAILADDRESS=dev-000123@devices.enos, CN=dev-000123, OU=EnOS';
  const fresh = (): DeviceRecord =>
    record({ ...DEVICE, orgId: copy('o1'), productKey: copy('pk') }, [
      cert('1', 90, { subject: copy(subject), issuer: copy('CN=EnOS CA, O=EnOS'), revokerReason: copy('') }),
      cert('2', 10, { subject: copy(subject), status: 'revoked', revoker: copy('IoT_Hub') }),
    ]);

  it('gives back every field of every certificate as it was set', () => {
    const fleet = new FleetView();
    const given = fresh();
    fleet.set(given);
    const held = fleet.get(given.id)!;
    expect(held.device).toEqual(given.device);
    expect(held.certificates.map(plainCertificate)).toEqual(given.certificates);
    expect(held.certificates[0]!.subject).toBe(subject);
    expect(JSON.parse(JSON.stringify(held.certificates[1]))).toEqual(given.certificates[1]);
    expect(Object.keys(plainCertificate(held.certificates[0]!))).toEqual(Object.keys(given.certificates[0]!));
  });

  it('shares repeated strings between devices and keeps no caller object', () => {
    const fleet = new FleetView();
    const a = fresh();
    fleet.set(a);
    fleet.set(record({ orgId: copy('o1'), productKey: copy('pk'), deviceKey: 'dev-000124' }, [cert('3', 90, { issuer: copy('CN=EnOS CA, O=EnOS') })]));
    const [first, second] = [...fleet.records()];
    expect(first!.device).not.toBe(a.device);
    expect(first!.certificates[0]).not.toBe(a.certificates[0]);
    // Identity of shared strings cannot be observed from JavaScript; equal patterns must at least read back alike.
    expect(second!.device.orgId).toBe(first!.device.orgId);
    expect(second!.certificates[0]!.issuer).toBe(first!.certificates[0]!.issuer);
  });

  it('keeps the objects it holds when a rescan brings the same device and certificates', () => {
    const fleet = new FleetView();
    fleet.set(fresh());
    const before = fleet.get('o1/pk/dev-000123')!;
    fleet.set(fresh());
    const after = fleet.get('o1/pk/dev-000123')!;
    expect(after.device).toBe(before.device);
    expect(after.certificates).toBe(before.certificates);
    fleet.set({ ...fresh(), certificates: [cert('1', 91)] });
    expect(fleet.get('o1/pk/dev-000123')!.certificates).not.toBe(before.certificates);
  });

  it('tells listeners the record and the one it replaced', () => {
    const fleet = new FleetView();
    const heard: [string, DeviceRecord | undefined, DeviceRecord | undefined][] = [];
    fleet.onChange((id, now, previous) => heard.push([id, now, previous]));
    fleet.set(fresh());
    fleet.set(fresh());
    fleet.delete('o1/pk/dev-000123');
    fleet.delete('o1/pk/dev-000123');
    expect(heard.map(([id, now, previous]) => [id, now !== undefined, previous !== undefined])).toEqual([
      ['o1/pk/dev-000123', true, false],
      ['o1/pk/dev-000123', true, true],
      ['o1/pk/dev-000123', false, true],
    ]);
    expect(heard[2]![2]).toBe(heard[1]![1]);
  });

  it('keeps no field the domain types do not have, such as a raw PEM', () => {
    const fleet = new FleetView();
    const withPem = { ...cert('1', 90), cert: '-----BEGIN CERTIFICATE-----' } as Certificate;
    fleet.set(record(DEVICE, [withPem]));
    expect(JSON.stringify(fleet.get('o1/pk/dev-000123'))).not.toContain('BEGIN CERTIFICATE');
  });
});
