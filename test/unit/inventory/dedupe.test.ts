import { describe, expect, it } from 'vitest';
import type { DeviceRef } from '../../../src/domain/types.js';
import { SeenDevices } from '../../../src/inventory/dedupe.js';

const asset = (orgId: string, assetId: string): DeviceRef => ({ orgId, assetId });
const keys = (orgId: string, productKey: string, deviceKey: string): DeviceRef => ({ orgId, productKey, deviceKey });
const both = (orgId: string, assetId: string, productKey: string, deviceKey: string): DeviceRef => ({
  orgId,
  assetId,
  productKey,
  deviceKey,
});

describe('SeenDevices', () => {
  it.each<[string, DeviceRef[], boolean[]]>([
    ['same assetId', [asset('o', 'a'), asset('o', 'a')], [true, false]],
    ['same keys', [keys('o', 'p', 'd'), keys('o', 'p', 'd')], [true, false]],
    ['orgId is part of the key', [asset('o1', 'a'), asset('o2', 'a')], [true, true]],
    ['assetId then both forms', [asset('o', 'a'), both('o', 'a', 'p', 'd')], [true, false]],
    ['keys then both forms', [keys('o', 'p', 'd'), both('o', 'a', 'p', 'd')], [true, false]],
    ['both forms then either', [both('o', 'a', 'p', 'd'), asset('o', 'a'), keys('o', 'p', 'd')], [true, false, false]],
    ['a skipped copy teaches its other identifier', [asset('o', 'a'), both('o', 'a', 'p', 'd'), keys('o', 'p', 'd')], [true, false, false]],
    ['the two forms alone cannot be matched', [asset('o', 'a'), keys('o', 'p', 'd')], [true, true]],
    ['parts do not run together', [keys('o', 'p/d', 'x'), keys('o', 'p', 'd/x'), asset('o/p', 'a'), asset('o', 'p/a')], [true, true, true, true]],
  ])('%s', (_name, devices, expected) => {
    const seen = new SeenDevices();
    expect(devices.map((device) => seen.admit(device))).toEqual(expected);
  });
});
