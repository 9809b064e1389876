import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKeys } from '../../src/state/redis-store.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { startRedisCluster, type RedisClusterSet } from '../support/cluster.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { awaitReplicated, monitorOn, scanOnce, storedEvents, storedSnapshots } from '../support/topology.js';
import { waitFor } from '../support/wait.js';

const { defer, simulator } = cleanupAfterEach();
let cluster: RedisClusterSet;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('Redis Cluster of three masters with a replica each', () => {
  it('loses and duplicates no change event when the master of the store slot dies mid-scan', async () => {
    const sim = await simulator({ devices: 120, seed: 51, latencyMs: 20 });
    const keyPrefix = `cluster-${randomUUID()}:`;
    const slotKey = storeKeys(keyPrefix).snapshots;
    const urls = cluster.urls.map((url) => `"${url}"`).join(', ');
    const monitor = monitorOn(sim, `store: { redisClusterUrls: [${urls}], keyPrefix: "${keyPrefix}", commandTimeoutMs: 1000 }`);
    defer(() => monitor.close());
    expect((await scanOnce(monitor)).summary.result).toBe('success');

    const pick = devicePicker(sim, Date.now());
    const targets = [pick(healthy), pick(healthy), pick(healthy)];
    for (const { ref, cert } of targets) sim.fleet.revoke(ref, String(cert!.certSN));
    const expected = targets.map(({ cert }) => `revoked:${String(cert!.certSN)}`).sort();
    // The baseline must be on the replica before its master dies.
    await awaitReplicated((await cluster.masterOf(slotKey)).port);

    const scan = scanOnce(monitor);
    await waitFor(() => sim.stats.inFlight > 0, { timeoutMs: 5_000, intervalMs: 1, what: 'a scan in flight' });
    const dead = await cluster.killMasterOf(slotKey);
    // Whatever the scan could store before the master died, it ends with a report, not a throw.
    expect((await scan).summary.devices.total).toBe(120);
    const promoted = await cluster.awaitPromotion(slotKey, dead);

    let last = await scanOnce(monitor);
    for (let i = 0; i < 5 && last.summary.result !== 'success'; i++) last = await scanOnce(monitor);
    expect(last.summary.result).toBe('success');
    expect(await storedSnapshots(promoted.port, keyPrefix)).toBe(120);
    expect((await storedEvents(promoted.port, keyPrefix)).sort()).toEqual(expected);
    expect((await scanOnce(monitor)).events).toEqual([]);
    expect((await storedEvents(promoted.port, keyPrefix)).sort()).toEqual(expected);
  });
});
