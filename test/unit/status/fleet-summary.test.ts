import { describe, expect, it } from 'vitest';
import { assessCertificates, DAY_MS } from '../../../src/domain/certificate.js';
import { deviceState } from '../../../src/domain/device.js';
import { CERTIFICATE_STATES, type CertificateState, type DeviceState } from '../../../src/domain/types.js';
import { seededRandom, type Random } from '../../../src/simulator/random.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { CertificateIndex } from '../../../src/status/certificate-index.js';
import { ACTION_STATES, FleetSummary, FORECAST_WEEKS, type CertificateFilter } from '../../../src/status/fleet-summary.js';
import { cert, NOW, record, THRESHOLDS } from '../metrics/fixtures.js';

const ORGS = ['o1', 'o2', 'o<3>'];

/** A device of a small pool with 0–4 certificates; notAfter on whole days so that ties happen. */
function randomRecord(random: Random) {
  const orgId = random.pick(ORGS);
  const device = random.next() < 0.5 ? { orgId, assetId: `a${random.int(1, 30)}` } : { orgId, productKey: 'p', deviceKey: `d${random.int(1, 30)}` };
  const certificates = Array.from({ length: random.int(0, 4) }, (_, i) =>
    cert(`sn${i}-${random.int(1, 5)}`, random.int(-60, 220), { status: random.pick(['valid', 'valid', 'valid', 'revoked', 'expired'] as const) }),
  );
  return record(device, certificates, random.pick(['ok', 'ok', 'ok', 'error', 'not_found'] as const));
}

/** What the index must answer, computed the slow way from the domain functions. */
function expected(fleet: FleetView, now: number, filter: Omit<CertificateFilter, 'offset' | 'limit'>) {
  const listed: { key: string; notAfter: number }[] = [];
  const certificates = Object.fromEntries(CERTIFICATE_STATES.map((s) => [s, 0])) as Record<CertificateState, number>;
  const devices: Partial<Record<DeviceState, number>> = {};
  const weeks = new Array<number>(FORECAST_WEEKS).fill(0);
  let overdue = 0;
  for (const r of fleet.records()) {
    if (filter.org !== undefined && r.device.orgId !== filter.org) continue;
    const assessed = assessCertificates(r.certificates, now, THRESHOLDS);
    const state = deviceState(r.query, assessed);
    devices[state] = (devices[state] ?? 0) + 1;
    assessed.forEach((a, position) => {
      certificates[a.state]++;
      if (!a.superseded && a.state === 'expired') overdue++;
      const week = Math.floor((a.cert.notAfter - now) / (7 * DAY_MS));
      if (!a.superseded && a.state !== 'expired' && a.state !== 'revoked' && week < FORECAST_WEEKS) weeks[week]!++;
      if (filter.states.length > 0 && !filter.states.includes(a.state)) return;
      if (filter.withoutSuperseded && a.superseded) return;
      listed.push({ key: `${r.id}#${position}`, notAfter: a.cert.notAfter });
    });
  }
  listed.sort((a, b) => a.notAfter - b.notAfter);
  return { listed, certificates, devices, forecast: { overdue, weeks } };
}

describe('CertificateIndex and FleetSummary', () => {
  it('agree with the domain functions after any sequence of sets and deletes, at any time', () => {
    const random = seededRandom(14);
    const fleet = new FleetView();
    fleet.set(randomRecord(random));
    const index = new CertificateIndex(fleet);
    for (let step = 0; step < 600; step++) {
      const roll = random.next();
      const ids = [...fleet.ids()];
      if (roll < 0.15 && ids.length > 0) fleet.delete(random.pick(ids));
      else if (roll < 0.3 && ids.length > 0) fleet.set(fleet.get(random.pick(ids))!);
      else fleet.set(randomRecord(random));
      if (step % 7 !== 0) continue;

      const now = NOW + random.int(-10 * 24, 200 * 24) * 3_600_000;
      const summary = new FleetSummary(index.view(), now, THRESHOLDS);
      const filter = {
        org: random.next() < 0.5 ? undefined : random.pick([...ORGS, 'unknown-org']),
        states: random.next() < 0.3 ? [] : random.next() < 0.5 ? ACTION_STATES : [random.pick(CERTIFICATE_STATES)],
        withoutSuperseded: random.next() < 0.5,
      };
      const want = expected(fleet, now, filter);
      const all = summary.select({ ...filter, offset: 0, limit: 10_000 });
      const context = `step ${step}`;
      expect(all.total, context).toBe(want.listed.length);
      const got = all.picked.map((p) => ({ key: `${p.deviceId}#${p.position}`, notAfter: fleet.get(p.deviceId)!.certificates[p.position]!.notAfter }));
      expect(got.map((g) => g.notAfter), context).toEqual(want.listed.map((w) => w.notAfter));
      expect(new Set(got.map((g) => g.key)), context).toEqual(new Set(want.listed.map((w) => w.key)));

      const limit = random.int(1, 5);
      const offset = random.int(0, all.total + 2);
      const page = summary.select({ ...filter, offset, limit });
      expect(page.total).toBe(all.total);
      expect(page.picked).toEqual(all.picked.slice(offset, offset + limit));

      const counts = summary.counts(filter.org);
      expect(counts.certificates, context).toEqual(want.certificates);
      expect(Object.fromEntries(Object.entries(counts.devices).filter(([, n]) => n > 0)), context).toEqual(want.devices);
      expect(summary.forecast(filter.org), context).toEqual(want.forecast);
    }
  });

  it('lists every organisation with a device, and forgets a deleted device', () => {
    const fleet = new FleetView();
    const index = new CertificateIndex(fleet);
    fleet.set(record({ orgId: 'b', assetId: 'x' }, [cert('1', 3)]));
    fleet.set(record({ orgId: 'a', assetId: 'y' }, [cert('2', 3)], 'error'));
    expect(new FleetSummary(index.view(), NOW, THRESHOLDS).orgs()).toEqual(['a', 'b']);
    expect([...index.failures()]).toEqual([['a/y', 'timeout']]);
    fleet.delete('b/x');
    fleet.delete('a/y');
    const summary = new FleetSummary(index.view(), NOW, THRESHOLDS);
    expect(summary.orgs()).toEqual([]);
    expect(summary.select({ states: [], withoutSuperseded: false, offset: 0, limit: 10 })).toEqual({ total: 0, picked: [] });
    expect(index.failures().size).toBe(0);
  });
});

describe('CertificateIndex at a size that merges in slices', () => {
  it('keeps the order exact when thousands of devices change between reads', () => {
    const random = seededRandom(15);
    const fleet = new FleetView();
    const index = new CertificateIndex(fleet);
    const ordered = () => {
      const view = index.view();
      return Array.from(view.notAfter.subarray(0, view.size));
    };
    const expectedOrder = () => [...fleet.records()].flatMap((r) => r.certificates.map((c) => c.notAfter)).sort((a, b) => a - b);
    for (let i = 0; i < 6_000; i++) fleet.set(record({ orgId: 'o', assetId: `a${i}` }, [cert(`x${i}`, random.int(-100, 400)), cert(`y${i}`, random.int(-100, 400))]));
    expect(ordered()).toEqual(expectedOrder());
    for (let i = 0; i < 5_000; i++) {
      const id = `a${random.int(0, 5_999)}`;
      if (random.next() < 0.2) fleet.delete(`o/${id}`);
      else fleet.set(record({ orgId: 'o', assetId: id }, [cert(`z${i}`, random.int(-100, 400))]));
    }
    expect(ordered()).toEqual(expectedOrder());
  });
});
