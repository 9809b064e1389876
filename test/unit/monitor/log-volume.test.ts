import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { deviceId } from '../../../src/domain/device-id.js';
import type { DeviceRef } from '../../../src/domain/types.js';
import type { EnosApi } from '../../../src/enos/api.js';
import { Monitor } from '../../../src/monitor.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { manualClock } from '../../../src/util/clock.js';
import { captureLog } from '../../support/capture-log.js';
import { heldFence } from '../../support/store-fixtures.js';
import { cert, NOW } from '../domain/fixtures.js';
import { FakeApi } from '../scan/fakes.js';

const DEVICES = 3_000;
const INFO = 30;

/** 10% of the devices fail (four reasons), 40% have a certificate that needs renewal. */
function fleet(): { devices: DeviceRef[]; api: EnosApi } {
  const fake = new FakeApi();
  const reasons = ['timeout', 'http_503', 'code_99500', 'invalid_response'] as const;
  const devices = Array.from({ length: DEVICES }, (_, i) => ({ orgId: `org-${i % 3}`, assetId: `asset-${i}` }));
  devices.forEach((device, i) => {
    const id = deviceId(device);
    if (i % 10 === 0) fake.answers.set(id, reasons[(i / 10) % reasons.length]!);
    else if (i % 10 < 5) fake.answers.set(id, [cert(`sn-${i}`, i % 2 === 0 ? 20 : 3)]);
    else fake.answers.set(id, [cert(`sn-${i}`, 400)]);
  });
  const api: EnosApi = {
    listCertificates: (device, signal) => fake.listCertificates(device, signal),
    searchDevices: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
  };
  return { devices, api };
}

describe('log volume of one scan', () => {
  it('stays a handful of info lines for 3,000 devices, 300 failing and 1,200 alerts starting', async () => {
    const { devices, api } = fleet();
    const inventory = devices.map((d) => `    - { orgId: ${d.orgId}, assetId: ${d.assetId} }`).join('\n');
    const config = parseConfig(
      `enos: { baseUrl: http://127.0.0.1:1, appKey: k, appSecret: s }\ninventory:\n  devices:\n${inventory}\n`,
      'log-volume.yaml',
      {},
    );
    const clock = manualClock(NOW);
    const { log, lines } = captureLog('info');
    const store = new MemoryStore({ historyMaxLength: 1000, clock });
    const monitor = new Monitor(config, { log, clock, api, store });
    const fence = heldFence(await store.acquireLease('log-volume-test', 600_000));

    const report = await monitor.scan(new AbortController().signal, { fence, held: () => true });

    expect(report.summary).toMatchObject({ result: 'success', devices: { total: DEVICES, failed: 300 } });
    const firing = monitor.alerts.firing().reduce((sum, kind) => sum + kind.count, 0);
    expect(firing).toBeGreaterThanOrEqual(1_000);
    const info = lines.filter((line) => (line.level as number) >= INFO);
    expect(info.length, JSON.stringify(info.map((line) => line.msg))).toBeLessThanOrEqual(50);

    const failures = info.find((line) => line.msg === 'device queries failed');
    expect(failures).toMatchObject({
      failed: 300,
      byReason: { timeout: 75, http_503: 75, code_99500: 75, invalid_response: 75 },
      andMore: 300 - (failures?.examples as unknown[]).length,
    });
    expect((failures?.examples as unknown[]).length).toBeLessThanOrEqual(10);
    const alerts = info.find((line) => line.msg === 'alerts evaluated');
    expect(alerts).toMatchObject({
      started: firing,
      startedByKind: { 'EnosCertificateExpiring/warning': 600, 'EnosCertificateExpiring/critical': 600 },
    });
  }, 30_000);
});
