import { randomBytes } from 'node:crypto';
import { tokenEncryption } from '../enos/signature.js';
import type { Clock } from '../util/clock.js';
import { isRecord } from './records.js';

export const TOKEN_BUSINESS = 'apim-token-service';

/** Token-service status codes the simulator answers. */
export const TOKEN_STATUS = {
  success: 0,
  repeatedRequest: 1001,
  unknownAppKey: 1002,
  invalidEncryption: 1003,
  invalidParameter: 1004,
  emptyParameter: 1202,
} as const;

export interface TokenAnswer {
  readonly status: number;
  readonly msg: string;
  readonly business: typeof TOKEN_BUSINESS;
  readonly data: { readonly accessToken: string; readonly expire: number } | null;
}

export interface TokenServiceOptions {
  readonly appKey: string;
  readonly appSecret: string;
  readonly ttlSeconds: number;
  readonly clock: Clock;
}

/**
 * The gateway's token service for one application: checks the encryption proof, refuses a
 * proof seen before, and hands out the current token until it expires.
 */
export class TokenService {
  readonly #options: TokenServiceOptions;
  readonly #usedEncryptions = new Set<string>();
  /** Only the latest token is valid: `get` hands it out again until it expires. */
  #current: { readonly token: string; readonly expiresAt: number } | undefined;

  constructor(options: TokenServiceOptions) {
    this.#options = options;
  }

  /** Answers a `token/get` request body (already parsed JSON, or undefined if it was not JSON). */
  get(body: unknown): TokenAnswer {
    const fields = isRecord(body) ? body : {};
    const { appKey, encryption, timestamp } = fields;
    if ([appKey, encryption, timestamp].some((value) => value === undefined || value === null || value === '')) {
      return failure(TOKEN_STATUS.emptyParameter, 'Empty parameter');
    }
    if (typeof appKey !== 'string' || typeof encryption !== 'string' || typeof timestamp !== 'number') {
      return failure(TOKEN_STATUS.invalidParameter, 'Invalid parameter');
    }
    if (appKey !== this.#options.appKey) return failure(TOKEN_STATUS.unknownAppKey, 'AppKey does not exist');
    if (encryption !== tokenEncryption(appKey, timestamp, this.#options.appSecret)) {
      return failure(TOKEN_STATUS.invalidEncryption, 'Invalid encryption');
    }
    if (this.#usedEncryptions.has(encryption)) return failure(TOKEN_STATUS.repeatedRequest, 'Repeated request');
    this.#usedEncryptions.add(encryption);
    const { token, expiresAt } = this.#currentToken();
    const expire = Math.max(0, Math.ceil((expiresAt - this.#options.clock.now()) / 1000));
    return { status: TOKEN_STATUS.success, msg: 'Success', business: TOKEN_BUSINESS, data: { accessToken: token, expire } };
  }

  isValid(token: string): boolean {
    return this.#current?.token === token && this.#options.clock.now() < this.#current.expiresAt;
  }

  /** Invalidates every issued token. */
  expireAll(): void {
    this.#current = undefined;
  }

  #currentToken(): { readonly token: string; readonly expiresAt: number } {
    if (this.#current && this.isValid(this.#current.token)) return this.#current;
    this.#current = {
      token: randomBytes(24).toString('base64url'),
      expiresAt: this.#options.clock.now() + this.#options.ttlSeconds * 1000,
    };
    return this.#current;
  }
}

function failure(status: number, msg: string): TokenAnswer {
  return { status, msg, business: TOKEN_BUSINESS, data: null };
}
