import type { Certificate, ChangeEvent, DeviceRef, Snapshot } from '../../src/domain/types.js';
import type { Fence, LeaseAttempt } from '../../src/state/store.js';

/** The fence of an attempt that must have got the lease. */
export function heldFence(attempt: LeaseAttempt): Fence {
  if (!attempt.held) throw new Error(`lease held by ${attempt.holder}`);
  return attempt.fence;
}

export function certificate(overrides: Partial<Certificate> = {}): Certificate {
  return {
    certSN: 'sn-1',
    status: 'valid',
    notBefore: 1_700_000_000_000,
    notAfter: 1_800_000_000_000,
    issuer: 'CN=Test Device CA',
    subject: 'CN=device-1',
    issueAuthority: 'enos',
    revoker: '',
    revokerReason: '',
    ...overrides,
  };
}

export function snapshot(
  device: DeviceRef,
  certificates: readonly Certificate[] = [certificate()],
  queriedAt = 1_750_000_000_000,
): Snapshot {
  return { device, certificates, queriedAt };
}

export function changeEvent(device: DeviceRef, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    type: 'added',
    orgId: device.orgId,
    assetId: device.assetId ?? '',
    productKey: device.productKey ?? '',
    deviceKey: device.deviceKey ?? '',
    certSN: 'sn-1',
    from: null,
    to: 'valid',
    at: '2025-06-15T12:00:00.000Z',
    ...overrides,
  };
}

/** A `revoked` change of `certSN`, seen at `at`, as the revoked alert needs it. */
export function revokedEvent(device: DeviceRef, certSN: string, at = Date.now()): ChangeEvent {
  return changeEvent(device, {
    type: 'revoked',
    certSN,
    from: 'valid',
    to: 'revoked',
    at: new Date(at).toISOString(),
    revoker: 'IoT_Hub',
    revokerReason: 'KEY COMPROMISE',
  });
}
