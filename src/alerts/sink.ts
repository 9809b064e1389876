import type { RawConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AlertmanagerClient } from './alertmanager-client.js';
import type { LabelSet } from './labels.js';

/** An alert as POST /api/v2/alerts takes it. Timestamps are RFC 3339. */
export interface PostableAlert {
  readonly labels: LabelSet;
  readonly annotations: LabelSet;
  readonly startsAt: string;
  readonly endsAt: string;
}

/** Where the lifecycle hands its alerts. */
export interface AlertSink {
  /**
   * Hands over the current set (every firing and recently resolved alert) for every Alertmanager,
   * replacing the previous one; never blocks on the network.
   */
  send(alerts: readonly PostableAlert[]): void;
  /** Waits up to `timeoutMs` for the sends in progress; then gives up on the rest. True when all were sent. */
  flush(timeoutMs: number): Promise<boolean>;
}

/**
 * Metrics hook: one notification per batch and Alertmanager (after its retries); drops by count of
 * alerts (rejected by Alertmanager, or still unsent when shutdown gave up).
 */
export interface NotificationObserver {
  notification(outcome: 'success' | 'failure'): void;
  dropped(count: number): void;
}

/** The sink for the `alertmanager` config section: every URL, or only logging when there is none. */
export function createAlertSink(
  config: RawConfig['alertmanager'],
  deps: { readonly log: Logger; readonly clock?: Clock; readonly observer?: NotificationObserver },
): AlertSink {
  return new AlertmanagerClient({
    config,
    log: deps.log,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.observer ? { observer: deps.observer } : {}),
  });
}
