import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EnosApiError } from '../../src/enos/outcome.js';
import { parseCertificateList } from '../../src/enos/parse.js';
import { startSimulator, type RawCertificate, type SimDevice, type Simulator } from '../../src/simulator/index.js';
import { seededRandom } from '../../src/simulator/random.js';
import { decodeSnapshotEntry } from '../../src/state/codec.js';
import { storeKeys } from '../../src/state/redis-store.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { hostileCertificateList } from '../support/hostile.js';
import { promtoolCheckMetrics } from '../support/promtool.js';
import { redisCommand } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const DEVICES = 40;
const ROUNDS = 4;
let simulator: Simulator;
let alertmanager: AlertmanagerServer;
let daemon: TestDaemon;
const run = randomUUID();
const keyPrefix = `hostile-${run}:`;

beforeAll(async () => {
  simulator = await startSimulator({ devices: DEVICES, seed: 51 });
  alertmanager = await startAlertmanager();
  daemon = await startDaemon(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "${keyPrefix}" }
alertmanager: { urls: ["${alertmanager.url}"], labels: { run: "${run}" } }
`);
});

afterAll(async () => {
  await daemon?.kill();
  await alertmanager?.stop();
  await simulator?.close();
});

const scans = (body: string) => sample(body, 'enos_scans_total');

/** Whether the monitor must refuse this `data` (the parser's own property test shows it refuses exactly the invalid). */
function invalid(data: unknown): boolean {
  try {
    parseCertificateList({ status: 200, json: { code: 0, data } });
    return false;
  } catch (error) {
    if (error instanceof EnosApiError) return true;
    throw error;
  }
}

describe('hostile List Certificate answers through the running daemon', () => {
  it('fails exactly the devices with invalid answers, keeps running, and keeps /metrics and alerts valid', async () => {
    const random = seededRandom(51);
    const devices: SimDevice[] = [...simulator.fleet.devices()];
    for (let round = 1; round <= ROUNDS; round++) {
      let refused = 0;
      for (const device of devices) {
        let data = hostileCertificateList(random, Date.now());
        // The simulator wraps a list; a `data` that is no list at all is the wrong_types fault's job.
        if (!Array.isArray(data)) data = [data];
        if (invalid(data)) refused += 1;
        simulator.fleet.setCertificates(device, data as RawCertificate[]);
      }
      // The scan after next saw only this round's answers.
      const before = scans(await daemon.metrics());
      const body = await daemon.waitForMetrics((b) => scans(b) >= before + 2, `round ${round}: two more scans`);

      expect(sample(body, 'enos_devices', { state: 'error' }), `round ${round}`).toBe(refused);
      expect(sample(body, 'enos_devices')).toBe(DEVICES);
      expect(await promtoolCheckMetrics(body)).toEqual({ code: 0, output: '' });
      expect((await daemon.get('/healthz')).status).toBe(200);
    }

    expect(daemon.cli.process.exitCode).toBeNull();
    expect(daemon.cli.logs().filter((line) => line.msg === 'unexpected error querying a device')).toEqual([]);
    // Alertmanager took every batch (a 4xx would count as a failure) and holds what the monitor says fires.
    const body = await daemon.waitForMetrics(
      (b) => sample(b, 'enos_alertmanager_notifications_total', { outcome: 'success' }) > 0,
      'an alert delivery',
    );
    expect(sample(body, 'enos_alertmanager_notifications_total', { outcome: 'failure' })).toBe(0);
    await waitFor(
      async () => (await alertmanager.alerts()).filter((alert) => alert.labels.run === run).length === sample(await daemon.metrics(), 'enos_alerts_firing'),
      { timeoutMs: 10_000, what: 'Alertmanager to hold the firing alerts' },
    );
    // Every stored snapshot reads back (a device whose every answer was refused has none).
    const stored = (await redisCommand(Number(new URL(inject('redisUrl')).port), 'HVALS', storeKeys(keyPrefix).snapshots)) as string[];
    expect(stored.length).toBeGreaterThan(DEVICES / 2);
    for (const raw of stored) expect(() => decodeSnapshotEntry(raw)).not.toThrow();
  });
});
