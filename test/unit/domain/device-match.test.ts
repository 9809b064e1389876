import { describe, expect, it } from 'vitest';
import { deviceMatcher } from '../../../src/domain/device-match.js';

const BY_ASSET = { orgId: 'o1', assetId: 'a1', productKey: 'pk', deviceKey: 'dk' };
const BY_KEYS = { orgId: 'o1', assetId: '', productKey: 'pk', deviceKey: 'dk' };
const OTHER = { orgId: 'o2', assetId: 'a2', productKey: 'pk', deviceKey: 'dk2' };

describe('deviceMatcher: the spellings a person uses for a device', () => {
  it.each<[string, boolean, boolean, boolean]>([
    // spelling, matches BY_ASSET, BY_KEYS, OTHER
    ['o1/a1', true, false, false],
    ['o1/pk/dk', true, true, false],
    ['o1/pk:dk', true, true, false],
    ['pk:dk', true, true, false],
    ['pk/dk', true, true, false],
    ['a1', true, false, false],
    ['dk', true, true, false],
    ['o1/dk', true, true, false],
    [' o1/a1/ ', true, false, false],
    ['o2/a1', false, false, false],
    ['o1/a1/x/y', false, false, false],
    ['', false, false, false],
  ])('%j', (spelling, asset, keys, other) => {
    const matches = deviceMatcher(spelling);
    expect([matches(BY_ASSET), matches(BY_KEYS), matches(OTHER)]).toEqual([asset, keys, other]);
  });
});
