import { deviceId } from '../../../src/domain/device-id.js';
import type { Certificate, DeviceRef } from '../../../src/domain/types.js';
import type { QueryResult } from '../../../src/domain/device.js';
import type { DeviceRecord } from '../../../src/state/fleet-view.js';

export { cert, NOW, THRESHOLDS } from '../domain/fixtures.js';

export const BY_ASSET: DeviceRef = { orgId: 'o1', assetId: 'a1' };
export const BY_KEYS: DeviceRef = { orgId: 'o1', productKey: 'p1', deviceKey: 'd1' };

export function record(device: DeviceRef, certificates: Certificate[], query: QueryResult = 'ok'): DeviceRecord {
  return { id: deviceId(device), device, query, certificates, ...(query === 'ok' ? {} : { reason: 'timeout' }) };
}
