import type { Logger } from '../util/log.js';
import type { Store } from './store.js';

export interface LeaderElectionOptions {
  readonly store: Store;
  readonly holder: string;
  readonly leaseMs: number;
  readonly log: Logger;
  /** Called on every change of leadership. */
  readonly onChange: (leader: boolean) => void;
}

/**
 * Keeps or seeks the store's leader lease: renewed every third of its time, so one missed
 * renewal does not lose it; a replica whose leader died takes over within the lease time.
 * Losing the store means losing leadership: a replica that cannot renew must stop scanning.
 */
export class LeaderElection {
  readonly #options: LeaderElectionOptions;
  #leader = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
  }

  get leader(): boolean {
    return this.#leader;
  }

  /** Runs the first round (so the caller knows where it stands), then keeps going. */
  async start(): Promise<void> {
    await this.#round();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leader) return;
    this.#set(false);
    try {
      await this.#options.store.releaseLease(this.#options.holder);
    } catch (error) {
      this.#options.log.warn({ err: error }, 'leader lease not released; it expires by itself');
    }
  }

  async #round(): Promise<void> {
    let leader = false;
    try {
      leader = await this.#options.store.acquireLease(this.#options.holder, this.#options.leaseMs);
    } catch (error) {
      this.#options.log.warn({ err: error }, 'leader lease check failed');
    }
    if (this.#stopped) return;
    this.#set(leader);
    this.#timer = setTimeout(() => void this.#round(), Math.max(100, Math.floor(this.#options.leaseMs / 3)));
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#options.log.info({ leader }, leader ? 'became leader' : 'lost leadership');
    this.#options.onChange(leader);
  }
}
