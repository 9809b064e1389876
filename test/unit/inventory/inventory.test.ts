import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import type { DeviceRef } from '../../../src/domain/types.js';
import { EnosApiError } from '../../../src/enos/outcome.js';
import { openInventory, type InventoryProblem } from '../../../src/inventory/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { collect, discovered, fakeSearch, fixture, inventoryConfig } from './support.js';

describe('inventory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inventory-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('yields the static list as configured', async () => {
    const static_: DeviceRef[] = [
      { orgId: 'o1', assetId: 'a1' },
      { orgId: 'o1', productKey: 'p1', deviceKey: 'd1' },
    ];
    const { devices, inventory } = await collect(inventoryConfig({ devices: static_ }));
    expect(devices).toEqual(static_);
    expect(inventory.problems).toEqual([]);
    expect(inventory.complete).toBe(true);
  });

  it('reads static devices, then files in order, then discovery', async () => {
    const json = join(dir, 'order.json');
    await writeFile(json, JSON.stringify([{ orgId: 'o1', assetId: 'from-json' }]));
    const fake = fakeSearch({ o1: [{ orgId: 'o1', assetId: 'found', productKey: 'p', deviceKey: 'd' }] });
    const { devices } = await collect(
      inventoryConfig({ devices: [{ orgId: 'o1', assetId: 'static' }], files: [fixture('valid.csv'), json], discover: [{ orgId: 'o1' }] }),
      { api: fake },
    );
    expect(devices.map((device) => device.assetId)).toEqual(['static', 'a9', 'from-json', 'found']);
  });

  it('collapses duplicates within and across sources in both identifier forms; the first copy wins', async () => {
    const csv = join(dir, 'dupes.csv');
    await writeFile(csv, 'orgId,productKey,deviceKey,assetId\no1,p2,d2,\no1,,,a1\no1,p2,d2,\n');
    const fake = fakeSearch({
      o1: [
        { orgId: 'o1', assetId: 'a1', productKey: 'p1', deviceKey: 'd1' }, // static a1, by assetId
        { orgId: 'o1', assetId: 'a2', productKey: 'p2', deviceKey: 'd2' }, // CSV p2/d2, by keys
        { orgId: 'o1', assetId: 'a3', productKey: 'p3', deviceKey: 'd3' }, // new
      ],
    });
    const { devices, inventory } = await collect(
      inventoryConfig({
        devices: [
          { orgId: 'o1', assetId: 'a1' },
          { orgId: 'o1', assetId: 'a1' },
          { orgId: 'o2', assetId: 'a1' },
        ],
        files: [csv],
        // A second entry overlapping the first: its devices carry both forms and are all known.
        discover: [{ orgId: 'o1' }, { orgId: 'o1', expression: "productKey = 'p1'" }],
      }),
      { api: fake },
    );
    expect(devices).toEqual([
      { orgId: 'o1', assetId: 'a1' },
      { orgId: 'o2', assetId: 'a1' },
      { orgId: 'o1', productKey: 'p2', deviceKey: 'd2' },
      { orgId: 'o1', assetId: 'a3', productKey: 'p3', deviceKey: 'd3' },
    ]);
    expect(fake.calls).toHaveLength(2);
    expect(inventory.complete).toBe(true);
  });

  it('streams to onProblem as problems happen and collects them', async () => {
    const seen: InventoryProblem[] = [];
    const config = inventoryConfig({ files: [fixture('missing.csv')], discover: [{ orgId: 'o1' }] });
    const fake = fakeSearch({}, { beforePage: () => { throw new EnosApiError('search_devices', 'http_503', 'HTTP 503'); } });
    const { inventory } = await collect(config, { api: fake, onProblem: (problem) => seen.push(problem) });
    expect(seen.map((problem) => [problem.source, problem.reason])).toEqual([
      ['file', 'unreadable'],
      ['discover', 'http_503'],
    ]);
    expect(inventory.problems).toEqual(seen);
  });

  it('is incomplete until iterated to the end', async () => {
    const inventory = openInventory(inventoryConfig({ devices: [{ orgId: 'o1', assetId: 'a1' }, { orgId: 'o1', assetId: 'a2' }] }), {
      api: fakeSearch({}),
      log: silentLogger,
    });
    expect(inventory.complete).toBe(false);
    for await (const _device of inventory.devices()) break;
    expect(inventory.complete).toBe(false);
  });

  it('may be iterated only once', async () => {
    const inventory = openInventory(inventoryConfig({ devices: [{ orgId: 'o1', assetId: 'a1' }] }), { api: fakeSearch({}), log: silentLogger });
    await inventory.devices().next();
    await expect(inventory.devices().next()).rejects.toThrow('only once');
  });

  describe('abort', () => {
    const reason = new Error('scan aborted');

    it.each<[string, (controller: AbortController) => Config['inventory']]>([
      ['among static devices', () => inventoryConfig({ devices: [{ orgId: 'o1', assetId: 'a0' }, { orgId: 'o1', assetId: 'a1' }] })],
      ['in a file', () => inventoryConfig({ devices: [{ orgId: 'o1', assetId: 'a0' }], files: [fixture('devices.csv')] })],
      ['in discovery', () => inventoryConfig({ discover: [{ orgId: 'o1' }] })],
    ])('stops %s after the device that triggered it', async (_name, configFor) => {
      const controller = new AbortController();
      const fake = fakeSearch({ o1: discovered('o1', 9, 'a') });
      const inventory = openInventory(configFor(controller), { api: fake, log: silentLogger, signal: controller.signal });
      const devices: DeviceRef[] = [];
      const iterate = async (): Promise<void> => {
        for await (const device of inventory.devices()) {
          devices.push(device);
          controller.abort(reason);
        }
      };
      await expect(iterate()).rejects.toBe(reason);
      expect(devices).toHaveLength(1);
      expect(fake.calls.length).toBeLessThanOrEqual(1);
      expect(inventory.problems).toEqual([]);
      expect(inventory.complete).toBe(false);
    });

    it('stops during a page request without reporting it as a failed source', async () => {
      const controller = new AbortController();
      const api = {
        searchDevices: (_org: string, _expression: string | undefined, _pageNo: number, signal?: AbortSignal) => {
          controller.abort(reason);
          // As the client would: the aborted request fails.
          return Promise.reject(signal?.aborted ? new EnosApiError('search_devices', 'timeout', 'aborted') : new Error('no signal passed'));
        },
      };
      const inventory = openInventory(inventoryConfig({ discover: [{ orgId: 'o1' }] }), { api, log: silentLogger, signal: controller.signal });
      await expect(inventory.devices().next()).rejects.toBe(reason);
      expect(inventory.problems).toEqual([]);
      expect(inventory.complete).toBe(false);
    });

    it('reads nothing when already aborted', async () => {
      const fake = fakeSearch({ o1: discovered('o1', 2) });
      const config = inventoryConfig({ files: [fixture('valid.csv')], discover: [{ orgId: 'o1' }] });
      const inventory = openInventory(config, { api: fake, log: silentLogger, signal: AbortSignal.abort(reason) });
      await expect(inventory.devices().next()).rejects.toBe(reason);
      expect(fake.calls).toEqual([]);
      expect(inventory.problems).toEqual([]);
    });
  });
});
