import { randomUUID } from 'node:crypto';
import type { FaultKind } from './faults.js';
import { TOKEN_BUSINESS } from './tokens.js';

/** An HTTP answer with its body already serialised. */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

export type Endpoint = 'token' | 'list' | 'search';

export const API_CODE = {
  invalidArgument: 99400,
  internalError: 99500,
  deviceNotFound: 11404,
} as const;

export function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value) };
}

/** `{code: 0, msg: 'OK', requestId, data}` plus any extra fields (pagination). */
export function apiSuccess(data: unknown, extra: Record<string, unknown> = {}): Answer {
  return json(200, { code: 0, msg: 'OK', requestId: randomUUID(), data, ...extra });
}

/** A non-zero code: HTTP 200, data null. */
export function apiFailure(code: number, msg: string): Answer {
  return json(200, { code, msg, requestId: randomUUID(), data: null });
}

/** An error from the gateway itself (no API envelope). */
export function gatewayError(status: number, message: string): Answer {
  return json(status, { message });
}

export const UNAUTHORIZED = gatewayError(401, 'Invalid authentication credentials');
export const NO_ROUTE = gatewayError(404, 'no Route matched with those values');

const GATEWAY_MESSAGES: Record<number, string> = {
  429: 'API rate limit exceeded',
  500: 'An unexpected error occurred',
  503: 'Service unavailable',
};

const CODE_MESSAGES: Record<number, string> = {
  [API_CODE.invalidArgument]: 'invalid argument: simulated fault',
  [API_CODE.internalError]: 'Internal error of certificate service.',
  [API_CODE.deviceNotFound]: 'Device cannot be found',
};

/** Bodies that parse as JSON but hold data of the wrong shape, per endpoint. */
const WRONG_TYPES: Record<Endpoint, () => unknown> = {
  token: () => ({ status: 0, msg: 'Success', business: TOKEN_BUSINESS, data: { accessToken: 12345, expire: 'never' } }),
  list: () => ({
    code: 0,
    msg: 'OK',
    requestId: randomUUID(),
    data: [{ certSN: 52725, certStatus: 'valid', expireDate: 'next year', issuer: null }],
  }),
  search: () => ({
    code: 0,
    msg: 'OK',
    requestId: randomUUID(),
    data: [{ assetId: 42, productKey: null, deviceKey: ['dev'] }],
    pagination: { pageNo: '1', pageSize: null, totalSize: 'many' },
  }),
};

/** A body cut off in the middle, as a broken proxy might deliver it. */
const TRUNCATED: Record<Endpoint, string> = {
  token: '{"status":0,"msg":"Success","business":"apim-token-service","data":{"accessToken":"',
  list: '{"code":0,"msg":"OK","requestId":"00000000","data":[{"certSN":"5272',
  search: '{"code":0,"msg":"OK","requestId":"00000000","data":[{"assetId":"asset-0',
};

/** The answer a fault gives instead of the real one (not for `hang` and `slow`, which only delay). */
export function faultAnswer(kind: Exclude<FaultKind, 'hang' | 'slow'>, endpoint: Endpoint): Answer {
  switch (kind) {
    case 'http_429':
    case 'http_500':
    case 'http_503': {
      const status = Number(kind.slice('http_'.length));
      return gatewayError(status, GATEWAY_MESSAGES[status] ?? 'error');
    }
    case 'code_99500':
    case 'code_99400':
    case 'code_11404': {
      const code = Number(kind.slice('code_'.length));
      const msg = CODE_MESSAGES[code] ?? 'error';
      return endpoint === 'token' ? json(200, { status: code, msg, business: TOKEN_BUSINESS, data: null }) : apiFailure(code, msg);
    }
    case 'malformed':
      return { status: 200, body: TRUNCATED[endpoint] };
    case 'wrong_types':
      return json(200, WRONG_TYPES[endpoint]());
  }
}
