import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FleetAudit } from '../../../src/audit/fleet-audit.js';
import { FINDINGS } from '../../../src/audit/findings.js';
import { DAY_MS } from '../../../src/domain/certificate.js';
import type { Certificate, X509Summary } from '../../../src/domain/types.js';
import type { PerCertificateMode } from '../../../src/metrics/fleet-series.js';
import { MonitorMetrics } from '../../../src/metrics/monitor-metrics.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { manualClock } from '../../../src/util/clock.js';
import { parseExposition, select, type Sample } from '../metrics/exposition-parser.js';
import { cert, NOW, record, THRESHOLDS } from '../metrics/fixtures.js';

const FINDING = 'enos_certificate_finding';
const FINDINGS_COUNT = 'enos_certificate_findings';
const EXPIRING = 'enos_certificates_expiring';

/** A summary as the PEM reader gives it, dated like the API's certificate unless told otherwise. */
function withPem(certificate: Certificate, pem: Partial<X509Summary> = {}): Certificate {
  return {
    ...certificate,
    pem: {
      keyAlgorithm: 'ec',
      keyBits: 256,
      signatureAlgorithm: 'ecdsa-with-SHA256',
      fingerprintSha256: createHash('sha256').update(certificate.certSN).digest('hex'),
      notBefore: certificate.notBefore!,
      notAfter: certificate.notAfter,
      ...pem,
    },
  };
}

function setup(perCertificate: PerCertificateMode = 'all', config: { maxAgeDays?: number } = {}) {
  const fleet = new FleetView();
  const clock = manualClock(NOW);
  const audit = new FleetAudit(fleet, { minRsaBits: 2048, minEcBits: 256, maxAgeDays: 0, dateToleranceSeconds: 86_400, ...config });
  const metrics = new MonitorMetrics({ fleet, perCertificate, thresholds: THRESHOLDS, clock, version: 't', audit });
  const scrape = async (): Promise<Sample[]> => parseExposition(await metrics.render());
  return { fleet, clock, scrape, metrics };
}

const count = (samples: readonly Sample[], labels: Record<string, string>): number | undefined => {
  const found = select(samples, FINDINGS_COUNT, labels);
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value;
};
const findingSeries = (samples: readonly Sample[]): string[] =>
  select(samples, FINDING)
    .map((s) => `${s.labels.org_id}/${s.labels.asset_id}/${s.labels.cert_sn}:${s.labels.finding}`)
    .sort();

