import { describe, expect, it } from 'vitest';
import { evaluateAlerts, holdFromEvent, holdKey, type RevokedHold } from '../../../src/alerts/evaluate.js';
import { isValidLabelName } from '../../../src/alerts/labels.js';
import { deviceId } from '../../../src/domain/device-id.js';
import { diffCertificates } from '../../../src/domain/diff.js';
import type { Certificate } from '../../../src/domain/types.js';
import { EnosApiError } from '../../../src/enos/outcome.js';
import { parseCertificateList, parseDevicePage } from '../../../src/enos/parse.js';
import { MonitorMetrics } from '../../../src/metrics/monitor-metrics.js';
import { seededRandom, type Random } from '../../../src/simulator/random.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { manualClock } from '../../../src/util/clock.js';
import { wellFormed } from '../../../src/util/text.js';
import { hostileCertificateList, hostileDevice, NASTY_STRINGS, randomJson } from '../../support/hostile.js';
import { parseExposition } from '../metrics/exposition-parser.js';
import { cert } from '../metrics/fixtures.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const THRESHOLDS = { warningDays: 30, criticalDays: 7 };
const SEED = 20_261_127;
const ROUNDS = 300;
const MAX_EPOCH_MS = 253_402_300_799_999;
const CERTIFICATE_FIELDS = ['certSN', 'issueAuthority', 'issuer', 'notAfter', 'notBefore', 'revoker', 'revokerReason', 'status', 'subject'];
const DEVICE_FIELDS = new Set(['orgId', 'assetId', 'productKey', 'deviceKey']);

/** The parsed value, or undefined after checking that the failure is the one a bad answer may cause. */
function parsedOrRejected<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(EnosApiError);
    const { outcome, message } = error as EnosApiError;
    expect(outcome).toBe('invalid_response');
    // One short line: no payload is echoed into logs or reports.
    expect(message).not.toMatch(/[\n\r]/);
    expect(message.length).toBeLessThan(300);
    return undefined;
  }
}

/** Unique serials, only the Certificate fields, each within its bounds, all text well-formed Unicode. */
function expectWellFormed(certificates: readonly Certificate[]): void {
  const inRange = (date: number): boolean => Number.isSafeInteger(date) && date > 0 && date <= MAX_EPOCH_MS;
  const text = (value: string): boolean => typeof value === 'string' && value.length <= 4096 && wellFormed(value) === value;
  const misfits = certificates.filter(
    (c) =>
      Object.keys(c).filter((key) => key !== 'pem').sort().join() !== CERTIFICATE_FIELDS.join() ||
      !(c.pem === undefined || c.pem === 'unparseable') ||
      !(c.certSN.length > 0 && c.certSN.length <= 256 && wellFormed(c.certSN) === c.certSN) ||
      !['valid', 'revoked', 'expired'].includes(c.status) ||
      !inRange(c.notAfter) ||
      !(c.notBefore === null || inRange(c.notBefore)) ||
      ![c.issuer, c.subject, c.issueAuthority, c.revoker, c.revokerReason].every(text),
  );
  expect(misfits).toEqual([]);
  expect(new Set(certificates.map((c) => c.certSN)).size).toBe(certificates.length);
}

/** The scrape parses strictly; every alert has valid label names and string values, and posts as JSON. */
async function expectValidOutputs(metrics: MonitorMetrics, fleet: FleetView, holds: Iterable<RevokedHold>): Promise<void> {
  expect(parseExposition(await metrics.render()).length).toBeGreaterThan(0);
  const alerts = await evaluateAlerts({
    records: fleet.records(),
    holds,
    now: NOW,
    thresholds: THRESHOLDS,
    revokedHoldHours: 24,
    extraLabels: { cluster: 'fuzz' },
  });
  for (const alert of alerts.values()) {
    for (const [name, value] of Object.entries({ ...alert.labels, ...alert.annotations })) {
      expect(isValidLabelName(name), name).toBe(true);
      expect(typeof value).toBe('string');
    }
  }
  const posted = [...alerts.values()].map(({ labels, annotations }) => ({ labels, annotations }));
  expect(JSON.parse(JSON.stringify(posted))).toEqual(posted);
}

