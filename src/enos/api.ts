import type { Certificate, DeviceRef } from '../domain/types.js';

/** One page of Search Device. */
export interface DevicePage {
  readonly devices: readonly DeviceRef[];
  readonly pageNo: number;
  readonly pageSize: number;
  readonly totalSize: number;
}

/**
 * The EnOS calls the monitor makes. Failures throw EnosApiError (outcome.ts); a device the
 * gateway does not know throws with outcome `code_11404`.
 */
export interface EnosApi {
  listCertificates(device: DeviceRef, signal?: AbortSignal): Promise<Certificate[]>;
  searchDevices(orgId: string, expression: string | undefined, pageNo: number, signal?: AbortSignal): Promise<DevicePage>;
  close(): Promise<void>;
}
