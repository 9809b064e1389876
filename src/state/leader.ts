import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../util/log.js';
import type { Fence, Store } from './store.js';

export interface LeaderElectionOptions {
  readonly store: Store;
  readonly holder: string;
  readonly leaseMs: number;
  readonly log: Logger;
  /** Called with the new fence when the lease is gained (or taken again under a new fence), with undefined when lost. */
  readonly onChange: (fence: Fence | undefined) => void;
  /** Monotonic milliseconds (tests replace it). */
  readonly now?: () => number;
}

/** Unique per process: the lease names its holder by it (`prefix` tells a one-shot scan from a daemon). */
export function replicaName(prefix = ''): string {
  return `${prefix}${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Why a replica does not lead: another holds the lease, or the store did not answer. */
export type Standing =
  | { readonly state: 'leader'; readonly fence: Fence }
  | { readonly state: 'standby'; readonly holder: string }
  | { readonly state: 'unreachable' };

/**
 * Keeps or seeks the store's leader lease, renewed every third of its time. The lease is counted
 * as held only until a local deadline a fifth of the lease before it can run out in the store
 * (measured from when the renewal was sent), so a renewal that fails while the lease still stands
 * keeps leadership, and a replica frozen past its lease (GC pause, SIGSTOP) knows it lost it the
 * moment it runs again. The store's fencing makes sure a holder that is late to notice writes nothing.
 */
export class LeaderElection {
  readonly #options: LeaderElectionOptions;
  readonly #now: () => number;
  #fence: Fence | undefined;
  #validUntil = 0;
  #standing: Standing = { state: 'unreachable' };
  /** A renewal failed while this replica led, and the store has not answered since. */
  #renewalFailed = false;
  #roundTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The fence of the lease while it is held (locally valid), else undefined. */
  get fence(): Fence | undefined {
    return this.#fence !== undefined && this.#now() < this.#validUntil ? this.#fence : undefined;
  }

  get leader(): boolean {
    return this.fence !== undefined;
  }

  get standing(): Standing {
    const fence = this.fence;
    return fence !== undefined ? { state: 'leader', fence } : this.#standing;
  }

  /** True while this replica led when the store became unreachable and no other leader is known. */
  get ledIntoOutage(): boolean {
    return this.#renewalFailed && !this.leader;
  }

  /** True while `fence` is the lease this replica holds. */
  holds(fence: Fence): boolean {
    return this.fence === fence;
  }

  /** Runs the first round (so the caller knows where it stands), then keeps going. */
  async start(): Promise<void> {
    await this.#round();
  }

  /** Stops seeking the lease; releases it when `release` (only once nothing writes under it any more). */
  async stop(options: { readonly release: boolean }): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#roundTimer);
    clearTimeout(this.#expiryTimer);
    const fence = this.#fence;
    if (fence === undefined) return;
    this.#lose({ state: 'standby', holder: '' }, 'leadership given up');
    if (!options.release) return;
    try {
      await this.#options.store.releaseLease(fence);
    } catch (error) {
      this.#options.log.warn({ err: error }, 'leader lease not released; it expires by itself');
    }
  }

  async #round(): Promise<void> {
    const sentAt = this.#now();
    const { store, holder, leaseMs, log } = this.#options;
    try {
      const attempt = await store.acquireLease(holder, leaseMs);
      if (this.#stopped) return;
      this.#renewalFailed = false;
      if (attempt.held) this.#hold(attempt.fence, sentAt + leaseMs - leaseMs / 5);
      else this.#lose({ state: 'standby', holder: attempt.holder }, 'lost leadership');
    } catch (error) {
      if (this.#stopped) return;
      log.warn({ err: error, leader: this.leader }, 'leader lease check failed');
      if (this.#fence !== undefined) this.#renewalFailed = true;
      if (!this.leader) this.#lose({ state: 'unreachable' }, 'lost leadership: the store does not answer');
    }
    this.#roundTimer = setTimeout(() => void this.#round(), Math.max(100, Math.floor(leaseMs / 3)));
  }

  #hold(fence: Fence, validUntil: number): void {
    this.#validUntil = validUntil;
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => this.#expire(), Math.max(0, validUntil - this.#now()));
    if (fence === this.#fence) return;
    // A new fence while leading: the lease ran out in the store and was taken again; whatever was
    // started under the old one is refused by the store from now on.
    this.#fence = fence;
    this.#standing = { state: 'leader', fence };
    this.#options.log.info({ fence }, 'became leader');
    this.#options.onChange(fence);
  }

  /** The local deadline passed without a successful renewal. */
  #expire(): void {
    if (this.#fence === undefined || this.#now() < this.#validUntil) return;
    this.#lose({ state: 'unreachable' }, 'lost leadership: the lease ran out without a renewal');
  }

  #lose(standing: Standing, message: string): void {
    this.#standing = standing;
    if (this.#fence === undefined) return;
    this.#fence = undefined;
    clearTimeout(this.#expiryTimer);
    this.#options.log.info({ ...standing }, message);
    this.#options.onChange(undefined);
  }
}
