import type { QueryResult } from '../domain/device.js';
import type { ChangeEvent, DeviceRef } from '../domain/types.js';
import type { Outcome } from '../enos/outcome.js';

/**
 * Why a device has no fresh answer: the API outcome, or a failure of the monitor's own.
 * Shared by logs, the scan report and metric labels.
 */
export type FailureReason =
  | Exclude<Outcome, 'success'>
  | 'store_error'
  | 'store_conflict'
  | 'lease_lost'
  | 'aborted'
  | 'internal_error';

export type ScanResult = 'success' | 'partial' | 'failure';

/** One device's part of a scan. */
export interface DeviceOutcome {
  readonly id: string;
  readonly device: DeviceRef;
  readonly query: QueryResult;
  readonly reason?: FailureReason;
  readonly message?: string;
  /** On a failed device: epoch ms of its last good answer as far as known; absent when it never answered. */
  readonly lastAnswerAt?: number;
  readonly events: readonly ChangeEvent[];
}

export interface ScanSummary {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly result: ScanResult;
  readonly devices: { readonly total: number; readonly ok: number; readonly notFound: number; readonly failed: number };
  /** False when an inventory source failed: devices missing from it were not treated as removed. */
  readonly inventoryComplete: boolean;
  readonly aborted: boolean;
}
