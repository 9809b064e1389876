import { createHash } from 'node:crypto';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Token request proof: lowercase hex sha256(appKey + timestamp + appSecret). */
export function tokenEncryption(appKey: string, timestamp: number, appSecret: string): string {
  return sha256Hex(`${appKey}${timestamp}${appSecret}`);
}

/**
 * `paramsData` of the gateway signature: query parameter names in ASCII order, each followed
 * by its decoded value, no separators, then the body exactly as sent.
 */
export function paramsData(query: Iterable<readonly [string, string]>, body: string): string {
  const entries = [...query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([name, value]) => `${name}${value}`).join('') + body;
}

/** `apim-signature`: lowercase hex sha256(accessToken + paramsData + timestamp + appSecret). */
export function requestSignature(
  accessToken: string,
  query: Iterable<readonly [string, string]>,
  body: string,
  timestamp: number,
  appSecret: string,
): string {
  return sha256Hex(`${accessToken}${paramsData(query, body)}${timestamp}${appSecret}`);
}
