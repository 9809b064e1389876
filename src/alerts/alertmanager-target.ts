import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../util/log.js';
import { alertKey } from './labels.js';
import type { NotificationObserver, PostableAlert } from './sink.js';

export interface DeliveryOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly batchSize: number;
  readonly queueCapacity: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

type PostResult =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'rejected'; readonly status: number; readonly body: string }
  | { readonly kind: 'retryable'; readonly reason: string };

const LOGGED_BODY_CHARS = 512;

/**
 * One Alertmanager replica: a bounded queue drained by one sender, so a slow or dead replica
 * only ever holds up itself. The queue keeps the newest version of each alert once (a re-send
 * replaces a still-queued older copy), so it grows with distinct alerts, not with re-sends.
 */
export class AlertmanagerTarget {
  readonly #queue = new Map<string, PostableAlert>();
  readonly #endpoint: string;
  readonly #headers: Record<string, string>;
  readonly #log: Logger;
  #busy = false;
  #idleWaiters: Array<() => void> = [];
  #abort = new AbortController();

  constructor(
    url: string,
    private readonly options: DeliveryOptions,
    private readonly observer: NotificationObserver,
    log: Logger,
  ) {
    const parsed = new URL(url);
    // fetch refuses URLs with credentials: move them into a header, and keep them out of logs.
    this.#headers = { 'content-type': 'application/json' };
    if (parsed.username || parsed.password) {
      const user = decodeURIComponent(parsed.username);
      const password = decodeURIComponent(parsed.password);
      this.#headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
    this.#endpoint = parsed.toString();
    this.#log = log.child({ alertmanager: this.#endpoint });
  }

  enqueue(alerts: readonly PostableAlert[]): void {
    let dropped = 0;
    for (const alert of alerts) {
      const key = alertKey(alert.labels);
      if (!this.#queue.has(key) && this.#queue.size >= this.options.queueCapacity) {
        const oldest = this.#queue.keys().next().value as string;
        this.#queue.delete(oldest);
        dropped += 1;
      }
      this.#queue.set(key, alert);
    }
    if (dropped > 0) {
      this.#log.warn({ dropped, capacity: this.options.queueCapacity }, 'alert queue full, dropped the oldest alerts');
      this.observer.dropped(dropped);
    }
    this.#kick();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Gives up on everything queued or in flight (shutdown deadline passed); counts it as dropped. */
  abandon(): void {
    const queued = this.#queue.size;
    this.#queue.clear();
    this.#abort.abort();
    this.#abort = new AbortController();
    if (queued > 0) {
      this.#log.warn({ dropped: queued }, 'gave up sending queued alerts');
      this.observer.dropped(queued);
    }
  }

  #kick(): void {
    if (this.#busy || this.#queue.size === 0) return;
    this.#busy = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.size > 0) await this.#deliver(this.#takeBatch(), this.#abort.signal);
    } finally {
      this.#busy = false;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #takeBatch(): PostableAlert[] {
    const batch: PostableAlert[] = [];
    for (const [key, alert] of this.#queue) {
      if (batch.length >= this.options.batchSize) break;
      batch.push(alert);
      this.#queue.delete(key);
    }
    return batch;
  }

  async #deliver(batch: readonly PostableAlert[], signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(batch);
    for (let attempt = 1; ; attempt += 1) {
      const result = await this.#post(body, signal);
      if (signal.aborted) {
        this.#log.warn({ dropped: batch.length }, 'gave up sending alerts in flight');
        this.observer.dropped(batch.length);
        return;
      }
      if (result.kind === 'accepted') {
        this.#log.debug({ alerts: batch.length, attempt }, 'alerts delivered');
        this.observer.notification('success');
        return;
      }
      if (result.kind === 'rejected') {
        this.#log.error({ status: result.status, body: result.body, alerts: batch.length }, 'alertmanager rejected alerts');
        this.observer.notification('failure');
        return;
      }
      if (attempt >= this.options.maxAttempts) {
        this.#log.error({ reason: result.reason, attempts: attempt, alerts: batch.length }, 'alert delivery failed');
        this.observer.notification('failure');
        return;
      }
      this.#log.warn({ reason: result.reason, attempt }, 'alert delivery failed, retrying');
      await sleep(this.#backoff(attempt), undefined, { signal, ref: false }).catch(() => undefined);
    }
  }

  async #post(body: string, shutdown: AbortSignal): Promise<PostResult> {
    const signal = AbortSignal.any([shutdown, AbortSignal.timeout(this.options.timeoutMs)]);
    try {
      const response = await fetch(this.#endpoint, { method: 'POST', headers: this.#headers, body, signal });
      const text = await response.text();
      if (response.ok) return { kind: 'accepted' };
      if (response.status >= 400 && response.status < 500) {
        return { kind: 'rejected', status: response.status, body: text.slice(0, LOGGED_BODY_CHARS) };
      }
      return { kind: 'retryable', reason: `http_${response.status}` };
    } catch (error) {
      return { kind: 'retryable', reason: (error as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
    }
  }

  #backoff(attempt: number): number {
    return Math.min(this.options.retryBaseDelayMs * 2 ** (attempt - 1), this.options.retryMaxDelayMs);
  }
}
