import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createStore } from '../../../src/state/create-store.js';
import { manualClock } from '../../../src/util/clock.js';
import { captureLog } from '../../support/capture-log.js';
import { freePort } from '../../support/ports.js';

function configWith(store: string): ReturnType<typeof parseConfig> {
  const text = `
enos: { baseUrl: "http://127.0.0.1:1", appKey: k, appSecret: s }
inventory: { devices: [{ orgId: o1, assetId: a1 }] }
store: ${store}
`;
  return parseConfig(text, 'test.yaml', {});
}

describe('createStore', () => {
  it('keeps state in memory, with a warning, when no Redis is configured', async () => {
    const { log, lines } = captureLog();
    const store = createStore(configWith('{}'), { clock: manualClock(0), log });
    expect(store.kind).toBe('memory');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'no store.redisUrl: state is kept in memory and lost on restart' }),
    );
    await store.close();
  });

  it('uses Redis when store.redisUrl is set', async () => {
    const { log } = captureLog();
    const port = await freePort();
    const store = createStore(configWith(`{ redisUrl: "redis://127.0.0.1:${port}", commandTimeoutMs: 200 }`), {
      clock: manualClock(0),
      log,
    });
    expect(store.kind).toBe('redis');
    await store.close();
  });
});
