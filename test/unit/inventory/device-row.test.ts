import { describe, expect, it } from 'vitest';
import { deviceFromRow, type RowResult } from '../../../src/inventory/device-row.js';

describe('deviceFromRow', () => {
  it.each<[string, Record<string, unknown>, RowResult]>([
    ['by assetId', { orgId: 'o1', assetId: 'a1' }, { device: { orgId: 'o1', assetId: 'a1' } }],
    ['by keys', { orgId: 'o1', productKey: 'p', deviceKey: 'd' }, { device: { orgId: 'o1', productKey: 'p', deviceKey: 'd' } }],
    [
      'both forms',
      { orgId: 'o1', assetId: 'a1', productKey: 'p', deviceKey: 'd' },
      { device: { orgId: 'o1', assetId: 'a1', productKey: 'p', deviceKey: 'd' } },
    ],
    ['trims, drops blanks and other keys', { orgId: ' o1 ', assetId: 'a1', productKey: '', name: 'x' }, { device: { orgId: 'o1', assetId: 'a1' } }],
    ['null counts as absent', { orgId: 'o1', assetId: null, productKey: 'p', deviceKey: 'd' }, { device: { orgId: 'o1', productKey: 'p', deviceKey: 'd' } }],
    ['no orgId', { assetId: 'a1' }, { problem: 'orgId is required' }],
    ['blank orgId', { orgId: '  ', assetId: 'a1' }, { problem: 'orgId is required' }],
    ['no identifier', { orgId: 'o1' }, { problem: 'needs assetId, or productKey and deviceKey' }],
    ['half the keys', { orgId: 'o1', deviceKey: 'd' }, { problem: 'needs assetId, or productKey and deviceKey' }],
    ['asset with half the keys', { orgId: 'o1', assetId: 'a1', productKey: 'p' }, { problem: 'productKey and deviceKey go together' }],
    ['not a string', { orgId: 'o1', assetId: 7 }, { problem: 'assetId must be a string' }],
  ])('%s', (_name, row, expected) => {
    expect(deviceFromRow(row)).toEqual(expected);
  });
});
