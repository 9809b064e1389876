import type { DeviceRef } from './types.js';

/** Stable key of a device: `org/asset` or `org/productKey/deviceKey`. */
export function deviceId(device: DeviceRef): string {
  if (device.assetId) return `${device.orgId}/${device.assetId}`;
  return `${device.orgId}/${device.productKey ?? ''}/${device.deviceKey ?? ''}`;
}

/** Readable name for logs and reports. */
export function describeDevice(device: DeviceRef): string {
  return device.assetId
    ? `${device.orgId}/${device.assetId}`
    : `${device.orgId}/${device.productKey ?? ''}:${device.deviceKey ?? ''}`;
}
