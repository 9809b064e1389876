import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import type { DeviceRef } from '../../src/domain/types.js';
import { RedisStore, storeKeys, type RedisStoreConfig } from '../../src/state/redis-store.js';
import type { CommitRequest } from '../../src/state/store.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { captureLog } from '../support/capture-log.js';
import { redisCommand, startRedis, type RedisServer } from '../support/redis.js';
import { describeStoreContract } from '../support/store-contract.js';
import { certificate, changeEvent, heldFence, snapshot } from '../support/store-fixtures.js';
import { waitFor } from '../support/wait.js';

const redisUrl = inject('redisUrl');
const redisPort = Number(new URL(redisUrl).port);

/** Every test writes under its own prefix, so tests never see each other's keys. */
function freshPrefix(): string {
  return `test-${randomUUID()}:`;
}

function openStore(config: Partial<RedisStoreConfig> & { keyPrefix: string }, log: Logger = silentLogger): RedisStore {
  return new RedisStore({ redisUrl, historyMaxLength: 10_000, commandTimeoutMs: 2_000, ...config }, { log });
}

function device(n: number): DeviceRef {
  return { orgId: 'o1', assetId: `asset-${n}` };
}

/** A long lease for the writes of one test. */
async function leaseFor(store: RedisStore): Promise<string> {
  return heldFence(await store.acquireLease('writer', 600_000));
}

function firstCommit(d: DeviceRef, events = [changeEvent(d)]): CommitRequest {
  return { id: deviceId(d), expectedVersion: 0, snapshot: snapshot(d), events };
}

async function leaseGone(port: number, keyPrefix: string): Promise<void> {
  await waitFor(async () => (await redisCommand(port, 'EXISTS', storeKeys(keyPrefix).leader)) === 0, {
    what: 'the lease key to expire',
  });
}

let raw: Redis;
beforeAll(() => {
  raw = new Redis(redisUrl);
});
afterAll(async () => {
  await raw.quit();
});

describeStoreContract('RedisStore', async () => {
  const keyPrefix = freshPrefix();
  return { store: openStore({ keyPrefix }), leaseTtlMs: 1_000, expireLease: () => leaseGone(redisPort, keyPrefix) };
});

