import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../util/log.js';
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

/** How a batch ended: the rotation moves on after `sent` and `rejected`, and waits after `failed`. */
type BatchResult = 'sent' | 'rejected' | 'failed' | 'abandoned';

/**
 * One Alertmanager replica, fed from the current alert set rather than a queue of copies: each
 * hand-over starts a pass over the whole set in batches, from where the rotation stopped last
 * time. However large the set, every alert is posted once per pass, and what this replica holds
 * beyond the shared set is one batch. A slow or dead replica only ever holds up itself.
 *
 * A firing alert's `endsAt` is counted from its actual post, not from the hand-over, and stretched
 * by twice the duration of the last pass, so it stays ahead of the alert's next post even when a
 * pass takes longer than the resend interval.
 */
export class AlertmanagerTarget {
  readonly #endpoint: string;
  readonly #headers: Record<string, string>;
  readonly #log: Logger;
  readonly #batchSize: number;
  #alerts: readonly PostableAlert[] = [];
  #handedOverAt = 0;
  /** Index of the next alert to post: the rotation survives new sets. */
  #cursor = 0;
  /** Alerts of the current pass not posted yet. */
  #owed = 0;
  /** Counts hand-overs: a batch that was in flight during one does not count toward the new pass. */
  #handOvers = 0;
  #passStartedAt = 0;
  #lastPassMs = 0;
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
    this.#batchSize = Math.max(1, Math.min(options.batchSize, options.queueCapacity));
  }

  /** Makes `alerts` the current set (shared, not copied) and starts a pass over all of it. */
  offer(alerts: readonly PostableAlert[], handedOverAt: number): void {
    this.#alerts = alerts;
    this.#handedOverAt = handedOverAt;
    this.#cursor = alerts.length === 0 ? 0 : this.#cursor % alerts.length;
    if (this.#owed === 0) this.#passStartedAt = Date.now();
    this.#owed = alerts.length;
    this.#handOvers++;
    if (!this.#busy && this.#owed > 0) {
      this.#busy = true;
      void this.#drain();
    }
  }

  /** Resolves once the current pass is done (or stopped by a failure) and nothing is in flight. */
  idle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Gives up on the pass in flight (shutdown deadline passed); counts what it left unsent as dropped. */
  abandon(): void {
    const owed = this.#owed;
    this.#owed = 0;
    this.#abort.abort();
    this.#abort = new AbortController();
    if (owed > 0) {
      this.#log.warn({ dropped: owed }, 'gave up sending alerts');
      this.observer.dropped(owed);
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#owed > 0) {
        const count = Math.min(this.#batchSize, this.#owed, this.#alerts.length);
        const batch = this.#take(count);
        const handOvers = this.#handOvers;
        const result = await this.#deliver(batch, this.#abort.signal);
        if (result === 'abandoned') break;
        // A replica that is down stops the pass here; the next hand-over resumes with this batch.
        if (result === 'failed') {
          this.#owed = 0;
          break;
        }
        this.#cursor = (this.#cursor + count) % Math.max(1, this.#alerts.length);
        if (handOvers === this.#handOvers) this.#owed = Math.max(0, this.#owed - count);
        if (this.#owed === 0) this.#lastPassMs = Date.now() - this.#passStartedAt;
      }
    } finally {
      this.#busy = false;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** `count` alerts from the cursor on (wrapping), firing ones with endsAt counted from now. */
  #take(count: number): PostableAlert[] {
    const now = Date.now();
    const stretch = now - this.#handedOverAt + 2 * this.#lastPassMs;
    const batch: PostableAlert[] = [];
    for (let i = 0; i < count; i++) {
      const alert = this.#alerts[(this.#cursor + i) % this.#alerts.length]!;
      const endsAt = Date.parse(alert.endsAt);
      const firing = endsAt > this.#handedOverAt;
      batch.push(firing ? { ...alert, endsAt: new Date(endsAt + stretch).toISOString() } : alert);
    }
    return batch;
  }

  async #deliver(batch: readonly PostableAlert[], signal: AbortSignal): Promise<BatchResult> {
    const body = JSON.stringify(batch);
    for (let attempt = 1; ; attempt += 1) {
      const result = await this.#post(body, signal);
      if (signal.aborted) return 'abandoned';
      if (result.kind === 'accepted') {
        this.#log.debug({ alerts: batch.length, attempt }, 'alerts delivered');
        this.observer.notification('success');
        return 'sent';
      }
      if (result.kind === 'rejected') {
        // Sending the same batch again would be rejected again: skip it, and count its alerts as dropped.
        this.#log.error({ status: result.status, body: result.body, alerts: batch.length }, 'alertmanager rejected alerts');
        this.observer.notification('failure');
        this.observer.dropped(batch.length);
        return 'rejected';
      }
      if (attempt >= this.options.maxAttempts) {
        this.#log.error({ reason: result.reason, attempts: attempt, alerts: batch.length }, 'alert delivery failed');
        this.observer.notification('failure');
        return 'failed';
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
