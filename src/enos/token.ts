import type { Clock } from '../util/clock.js';
import type { Secret } from '../util/secret.js';
import { EnosApiError } from './outcome.js';
import type { TokenGrant } from './parse.js';
import { isRetryable } from './retry.js';
import { tokenEncryption } from './signature.js';
import type { HttpRequest } from './transport.js';

export const TOKEN_PATH = '/apim-token-service/v2.0/token/get';

/** Renew when less than this share of the lifetime remains, but never earlier than RENEW_AHEAD_MAX_MS. */
const RENEW_AHEAD_SHARE = 0.1;
const RENEW_AHEAD_MAX_MS = 5 * 60_000;
/** A refusal (bad credentials) is answered from memory this long, so a scan does not hammer the service. */
const DEFAULT_FAILURE_HOLD_MS = 30_000;

/** The token request; each call needs its own timestamp, as the service refuses a reused proof. */
export function tokenRequest(baseUrl: string, appKey: string, appSecret: Secret, timestamp: number): HttpRequest {
  const encryption = tokenEncryption(appKey, timestamp, appSecret.reveal());
  return {
    operation: 'token',
    method: 'POST',
    url: new URL(`${baseUrl.replace(/\/+$/, '')}${TOKEN_PATH}`),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appKey, encryption, timestamp }),
  };
}

/** Fetches a grant (retries included); aborted when no caller waits for it any more. */
export type FetchGrant = (signal: AbortSignal) => Promise<TokenGrant>;

interface Flight {
  readonly promise: Promise<string>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * The access token of the client: cached, renewed ahead of expiry, fetched once for all
 * concurrent callers.
 */
export class TokenProvider {
  #cached: { readonly token: string; readonly renewAt: number } | undefined;
  #refusal: { readonly error: EnosApiError; readonly until: number } | undefined;
  #flight: Flight | undefined;

  constructor(
    private readonly fetchGrant: FetchGrant,
    private readonly clock: Clock,
    private readonly failureHoldMs = DEFAULT_FAILURE_HOLD_MS,
  ) {}

  async get(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const now = this.clock.now();
    if (this.#cached !== undefined && now < this.#cached.renewAt) return this.#cached.token;
    if (this.#refusal !== undefined && now < this.#refusal.until) throw this.#refusal.error;
    return this.#join(this.#flight ?? this.#start(), signal);
  }

  /** Forgets `token` if it is still the cached one: N callers refused with it cause one new fetch. */
  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  #start(): Flight {
    const controller = new AbortController();
    const requestedAt = this.clock.now();
    const promise = this.fetchGrant(controller.signal).then(
      (grant) => {
        this.#cached = { token: grant.accessToken, renewAt: renewalTime(requestedAt, grant.expireSeconds) };
        this.#refusal = undefined;
        return grant.accessToken;
      },
      (error: unknown) => {
        if (error instanceof EnosApiError && !isRetryable(error.outcome)) {
          this.#refusal = { error, until: this.clock.now() + this.failureHoldMs };
        }
        throw error;
      },
    );
    const flight: Flight = { promise, controller, waiters: 0 };
    this.#flight = flight;
    const land = (): void => {
      if (this.#flight === flight) this.#flight = undefined;
    };
    // Handled here too, so a flight every caller has left never becomes an unhandled rejection.
    promise.then(land, land);
    return flight;
  }

  #join(flight: Flight, signal: AbortSignal | undefined): Promise<string> {
    flight.waiters += 1;
    if (signal === undefined) return flight.promise;
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        flight.waiters -= 1;
        if (flight.waiters === 0) {
          if (this.#flight === flight) this.#flight = undefined;
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      flight.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
    });
  }
}

function renewalTime(requestedAt: number, expireSeconds: number): number {
  const lifetimeMs = expireSeconds * 1000;
  return requestedAt + lifetimeMs - Math.min(lifetimeMs * RENEW_AHEAD_SHARE, RENEW_AHEAD_MAX_MS);
}