describe('audit metrics', () => {
  it('counts findings per org, every kind with a series, 0 included, and one series per certificate and finding', async () => {
    const { fleet, scrape } = setup();
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [withPem(cert('weak', 100), { keyAlgorithm: 'rsa', keyBits: 1024, signatureAlgorithm: 'sha1WithRSAEncryption' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'a2' }, [withPem(cert('drift', 100), { notAfter: NOW + 90 * DAY_MS }), cert('broken', 100, { pem: 'unparseable' })]));
    fleet.set(record({ orgId: 'o2', assetId: 'a3' }, [withPem(cert('fine', 100))]));
    const samples = await scrape();
    expect(Object.fromEntries(FINDINGS.map((finding) => [finding, count(samples, { org_id: 'o1', finding })]))).toEqual({
      key_quality: 1,
      weak_signature: 1,
      shared: 0,
      age: 0,
      dates_mismatch: 1,
      unparseable: 1,
    });
    for (const finding of FINDINGS) expect(count(samples, { org_id: 'o2', finding })).toBe(0);
    expect(findingSeries(samples)).toEqual(['o1/a1/weak:key_quality', 'o1/a1/weak:weak_signature', 'o1/a2/broken:unparseable', 'o1/a2/drift:dates_mismatch']);
    expect(select(samples, 'enos_certificate_info', { cert_sn: 'weak' })[0]?.labels).toMatchObject({
      key_algorithm: 'rsa',
      key_bits: '1024',
      signature_algorithm: 'sha1WithRSAEncryption',
    });
    expect(select(samples, 'enos_certificate_info', { cert_sn: 'broken' })[0]?.labels).not.toHaveProperty('key_algorithm');
  });

  it('shared spans orgs and clears when one device lets go', async () => {
    const { fleet, scrape } = setup();
    const copy = withPem(cert('clone', 100));
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [copy]));
    fleet.set(record({ orgId: 'o2', assetId: 'a2' }, [{ ...copy, certSN: 'clone-2' }]));
    let samples = await scrape();
    expect(findingSeries(samples)).toEqual(['o1/a1/clone:shared', 'o2/a2/clone-2:shared']);
    expect([count(samples, { org_id: 'o1', finding: 'shared' }), count(samples, { org_id: 'o2', finding: 'shared' })]).toEqual([1, 1]);
    fleet.set(record({ orgId: 'o2', assetId: 'a2' }, []));
    samples = await scrape();
    expect(findingSeries(samples)).toEqual([]);
    expect(count(samples, { org_id: 'o2', finding: 'shared' })).toBe(0);
  });

  it('audits only ok, warning and critical; expiring mode shows series for warning and critical only; none shows none', async () => {
    const weak = { keyAlgorithm: 'rsa', keyBits: 1024 };
    const certificates = [
      withPem(cert('ok', 100), weak),
      withPem(cert('warning', 20), weak),
      withPem(cert('critical', 3), weak),
      withPem(cert('expired', -1), weak),
      withPem(cert('revoked', 100, { status: 'revoked' }), weak),
    ];
    const serials = async (mode: PerCertificateMode) => {
      const { fleet, scrape } = setup(mode);
      fleet.set(record({ orgId: 'o1', assetId: 'a1' }, certificates));
      const samples = await scrape();
      expect(count(samples, { org_id: 'o1', finding: 'key_quality' })).toBe(3);
      return select(samples, FINDING).map((s) => s.labels.cert_sn);
    };
    expect(await serials('all')).toEqual(['ok', 'warning', 'critical']);
    expect(await serials('expiring')).toEqual(['warning', 'critical']);
    expect(await serials('none')).toEqual([]);
  });

  it('forecasts expiries per window, cumulative, leaving out superseded, revoked and expired certificates', async () => {
    const { fleet, scrape } = setup();
    for (const days of [5, 20, 60, 100, 200, 400]) fleet.set(record({ orgId: 'o1', assetId: `d${days}` }, [cert(`d${days}`, days)]));
    // Renewed: the certificate ending in 10 days is superseded by the one ending in 300.
    fleet.set(record({ orgId: 'o1', assetId: 'a2' }, [cert('old', 10), cert('new', 300)]));
    fleet.set(record({ orgId: 'o1', assetId: 'a3' }, [cert('gone', -2), cert('revoked', 3, { status: 'revoked' })]));
    const samples = await scrape();
    const forecast = Object.fromEntries(select(samples, EXPIRING, { org_id: 'o1' }).map((s) => [s.labels.within_days, s.value]));
    expect(forecast).toEqual({ '7': 1, '30': 2, '90': 3, '180': 4, '365': 6 });
  });

  it('moves with time alone: forecast windows, states and the age finding, without a fleet change', async () => {
    const { fleet, clock, scrape } = setup('all', { maxAgeDays: 400 });
    // notBefore is a year before NOW (fixtures): the age finding starts 35 days later.
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [cert('c', 40)]));
    let samples = await scrape();
    expect(select(samples, EXPIRING, { within_days: '30' })[0]?.value).toBe(0);
    expect(count(samples, { org_id: 'o1', finding: 'age' })).toBe(0);
    clock.advance(11 * DAY_MS);
    samples = await scrape();
    expect(select(samples, EXPIRING, { within_days: '30' })[0]?.value).toBe(1);
    expect(count(samples, { org_id: 'o1', finding: 'age' })).toBe(0);
    clock.advance(25 * DAY_MS);
    samples = await scrape();
    expect(count(samples, { org_id: 'o1', finding: 'age' })).toBe(1);
    expect(findingSeries(samples)).toEqual(['o1/a1/c:age']);
    // Expired: no longer audited, no longer forecast.
    clock.advance(5 * DAY_MS);
    samples = await scrape();
    expect(count(samples, { org_id: 'o1', finding: 'age' })).toBe(0);
    expect(select(samples, EXPIRING, { within_days: '365' })[0]?.value).toBe(0);
  });

  it('gives certificates whose labels read alike once cleaned one series, not a duplicate', async () => {
    const { fleet, scrape } = setup();
    const weak = { keyAlgorithm: 'rsa', keyBits: 512 };
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [withPem(cert('sn\u0001', 100), weak), withPem(cert('sn\u0002', 100), weak)]));
    const samples = await scrape();
    expect(select(samples, FINDING)).toHaveLength(1);
    expect(count(samples, { org_id: 'o1', finding: 'key_quality' })).toBe(2);
  });

  it('serves the same findings gzipped as plain', async () => {
    const { fleet, metrics } = setup();
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [withPem(cert('weak', 100), { keyAlgorithm: 'rsa', keyBits: 1024 })]));
    const plain = await metrics.render();
    expect(plain).toContain('enos_certificate_finding{');
    const chunks: Buffer[] = [];
    for await (const chunk of (await metrics.exposition('gzip')).chunks) chunks.push(chunk);
    const unzipped = gunzipSync(Buffer.concat(chunks)).toString('utf8');
    const families = (text: string) => text.split('\n').filter((line) => line.startsWith('enos_certificate_finding'));
    expect(families(unzipped)).toEqual(families(plain));
  });
});
