import type { QueryResult } from '../domain/device.js';
import type { ChangeEvent, DeviceRef } from '../domain/types.js';

export type ScanResult = 'success' | 'partial' | 'failure';

/** One device's part of a scan. */
export interface DeviceOutcome {
  readonly id: string;
  readonly device: DeviceRef;
  readonly query: QueryResult;
  /** Outcome string (e.g. `code_99500`, `timeout`) or `store_error` when query is not ok. */
  readonly reason?: string;
  readonly message?: string;
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
