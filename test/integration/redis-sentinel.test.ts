import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Monitor } from '../../src/monitor.js';
import type { Simulator } from '../../src/simulator/index.js';
import { RedisStore, storeKeys } from '../../src/state/redis-store.js';
import { silentLogger } from '../../src/util/log.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { runCli, writeConfig } from '../support/cli.js';
import { sample, startDaemon } from '../support/daemon.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { freePort } from '../support/ports.js';
import { redisCommand } from '../support/redis.js';
import { startSentinelSet, type SentinelSet } from '../support/sentinel.js';
import { awaitReplicated, monitorOn, scanOnce, storedEvents, storedSnapshots } from '../support/topology.js';
import { waitFor } from '../support/wait.js';

const { defer, simulator } = cleanupAfterEach();
let set: SentinelSet;

// One master, replica and three Sentinels for the file; a test that kills the master has it
// come back as the replica of the promoted one.
beforeAll(async () => {
  set = await startSentinelSet();
}, 60_000);

afterEach(async () => {
  await set.heal();
}, 60_000);

afterAll(async () => {
  await set?.stop();
});

function sentinelYaml(name: string, sentinelUrls: readonly string[], keyPrefix: string): string {
  const urls = sentinelUrls.map((url) => `"${url}"`).join(', ');
  return `store: { redisSentinel: { name: ${name}, sentinels: [${urls}] }, keyPrefix: "${keyPrefix}", commandTimeoutMs: 1000, leaderLeaseSeconds: 30 }`;
}

function monitorFor(sim: Simulator, keyPrefix: string): Monitor {
  const monitor = monitorOn(sim, sentinelYaml(set.name, set.sentinelUrls, keyPrefix));
  defer(() => monitor.close());
  return monitor;
}

describe('Redis behind Sentinel', () => {
  it('records the changes of the scan after a failover once, on the promoted replica', async () => {
    const sim = await simulator({ devices: 30, seed: 41 });
    const keyPrefix = `sentinel-${randomUUID()}:`;
    const monitor = monitorFor(sim, keyPrefix);
    expect((await scanOnce(monitor)).summary.result).toBe('success');
    const target = devicePicker(sim, Date.now())(healthy);
    const revoked = `revoked:${String(target.cert!.certSN)}`;
    sim.fleet.revoke(target.ref, String(target.cert!.certSN));
    // The baseline must be on the replica before its master dies.
    const before = await set.master();
    await awaitReplicated(before.port);

    const promoted = await set.killMasterAndAwaitFailover();
    expect(promoted.port).not.toBe(before.port);
    // The client finds the promoted replica through the Sentinels by itself.
    await waitFor(() => monitor.store.ping().then(() => true, () => false), { timeoutMs: 10_000, what: 'the store to answer again' });

    const after = await scanOnce(monitor);
    expect(after.summary.result).toBe('success');
    expect(after.events.map((e) => `${e.type}:${e.certSN}`)).toEqual([revoked]);
    expect(await storedSnapshots(promoted.port, keyPrefix)).toBe(30);
    expect(await storedEvents(promoted.port, keyPrefix)).toEqual([revoked]);
    expect((await scanOnce(monitor)).events).toEqual([]);
    expect(await storedEvents(promoted.port, keyPrefix)).toEqual([revoked]);
  });

  it('ends a scan whose master dies mid-scan without a crash; the next scan completes and no change is recorded twice', async () => {
    const sim = await simulator({ devices: 120, seed: 42, latencyMs: 20 });
    const keyPrefix = `sentinel-${randomUUID()}:`;
    const monitor = monitorFor(sim, keyPrefix);
    expect((await scanOnce(monitor)).summary.result).toBe('success');
    const pick = devicePicker(sim, Date.now());
    const targets = [pick(healthy), pick(healthy), pick(healthy)];
    for (const { ref, cert } of targets) sim.fleet.revoke(ref, String(cert!.certSN));
    const expected = targets.map(({ cert }) => `revoked:${String(cert!.certSN)}`).sort();
    await awaitReplicated((await set.master()).port);

    // 120 devices, 20 ms each, 4 at a time: the scan runs for over half a second.
    const scan = scanOnce(monitor);
    await waitFor(() => sim.stats.inFlight > 0, { timeoutMs: 5_000, intervalMs: 1, what: 'a scan in flight' });
    const dead = await set.killMaster();
    // Whatever the scan could store before the master died, it ends with a report, not a throw.
    const cut = await scan;
    expect(cut.summary.devices.total).toBe(120);
    const promoted = await set.awaitFailover(dead);

    let last = await scanOnce(monitor);
    for (let i = 0; i < 5 && last.summary.result !== 'success'; i++) last = await scanOnce(monitor);
    expect(last.summary.result).toBe('success');
    expect(await storedSnapshots(promoted.port, keyPrefix)).toBe(120);
    // Each revocation is in the promoted replica's history exactly once, whichever scan recorded it.
    expect((await storedEvents(promoted.port, keyPrefix)).sort()).toEqual(expected);
    expect((await scanOnce(monitor)).events).toEqual([]);
  });

  it('keeps the leader lease with its holder across a failover', async () => {
    const keyPrefix = `sentinel-${randomUUID()}:`;
    const config = {
      redisSentinel: { name: set.name, sentinels: [...set.sentinelUrls], db: 0 },
      keyPrefix,
      historyMaxLength: 100,
      commandTimeoutMs: 1000,
    };
    const leader = new RedisStore(config, { log: silentLogger });
    const standby = new RedisStore(config, { log: silentLogger });
    defer(() => leader.close());
    defer(() => standby.close());
    const held = await leader.acquireLease('replica-a', 60_000);
    expect(held).toMatchObject({ held: true });
    expect(await standby.acquireLease('replica-b', 60_000)).toEqual({ held: false, holder: 'replica-a' });
    await awaitReplicated((await set.master()).port);

    await set.killMasterAndAwaitFailover();

    const renewed = await waitFor(async () => ((await leader.acquireLease('replica-a', 60_000).catch(() => undefined))?.held ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the holder to renew its lease on the promoted replica',
    });
    expect(renewed).toBe(true);
    // Renewed, not taken anew: the same fence, so writes made under it before the failover stay valid.
    expect(await leader.acquireLease('replica-a', 60_000)).toEqual(held);
    expect(await standby.acquireLease('replica-b', 60_000)).toEqual({ held: false, holder: 'replica-a' });
    expect(await redisCommand((await set.master()).port, 'GET', storeKeys(keyPrefix).leader)).toBe(held.held ? held.fence : '');
  });
});

