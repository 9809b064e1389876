import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import type { DeviceRef } from '../../src/domain/types.js';
import { storeKeys } from '../../src/state/redis-store.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { writeConfig } from '../support/cli.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { redisCommand } from '../support/redis.js';

const { defer, simulator } = cleanupAfterEach();

function csv(devices: readonly DeviceRef[]): string {
  return ['orgId,assetId,productKey,deviceKey', ...devices.map((d) => `${d.orgId},${d.assetId ?? ''},,`)].join('\n');
}

const exported = (body: string, device: DeviceRef) => body.includes(`asset_id="${device.assetId}"`);
const deviceCount = (body: string) => sample(body, 'enos_devices');
const leader = (body: string) => sample(body, 'enos_scanner_leader');

describe('devices removed from the inventory', () => {
  it('are deleted from the store and leave both replicas within a standby refresh', async () => {
    const sim = await simulator({ devices: 6, seed: 61 });
    const devices: DeviceRef[] = [];
    for (let i = 1; i <= 6; i++) {
      const { orgId, assetId } = sim.fleet.device(i)!;
      devices.push({ orgId, assetId });
    }
    const configPath = writeConfig('');
    const inventory = configPath.replace(/config\.yaml$/, 'devices.csv');
    writeFileSync(inventory, csv(devices));
    const keyPrefix = `removed-${randomUUID()}:`;
    const yaml = `
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0 }
inventory: { files: ["${inventory}"] }
schedule: { cron: "* * * * * *", runOnStart: true }
store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "${keyPrefix}", leaderLeaseSeconds: 30, standbyRefreshSeconds: 1 }
log: { level: info }
`;
    const started: TestDaemon[] = [];
    for (let i = 0; i < 2; i++) {
      const daemon = await startDaemon(yaml);
      defer(() => daemon.kill());
      started.push(daemon);
    }
    for (const daemon of started) await daemon.waitForMetrics((body) => deviceCount(body) === 6, 'six devices exported');
    const bodies = await Promise.all(started.map((d) => d.metrics()));
    expect(bodies.map(leader).sort()).toEqual([0, 1]);
    const [kept, removed] = [devices.slice(0, 3), devices.slice(3)];

    writeFileSync(inventory, csv(kept));

    const redisPort = Number(new URL(inject('redisUrl')).port);
    const snapshots = async () => ((await redisCommand(redisPort, 'HKEYS', storeKeys(keyPrefix).snapshots)) as string[]).sort();
    for (const daemon of started) {
      const body = await daemon.waitForMetrics((b) => deviceCount(b) === 3, 'three devices exported', 10_000);
      for (const device of removed) expect(exported(body, device), `${deviceId(device)} on a replica`).toBe(false);
      for (const device of kept) expect(exported(body, device)).toBe(true);
    }
    expect(await snapshots()).toEqual(kept.map(deviceId).sort());
  });
});
