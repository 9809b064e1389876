import { describe, expect, it } from 'vitest';
import { tokenEncryption } from '../../../src/enos/signature.js';
import { TokenService } from '../../../src/simulator/tokens.js';
import { manualClock } from '../../../src/util/clock.js';

const APP_KEY = 'key';
const APP_SECRET = 'secret';

function service() {
  const clock = manualClock(1_700_000_000_000);
  return { clock, tokens: new TokenService({ appKey: APP_KEY, appSecret: APP_SECRET, ttlSeconds: 60, clock }) };
}

function request(timestamp: number, appKey = APP_KEY, appSecret = APP_SECRET) {
  return { appKey, timestamp, encryption: tokenEncryption(appKey, timestamp, appSecret) };
}

describe('TokenService', () => {
  it('issues a token valid for the ttl', () => {
    const { clock, tokens } = service();
    const answer = tokens.get(request(1));
    expect(answer).toMatchObject({ status: 0, msg: 'Success', business: 'apim-token-service', data: { expire: 60 } });
    const token = answer.data?.accessToken ?? '';
    expect(token).toMatch(/^[\w-]{20,}$/);
    expect(tokens.isValid(token)).toBe(true);
    clock.advance(59_999);
    expect(tokens.isValid(token)).toBe(true);
    clock.advance(1);
    expect(tokens.isValid(token)).toBe(false);
  });

  it('hands out the same token again before it expires, with the time left', () => {
    const { clock, tokens } = service();
    const first = tokens.get(request(1));
    clock.advance(20_000);
    const second = tokens.get(request(2));
    expect(second.data?.accessToken).toBe(first.data?.accessToken);
    expect(second.data?.expire).toBe(40);
  });

  it('issues a new token once the old one expired', () => {
    const { clock, tokens } = service();
    const first = tokens.get(request(1)).data?.accessToken;
    clock.advance(60_000);
    const second = tokens.get(request(2)).data?.accessToken;
    expect(second).not.toBe(first);
    expect(tokens.isValid(second ?? '')).toBe(true);
  });

  it('expireAll invalidates the token and the next get issues another', () => {
    const { tokens } = service();
    const first = tokens.get(request(1)).data?.accessToken ?? '';
    tokens.expireAll();
    expect(tokens.isValid(first)).toBe(false);
    const second = tokens.get(request(2)).data?.accessToken ?? '';
    expect(second).not.toBe(first);
    expect(tokens.isValid(second)).toBe(true);
  });

  it.each([
    ['a reused encryption', [request(1), request(1)], 1001],
    ['an unknown appKey', [request(1, 'other-key')], 1002],
    ['a wrong encryption', [request(1, APP_KEY, 'wrong-secret')], 1003],
    ['a string timestamp', [{ ...request(1), timestamp: '1' }], 1004],
    ['a missing encryption', [{ appKey: APP_KEY, timestamp: 1 }], 1202],
    ['an empty appKey', [{ ...request(1), appKey: '' }], 1202],
    ['a body that is not an object', [undefined], 1202],
  ])('refuses %s', (_name, bodies, status) => {
    const { tokens } = service();
    const answers = bodies.map((body) => tokens.get(body));
    expect(answers.at(-1)).toMatchObject({ status, data: null, business: 'apim-token-service' });
  });

  it('does not burn an encryption on a refused request', () => {
    const { tokens } = service();
    expect(tokens.get({ ...request(1), appKey: 'other-key' }).status).toBe(1002);
    expect(tokens.get(request(1)).status).toBe(0);
  });
});