function hostileDevicePage(random: Random): unknown {
  const identifier = (): unknown => (random.next() < 0.7 ? random.pick(NASTY_STRINGS) || 'x' : randomJson(random, 0));
  const data =
    random.next() < 0.1
      ? randomJson(random)
      : Array.from({ length: random.int(0, 5) }, () => ({
          ...(random.next() < 0.7 ? { assetId: identifier() } : {}),
          ...(random.next() < 0.7 ? { productKey: identifier(), deviceKey: identifier() } : {}),
          deviceSecret: 'secret-of-the-device',
          ...(random.next() < 0.2 ? { orgId: 'another-org' } : {}),
        }));
  const pagination = random.next() < 0.8 ? { pageNo: 1, pageSize: 200, totalSize: random.int(0, 10) } : randomJson(random);
  return { code: 0, msg: 'OK', data, pagination };
}

describe('hostile API answers (seeded property test)', () => {
  // Hundreds of rounds, some with lists of thousands: seconds on a busy machine.
  it('carries every accepted List Certificate answer through diff, metrics and alerts; rejects the rest cleanly', async () => {
    const random = seededRandom(SEED);
    const fleet = new FleetView();
    const metrics = new MonitorMetrics({ fleet, perCertificate: 'all', thresholds: THRESHOLDS, clock: manualClock(NOW), version: 'fuzz' });
    const holds = new Map<string, RevokedHold>();
    const devices = Array.from({ length: 40 }, (_, index) => hostileDevice(random, index));
    let rejected = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const device = devices[round % devices.length]!;
      const id = deviceId(device);
      const data = hostileCertificateList(random, NOW);
      const certificates = parsedOrRejected(() => parseCertificateList({ status: 200, json: { code: 0, msg: 'OK', data } }));
      const previous = fleet.get(id)?.certificates;
      if (certificates === undefined) {
        // The device fails cleanly: its snapshot is kept and nothing is diffed.
        rejected += 1;
        fleet.set({ id, device, query: 'error', reason: 'invalid_response', certificates: previous ?? [] });
        continue;
      }
      expectWellFormed(certificates);
      const events = diffCertificates(device, previous, certificates, NOW, THRESHOLDS);
      const known = new Set([...(previous ?? []), ...certificates].map((c) => c.certSN));
      expect(events.filter((event) => !known.has(event.certSN))).toEqual([]);
      fleet.set({ id, device, query: 'ok', certificates });
      for (const event of events.filter((e) => e.type === 'revoked')) {
        const hold = holdFromEvent(event, certificates);
        holds.set(holdKey(hold), hold);
      }
      if (round % 50 === 49) await expectValidOutputs(metrics, fleet, holds.values());
    }
    // Both paths were walked often.
    expect(rejected).toBeGreaterThan(ROUNDS / 10);
    expect(rejected).toBeLessThan(ROUNDS * 0.7);
    expect(holds.size).toBeGreaterThan(0);
    // Hundreds of rounds with 10 kB values: seconds on a busy machine.
  }, 30_000);

  it('gives serials that read alike once capped or cleaned one series, not a duplicate', async () => {
    const fleet = new FleetView();
    const metrics = new MonitorMetrics({ fleet, perCertificate: 'all', thresholds: THRESHOLDS, clock: manualClock(NOW), version: 'x' });
    const device = { orgId: 'o1', assetId: 'a1' };
    const serials = [`${'a'.repeat(200)}1`, `${'a'.repeat(200)}2`, 'x\u0000', 'x\u0001'];
    fleet.set({ id: deviceId(device), device, query: 'ok', certificates: serials.map((sn) => cert(sn, 90)) });
    const series = parseExposition(await metrics.render()).filter((s) => s.name === 'enos_certificate_not_after_timestamp_seconds');
    expect(series).toHaveLength(2);
  });

  it('reads nothing but identifiers from any Search Device answer, or rejects it cleanly', () => {
    const random = seededRandom(SEED + 1);
    let accepted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const page = parsedOrRejected(() => parseDevicePage('o1', { status: 200, json: hostileDevicePage(random) }));
      if (page === undefined) continue;
      accepted += 1;
      for (const device of page.devices) {
        expect(Object.keys(device).every((key) => DEVICE_FIELDS.has(key))).toBe(true);
        expect(device.orgId).toBe('o1');
        expect(device.assetId !== undefined || (device.productKey !== undefined && device.deviceKey !== undefined)).toBe(true);
        for (const value of Object.values(device)) {
          expect(typeof value === 'string' && value.length > 0 && value.length <= 256 && wellFormed(value) === value).toBe(true);
        }
      }
    }
    expect(accepted).toBeGreaterThan(ROUNDS / 10);
  });
});
