import { describe, expect, it } from 'vitest';
import { deviceId } from '../../../src/domain/device-id.js';
import type { DeviceRef } from '../../../src/domain/types.js';
import { EnosApiError } from '../../../src/enos/outcome.js';
import { openInventory } from '../../../src/inventory/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { capturedLogger, collect, discovered, fakeSearch, inventoryConfig } from './support.js';

const ids = (devices: readonly DeviceRef[]): string[] => devices.map(deviceId);

describe('inventory discovery', () => {
  it.each([
    ['no devices', 0, [1]],
    ['one partial page', 2, [1]],
    ['exactly one page', 3, [1]],
    ['several pages', 8, [1, 2, 3]],
    ['exact multiple of the page size', 9, [1, 2, 3]],
  ])('fetches every page: %s', async (_name, count, pages) => {
    const fleet = discovered('o1', count);
    const fake = fakeSearch({ o1: fleet });
    const { devices, inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1', expression: "productKey = 'p'" }] }), {
      api: fake,
    });
    expect(devices).toEqual(fleet);
    expect(fake.calls).toEqual(pages.map((pageNo) => ({ orgId: 'o1', expression: "productKey = 'p'", pageNo })));
    expect(inventory.complete).toBe(true);
  });

  it('yields a page before fetching the next', async () => {
    const events: string[] = [];
    const fake = fakeSearch({ o1: discovered('o1', 5) }, { beforePage: (_org, pageNo) => events.push(`page ${pageNo}`) });
    const inventory = openInventory(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api: fake, log: silentLogger });
    for await (const device of inventory.devices()) events.push(device.assetId ?? '');
    expect(events).toEqual(['page 1', 'a5', 'a4', 'a3', 'page 2', 'a2', 'a1']);
  });

  it('stops at an empty page even when the total claims more', async () => {
    const fake = fakeSearch({ o1: discovered('o1', 4) });
    const lying = {
      searchDevices: async (...args: Parameters<typeof fake.searchDevices>) => ({ ...(await fake.searchDevices(...args)), totalSize: 100 }),
    };
    const { devices, inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api: lying });
    expect(devices).toHaveLength(4);
    expect(fake.calls.map((call) => call.pageNo)).toEqual([1, 2, 3]);
    expect(inventory.complete).toBe(true);
  });

  it('yields every device exactly once while new devices push the pages along', async () => {
    const original = discovered('o1', 10);
    const fleet = [...original];
    let created = 0;
    const fake = fakeSearch(
      { o1: fleet },
      {
        beforePage: (_org, pageNo) => {
          // Newest first: each device created between two calls moves every other one a place on.
          if (pageNo > 1) fleet.unshift(...discovered('o1', 2, `new${created++}-`));
        },
      },
    );
    const { devices, inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api: fake });
    expect(new Set(ids(devices)).size).toBe(devices.length);
    expect(ids(devices)).toEqual(expect.arrayContaining(ids(original)));
    expect(inventory.complete).toBe(true);
  });

  it('gives up on a result that never ends, after the first total allows plus five pages', async () => {
    const fleet = discovered('o1', 10);
    let created = 0;
    const fake = fakeSearch({ o1: fleet }, { beforePage: () => fleet.unshift(...discovered('o1', 3, `new${created++}-`)) });
    const { inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api: fake });
    expect(fake.calls).toHaveLength(Math.ceil(13 / 3) + 5);
    expect(inventory.problems).toEqual([expect.objectContaining({ source: 'discover', orgId: 'o1', reason: 'page_limit' })]);
    expect(inventory.complete).toBe(false);
  });

  it('keeps what a failing entry yielded, reports the outcome and goes on with the next entry', async () => {
    const fake = fakeSearch(
      { o1: discovered('o1', 7), o2: discovered('o2', 2) },
      {
        beforePage: (orgId, pageNo) => {
          if (orgId === 'o1' && pageNo === 2) throw new EnosApiError('search_devices', 'code_99500', 'gateway error 99500');
        },
      },
    );
    const { log, lines } = capturedLogger();
    const { devices, inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1' }, { orgId: 'o2' }] }), { api: fake, log });
    expect(ids(devices)).toEqual(['o1/a7', 'o1/a6', 'o1/a5', 'o2/a2', 'o2/a1']);
    expect(inventory.problems).toEqual([
      { source: 'discover', orgId: 'o1', reason: 'code_99500', message: 'discover o1: page 2 failed: gateway error 99500' },
    ]);
    expect(inventory.complete).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'inventory source failed', orgId: 'o1', reason: 'code_99500' }));
  });

  it('reports an unexpected failure as error', async () => {
    const api = { searchDevices: () => Promise.reject(new TypeError('boom')) };
    const { inventory } = await collect(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api });
    expect(inventory.problems).toEqual([expect.objectContaining({ reason: 'error', message: 'discover o1: page 1 failed: boom' })]);
    expect(inventory.complete).toBe(false);
  });
});
