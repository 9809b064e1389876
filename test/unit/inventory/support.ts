import { fileURLToPath } from 'node:url';
import type { Config } from '../../../src/config/load.js';
import type { DeviceRef } from '../../../src/domain/types.js';
import type { DevicePage, EnosApi } from '../../../src/enos/api.js';
import { openInventory, type Inventory, type InventoryDeps } from '../../../src/inventory/index.js';
import { createLogger, silentLogger } from '../../../src/util/log.js';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/inventory/${name}`, import.meta.url));
}

export function inventoryConfig(parts: Partial<Config['inventory']>): Config['inventory'] {
  return { devices: [], files: [], discover: [], ...parts };
}

/** A logger whose lines land in `lines`, parsed. */
export function capturedLogger(): { log: InventoryDeps['log']; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('debug', { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

type SearchDevices = EnosApi['searchDevices'];

/**
 * A Search Device fake over a per-org fleet, newest first. `beforePage` runs before each call
 * (to create devices or fail); `calls` records what was asked.
 */
export function fakeSearch(
  fleets: Record<string, DeviceRef[]>,
  options: { pageSize?: number; beforePage?: (orgId: string, pageNo: number) => void } = {},
): { searchDevices: SearchDevices; calls: { orgId: string; expression: string | undefined; pageNo: number }[] } {
  const pageSize = options.pageSize ?? 3;
  const calls: { orgId: string; expression: string | undefined; pageNo: number }[] = [];
  const searchDevices: SearchDevices = async (orgId, expression, pageNo) => {
    calls.push({ orgId, expression, pageNo });
    options.beforePage?.(orgId, pageNo);
    const fleet = fleets[orgId] ?? [];
    const page: DevicePage = {
      devices: fleet.slice((pageNo - 1) * pageSize, pageNo * pageSize),
      pageNo,
      pageSize,
      totalSize: fleet.length,
    };
    return page;
  };
  return { searchDevices, calls };
}

/** `count` devices of an org as discovery returns them (both identifier forms), newest first. */
export function discovered(orgId: string, count: number, prefix = 'a'): DeviceRef[] {
  return Array.from({ length: count }, (_, i) => {
    const n = count - i;
    return { orgId, assetId: `${prefix}${n}`, productKey: 'p', deviceKey: `${prefix}-d${n}` };
  });
}

/** Runs the inventory to its end. */
export async function collect(
  config: Config['inventory'],
  deps: Partial<InventoryDeps> = {},
): Promise<{ devices: DeviceRef[]; inventory: Inventory }> {
  const inventory = openInventory(config, {
    api: { searchDevices: () => Promise.reject(new Error('no discovery expected')) },
    log: silentLogger,
    ...deps,
  });
  const devices: DeviceRef[] = [];
  for await (const device of inventory.devices()) devices.push(device);
  return { devices, inventory };
}