describe('a Sentinel configuration that cannot work', () => {
  it('names store.redisSentinel.name for an unknown master: scan and check-config exit 2', async () => {
    const sim = await simulator({ devices: 3, seed: 43 });
    const path = writeConfig(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret }
inventory: { discover: [{ orgId: demo-org }] }
${sentinelYaml('no-such-master', set.sentinelUrls, 'unused:')}
`);
    for (const command of ['scan', 'check-config']) {
      const result = await runCli([command, '-c', path]);
      expect(result.code, command).toBe(2);
      expect(result.stderr, command).toContain('store.redisSentinel.name: no Sentinel knows a master named "no-such-master"');
      expect(result.stderr, command).not.toMatch(/^\s+at /m);
    }
    expect(sim.stats.listRequests).toBe(0);
  });

  it('names store.redisSentinel.sentinels when none answers: scan exits 3 before querying a device', async () => {
    const sim = await simulator({ devices: 3, seed: 44 });
    const closed = [`redis://127.0.0.1:${await freePort()}`, `redis://127.0.0.1:${await freePort()}`];
    const result = await runCli([
      'scan',
      '-c',
      writeConfig(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret }
inventory: { discover: [{ orgId: demo-org }] }
${sentinelYaml(set.name, closed, 'unused:')}
`),
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('store.redisSentinel.sentinels: no Sentinel reachable (127.0.0.1:');
    expect(sim.stats.listRequests).toBe(0);
  });

  it('keeps a daemon running with enos_store_up 0 until the Sentinels know its master, then uses it', async () => {
    const sim = await simulator({ devices: 5, seed: 45 });
    const name = `late-${randomUUID().slice(0, 8)}`;
    const daemon = await startDaemon(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
${sentinelYaml(name, set.sentinelUrls, `sentinel-${randomUUID()}:`)}
log: { level: info }
`);
    defer(() => daemon.kill());
    await waitFor(() => daemon.cli.logs().some((line) => String(line.problem ?? '').startsWith('store.redisSentinel.name:')), {
      what: 'a startup error naming store.redisSentinel.name',
    });
    expect(sample(await daemon.metrics(), 'enos_store_up')).toBe(0);

    // The operator fixes the Sentinels, not the monitor: it picks the master up by itself.
    const master = await set.master();
    for (const url of set.sentinelUrls) {
      await redisCommand(Number(new URL(url).port), 'SENTINEL', 'MONITOR', name, '127.0.0.1', String(master.port), '2');
      defer(() => redisCommand(Number(new URL(url).port), 'SENTINEL', 'REMOVE', name).then(() => undefined));
    }
    await daemon.waitForMetrics(
      (body) => sample(body, 'enos_store_up') === 1 && sample(body, 'enos_scans_total', { result: 'success' }) >= 1,
      'the store up and a successful scan',
      20_000,
    );
    expect(daemon.cli.process.exitCode).toBeNull();
  });
});