describe('RedisStore', () => {
  it('reads a batch with one HMGET and commits a batch with one script call', async () => {
    const keyPrefix = freshPrefix();
    const store = openStore({ keyPrefix });
    const fence = await leaseFor(store);
    const monitor = await raw.monitor();
    const seen: { command: string; args: string[]; source: string }[] = [];
    monitor.on('monitor', (_time: string, [command, ...args]: string[], source: string) =>
      seen.push({ command: String(command).toLowerCase(), args, source }),
    );
    try {
      const devices = Array.from({ length: 50 }, (_, i) => device(i));
      const before = store.roundTrips;
      expect(await store.getSnapshots(devices.map(deviceId))).toEqual(new Map());
      const twoEvents = (d: DeviceRef) => firstCommit(d, [changeEvent(d), changeEvent(d, { certSN: 'sn-2' })]);
      const results = await store.commit(devices.map(twoEvents), fence);
      expect(results.every((r) => r.status === 'committed')).toBe(true);
      expect(store.roundTrips - before).toBe(2);

      const marker = `marker-${randomUUID()}`;
      await raw.echo(marker);
      await waitFor(() => seen.some((s) => s.args.includes(marker)), { what: 'the marker in MONITOR' });
      const ours = seen.filter((s) => s.args.some((arg) => arg.includes(keyPrefix)));
      const fromClient = ours.filter((s) => s.source !== 'lua').map((s) => s.command);
      expect(fromClient).toHaveLength(2);
      expect(fromClient[0]).toBe('hmget');
      expect(['eval', 'evalsha']).toContain(fromClient[1]);
      expect(ours.filter((s) => s.source === 'lua' && s.command === 'xadd')).toHaveLength(100);
    } finally {
      monitor.disconnect();
      await store.close();
    }
  });

  it('lets exactly one of two scanners commit the same change', async () => {
    const keyPrefix = freshPrefix();
    const one = openStore({ keyPrefix });
    const two = openStore({ keyPrefix });
    const fence = await leaseFor(one);
    try {
      const devices = Array.from({ length: 20 }, (_, i) => device(i));
      await one.commit(devices.map((d) => firstCommit(d, [])), fence);
      const change = (d: DeviceRef): CommitRequest => ({
        id: deviceId(d),
        expectedVersion: 1,
        snapshot: snapshot(d, [certificate(), certificate({ certSN: 'sn-2' })]),
        events: [changeEvent(d, { certSN: 'sn-2' })],
      });
      const outcomes = await Promise.all(
        devices.map((d) => Promise.all([one.commit([change(d)], fence), two.commit([change(d)], fence)])),
      );
      for (const [[fromOne], [fromTwo]] of outcomes) {
        expect([fromOne?.status, fromTwo?.status].sort()).toEqual(['committed', 'conflict']);
      }
      const history = await one.history({ limit: 100 });
      expect(history).toHaveLength(devices.length);
      expect(new Set(history.map((e) => e.assetId)).size).toBe(devices.length);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('caps the event stream near historyMaxLength', async () => {
    const keyPrefix = freshPrefix();
    const store = openStore({ keyPrefix, historyMaxLength: 50 });
    const fence = await leaseFor(store);
    try {
      const d = device(1);
      for (let batch = 0; batch < 4; batch++) {
        const events = Array.from({ length: 100 }, (_, i) => changeEvent(d, { certSN: `sn-${batch * 100 + i}` }));
        const request = { ...firstCommit(d, events), expectedVersion: batch };
        expect(await store.commit([request], fence)).toEqual([{ status: 'committed', version: batch + 1 }]);
      }
      // MAXLEN ~ trims whole stream nodes (100 entries each by default), so a little more stays.
      const length = await raw.xlen(storeKeys(keyPrefix).events);
      expect(length).toBeGreaterThanOrEqual(50);
      expect(length).toBeLessThanOrEqual(150);
      const history = await store.history({ limit: 1_000 });
      expect(history).toHaveLength(length);
      expect(history[0]?.certSN).toBe('sn-399');
    } finally {
      await store.close();
    }
  });

  it('pages through the stream when filtering the history by device', async () => {
    const keyPrefix = freshPrefix();
    const store = openStore({ keyPrefix });
    const fence = await leaseFor(store);
    try {
      const [a, b] = [device(1), device(2)];
      const aEvents = [changeEvent(a, { certSN: 'a-1' }), changeEvent(a, { certSN: 'a-2' })];
      const bEvents = Array.from({ length: 1_200 }, (_, i) => changeEvent(b, { certSN: `b-${i}` }));
      await store.commit([firstCommit(a, aEvents)], fence);
      await store.commit([firstCommit(b, bEvents)], fence);
      expect((await store.history({ deviceId: deviceId(a), limit: 10 })).map((e) => e.certSN)).toEqual(['a-2', 'a-1']);
      const newestB = await store.history({ deviceId: deviceId(b), limit: 700 });
      expect(newestB.map((e) => e.certSN)).toEqual(bEvents.slice(-700).reverse().map((e) => e.certSN));
    } finally {
      await store.close();
    }
  });

  it('refuses a lease held by one instance to another until it expires', async () => {
    const keyPrefix = freshPrefix();
    const a = openStore({ keyPrefix });
    const b = openStore({ keyPrefix });
    try {
      const ttlMs = 400;
      const started = Date.now();
      expect(await a.acquireLease('a', ttlMs)).toMatchObject({ held: true });
      expect(await b.acquireLease('b', ttlMs)).toEqual({ held: false, holder: 'a' });
      await waitFor(async () => (await b.acquireLease('b', 10_000)).held, { timeoutMs: 5_000, what: 'b to get the lease' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(ttlMs - 20);
      expect(await a.acquireLease('a', ttlMs)).toEqual({ held: false, holder: 'b' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('treats an unreadable snapshot as absent, logs its device, and lets a first commit replace it', async () => {
    const keyPrefix = freshPrefix();
    const { log, lines } = captureLog('warn');
    const store = openStore({ keyPrefix }, log);
    const fence = await leaseFor(store);
    try {
      const good = device(1);
      await store.commit([firstCommit(good)], fence);
      const keys = storeKeys(keyPrefix);
      const wrongShape = JSON.stringify({ v: 1, s: { device: {} } });
      await raw.hset(keys.snapshots, 'o1/garbage', '{"v":1,"s":', 'o1/wrong-shape', wrongShape);
      await raw.xadd(keys.events, '*', 'e', 'not json', 'd', deviceId(good));

      const found = await store.getSnapshots([deviceId(good), 'o1/garbage', 'o1/wrong-shape']);
      expect([...found.keys()]).toEqual([deviceId(good)]);
      for (const id of ['o1/garbage', 'o1/wrong-shape']) {
        expect(lines).toContainEqual(expect.objectContaining({ device: id, msg: 'unreadable snapshot ignored' }));
      }
      const all: string[] = [];
      for await (const stored of store.allSnapshots()) all.push(stored.id);
      expect(all).toEqual([deviceId(good)]);
      expect(await store.history({ limit: 10 })).toEqual([changeEvent(good)]);
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'unreadable change event ignored' }));

      const garbage: DeviceRef = { orgId: 'o1', assetId: 'garbage' };
      expect(await store.commit([firstCommit(garbage, [])], fence)).toEqual([{ status: 'committed', version: 1 }]);
      expect((await store.getSnapshots(['o1/garbage'])).get('o1/garbage')?.snapshot).toEqual(snapshot(garbage));
      // A readable version with an unreadable body: the first commit still replaces it.
      const wrong: DeviceRef = { orgId: 'o1', assetId: 'wrong-shape' };
      expect(await store.commit([firstCommit(wrong, [])], fence)).toEqual([{ status: 'committed', version: 2 }]);
      expect((await store.getSnapshots(['o1/wrong-shape'])).get('o1/wrong-shape')?.snapshot).toEqual(snapshot(wrong));
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore when its Redis dies', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('rejects every call within 2 × commandTimeoutMs, works again after a restart, never replays a failed write', async () => {
    const commandTimeoutMs = 300;
    const store = new RedisStore(
      { redisUrl: server.url, keyPrefix: freshPrefix(), historyMaxLength: 100, commandTimeoutMs },
      { log: silentLogger },
    );
    try {
      let fence = await leaseFor(store);
      await store.commit([firstCommit(device(1))], fence);
      await server.kill();

      const ghost = device(2);
      const calls: Record<string, () => Promise<unknown>> = {
        getSnapshots: () => store.getSnapshots([deviceId(device(1))]),
        commit: () => store.commit([firstCommit(ghost)], fence),
        allSnapshots: async () => {
          for await (const _ of store.allSnapshots());
        },
        history: () => store.history({ limit: 10 }),
        readAlertState: () => store.readAlertState(),
        writeAlertState: () => store.writeAlertState(new Map([['ghost', 'x']]), [], fence, 'state'),
        acquireLease: () => store.acquireLease('ghost', 60_000),
        ping: () => store.ping(),
      };
      const outcomes = await Promise.all(
        Object.entries(calls).map(async ([name, call]) => {
          const started = Date.now();
          const settled = await call().then(
            () => 'resolved',
            () => 'rejected',
          );
          return { name, settled, withinTwoTimeouts: Date.now() - started < 2 * commandTimeoutMs };
        }),
      );
      expect(outcomes).toEqual(
        Object.keys(calls).map((name) => ({ name, settled: 'rejected', withinTwoTimeouts: true })),
      );

      await server.restart();
      await waitFor(() => store.ping().then(() => true), { timeoutMs: 10_000, what: 'the store to reconnect' });
      // The restarted server starts empty: whatever is there now was written after the restart.
      expect(await store.getSnapshots([deviceId(ghost)])).toEqual(new Map());
      expect(await store.readAlertState()).toEqual(new Map());
      fence = await leaseFor(store);
      expect(await store.commit([firstCommit(device(1))], fence)).toEqual([{ status: 'committed', version: 1 }]);
      expect(await store.history({ limit: 10 })).toEqual([changeEvent(device(1))]);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore on a Redis Cluster', () => {
  let cluster: RedisServer;
  beforeAll(async () => {
    cluster = await startRedis({ cluster: true });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  describeStoreContract('RedisStore (cluster)', async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisStore(
      { redisClusterUrls: [cluster.url], keyPrefix, historyMaxLength: 1_000, commandTimeoutMs: 2_000 },
      { log: silentLogger },
    );
    return { store, leaseTtlMs: 1_000, expireLease: () => leaseGone(cluster.port, keyPrefix) };
  });
});
