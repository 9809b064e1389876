import type { RawConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AlertmanagerTarget } from './alertmanager-target.js';
import { isValidLabelName, type LabelSet } from './labels.js';
import type { AlertSink, NotificationObserver, PostableAlert } from './sink.js';

export type AlertmanagerClientConfig = Pick<
  RawConfig['alertmanager'],
  'urls' | 'timeoutMs' | 'maxAttempts' | 'batchSize' | 'queueCapacity'
>;

export interface AlertmanagerClientOptions {
  readonly config: AlertmanagerClientConfig;
  readonly log: Logger;
  readonly observer?: NotificationObserver;
  /** First retry delay, doubled per attempt up to retryMaxDelayMs. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** The lifecycle's clock: a firing alert's endsAt is measured from the hand-over on it. */
  readonly clock?: Clock;
}

const noObserver: NotificationObserver = { notification: () => undefined, dropped: () => undefined };

/**
 * Pushes alerts to every configured Alertmanager independently: HA replicas each need every
 * alert (they are not load-balanced), and one replica being down must not delay the others.
 * Each `send` hands over the current set once, shared by all replicas, which post it in rotating
 * batches. With no URL configured alerts are only logged.
 */
export class AlertmanagerClient implements AlertSink {
  readonly #targets: AlertmanagerTarget[];
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(options: AlertmanagerClientOptions) {
    this.#log = options.log.child({ component: 'alertmanager' });
    this.#clock = options.clock ?? systemClock;
    const delivery = {
      timeoutMs: options.config.timeoutMs,
      maxAttempts: options.config.maxAttempts,
      batchSize: options.config.batchSize,
      queueCapacity: options.config.queueCapacity,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 10_000,
    };
    this.#targets = options.config.urls.map(
      (url) => new AlertmanagerTarget(url, delivery, options.observer ?? noObserver, this.#log),
    );
  }

  send(alerts: readonly PostableAlert[]): void {
    const valid = alerts.map((alert) => this.#withValidNames(alert)).filter((alert) => Object.keys(alert.labels).length > 0);
    if (this.#targets.length === 0) {
      this.#log.debug({ alerts: valid.length }, 'no alertmanager configured, alerts not sent');
      return;
    }
    const now = this.#clock.now();
    for (const target of this.#targets) target.offer(valid, now);
  }

  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([Promise.all(this.#targets.map((target) => target.idle())).then(() => true), deadline]);
    clearTimeout(timer);
    if (!drained) for (const target of this.#targets) target.abandon();
    return drained;
  }

  /** Alertmanager rejects a whole batch for one bad name; drop the name instead, loudly. */
  #withValidNames(alert: PostableAlert): PostableAlert {
    const invalid = [...Object.keys(alert.labels), ...Object.keys(alert.annotations)].filter((name) => !isValidLabelName(name));
    if (invalid.length === 0) return alert;
    this.#log.warn({ names: invalid, alertname: alert.labels.alertname }, 'dropping invalid label names from alert');
    const keep = (set: LabelSet): LabelSet => Object.fromEntries(Object.entries(set).filter(([name]) => isValidLabelName(name)));
    return { ...alert, labels: keep(alert.labels), annotations: keep(alert.annotations) };
  }
}
