import { EnosApiError, type Outcome } from './outcome.js';

/**
 * What an outcome means for the person running the monitor, and what to change. The gateway's own
 * message is terse ("Invalid encryption"); these name the config key to look at.
 */
const HINTS: Readonly<Partial<Record<Exclude<Outcome, 'success'>, string>>> = {
  code_1001: 'the token service saw this request before: check that the clock of this host is right',
  code_1002: 'the appKey does not exist: check enos.appKey',
  code_1003: 'the appSecret is wrong (the encryption did not match): check enos.appSecret',
  code_1004: 'the token request was refused as invalid: check enos.appKey and enos.appSecret',
  code_1202: 'a credential is empty: check enos.appKey and enos.appSecret',
  code_1203: 'the access token expired: a new one is fetched',
  code_1204: 'the access token could not be refreshed: a new one is fetched',
  code_11404: 'no such device: check orgId and assetId (or productKey and deviceKey)',
  code_99400: 'the gateway refused an argument: check orgId and the device identifiers',
  code_99403:
    'permission denied: the application needs the API permissions "Device Management: Read" ' +
    '(List Certificate) and Search Device\'s own, and access to this orgId',
  code_99404: 'not found: check orgId',
  http_401: 'the gateway refused the credentials or the request signature: check enos.appKey and enos.appSecret',
  http_403: 'the gateway refused this client (IP not allowed, or no permission for this API)',
  http_404: 'no such API at this address: is enos.baseUrl the API gateway (APIM) address?',
  http_429: 'the gateway rate limit was hit: lower enos.maxRequestsPerSecond',
  network: 'cannot reach the gateway: check enos.baseUrl, DNS and the network path',
  timeout: 'no answer in time: check enos.baseUrl and enos.requestTimeoutMs',
};

/** The advice for an outcome, if there is one. */
export function outcomeHint(outcome: Exclude<Outcome, 'success'>): string | undefined {
  return HINTS[outcome];
}

/**
 * The failure as the user reads it: the address it was sent to, for the outcomes a wrong
 * `baseUrl` causes (no query string: it carries nothing the user needs), and the advice.
 */
export function explainFailure(error: EnosApiError, url: URL): EnosApiError {
  const where = error.outcome.startsWith('code_') ? '' : ` at ${url.origin}${url.pathname}`;
  const hint = outcomeHint(error.outcome);
  if (where === '' && hint === undefined) return error;
  return new EnosApiError(error.operation, error.outcome, `${error.message}${where}${hint ? `: ${hint}` : ''}`);
}
