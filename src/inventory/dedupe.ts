import type { DeviceRef } from '../domain/types.js';

/**
 * Remembers which devices were already met, under every identifier they carried: a device named
 * by assetId in one source and by productKey+deviceKey in another is the same device once some
 * source (discovery) has shown both. Only short key strings are kept, never the devices.
 */
export class SeenDevices {
  private readonly keys = new Set<string>();

  /** True the first time a device is met under any of its identifiers; remembers them all. */
  admit(device: DeviceRef): boolean {
    const keys = identityKeys(device);
    const known = keys.some((key) => this.keys.has(key));
    for (const key of keys) this.keys.add(key);
    return !known;
  }
}

/** orgId is part of every key; JSON arrays keep the parts unambiguous whatever they contain. */
function identityKeys(device: DeviceRef): string[] {
  const keys: string[] = [];
  if (device.assetId) keys.push(JSON.stringify([device.orgId, device.assetId]));
  if (device.productKey && device.deviceKey) {
    keys.push(JSON.stringify([device.orgId, device.productKey, device.deviceKey]));
  }
  return keys;
}
