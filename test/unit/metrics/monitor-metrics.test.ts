import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/domain/certificate.js';
import type { CertificateState, DeviceState } from '../../../src/domain/types.js';
import { MonitorMetrics } from '../../../src/metrics/monitor-metrics.js';
import type { PerCertificateMode } from '../../../src/metrics/fleet-series.js';
import type { ScanSummary } from '../../../src/scan/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { manualClock } from '../../../src/util/clock.js';
import { parseExposition, select, type Sample } from './exposition-parser.js';
import { cert, hostileRecords, NOW, record, THRESHOLDS } from './fixtures.js';

const NOT_AFTER = 'enos_certificate_not_after_timestamp_seconds';
const NOT_BEFORE = 'enos_certificate_not_before_timestamp_seconds';
const INFO = 'enos_certificate_info';
const PER_CERTIFICATE = [NOT_AFTER, NOT_BEFORE, INFO];
const DEVICE = { orgId: 'o1', assetId: 'a1' };

function setup(perCertificate: PerCertificateMode = 'all', fleet = new FleetView()) {
  const clock = manualClock(NOW);
  const metrics = new MonitorMetrics({ fleet, perCertificate, thresholds: THRESHOLDS, clock, version: '1.2.3' });
  const scrape = async (): Promise<Sample[]> => parseExposition(await metrics.render());
  return { fleet, clock, metrics, scrape };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = select(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

function certSerials(samples: readonly Sample[], name = NOT_AFTER): string[] {
  return select(samples, name).map((s) => s.labels.cert_sn!).sort();
}

function summary(result: ScanSummary['result'], seconds: number): ScanSummary {
  return {
    startedAt: NOW,
    finishedAt: NOW + seconds * 1000,
    result,
    devices: { total: 1, ok: 1, notFound: 0, failed: 0 },
    inventoryComplete: true,
    aborted: false,
  };
}

describe('MonitorMetrics: process and counters', () => {
  it('exports build info, default process metrics, and starts alertable label sets at 0', async () => {
    const samples = await setup().scrape();
    expect(value(samples, 'enos_cert_monitor_build_info', { version: '1.2.3' })).toBe(1);
    expect(select(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    for (const result of ['success', 'partial', 'failure']) expect(value(samples, 'enos_scans_total', { result })).toBe(0);
    for (const result of ['ok', 'not_found', 'error']) expect(value(samples, 'enos_device_queries_total', { result })).toBe(0);
    for (const change of ['added', 'removed', 'revoked', 'expired', 'renewed']) {
      expect(value(samples, 'enos_certificate_changes_total', { change })).toBe(0);
    }
    for (const outcome of ['success', 'failure']) {
      expect(value(samples, 'enos_alertmanager_notifications_total', { outcome })).toBe(0);
    }
    for (const operation of ['token', 'list_certificates', 'search_devices']) {
      expect(value(samples, 'enos_api_requests_total', { operation, outcome: 'success' })).toBe(0);
      expect(value(samples, 'enos_api_request_duration_seconds_count', { operation })).toBe(0);
    }
    expect(value(samples, 'enos_alertmanager_alerts_dropped_total')).toBe(0);
    expect(value(samples, 'enos_store_up')).toBe(0);
    expect(value(samples, 'enos_scanner_leader')).toBe(0);
    expect(value(samples, 'enos_scan_last_success_timestamp_seconds')).toBe(0);
    expect(value(samples, 'enos_scan_duration_seconds_count')).toBe(0);
  });

  it('leaves out the default metrics promtool rejects (gauges named *_total)', async () => {
    const samples = await setup().scrape();
    expect(samples.filter((s) => /^nodejs_active_\w+_total$/.test(s.name))).toEqual([]);
  });

  it('counts API attempts by operation and outcome, with durations', async () => {
    const { metrics, scrape } = setup();
    metrics.apiObserver('list_certificates', 'success', 0.2);
    metrics.apiObserver('list_certificates', 'code_99500', 1.5);
    metrics.apiObserver('token', 'http_503', 0.01);
    const samples = await scrape();
    expect(value(samples, 'enos_api_requests_total', { operation: 'list_certificates', outcome: 'success' })).toBe(1);
    expect(value(samples, 'enos_api_requests_total', { operation: 'list_certificates', outcome: 'code_99500' })).toBe(1);
    expect(value(samples, 'enos_api_requests_total', { operation: 'token', outcome: 'http_503' })).toBe(1);
    expect(value(samples, 'enos_api_request_duration_seconds_count', { operation: 'list_certificates' })).toBe(2);
    expect(value(samples, 'enos_api_request_duration_seconds_sum', { operation: 'list_certificates' })).toBeCloseTo(1.7);
  });

  it('counts device queries, changes, notifications and drops', async () => {
    const { metrics, scrape } = setup();
    metrics.deviceQuery('ok');
    metrics.deviceQuery('ok');
    metrics.deviceQuery('error');
    metrics.certificateChanges([{ type: 'added' }, { type: 'revoked' }, { type: 'added' }]);
    metrics.alertmanagerNotification('failure');
    metrics.alertsDropped(5);
    const samples = await scrape();
    expect(value(samples, 'enos_device_queries_total', { result: 'ok' })).toBe(2);
    expect(value(samples, 'enos_device_queries_total', { result: 'error' })).toBe(1);
    expect(value(samples, 'enos_certificate_changes_total', { change: 'added' })).toBe(2);
    expect(value(samples, 'enos_certificate_changes_total', { change: 'revoked' })).toBe(1);
    expect(value(samples, 'enos_alertmanager_notifications_total', { outcome: 'failure' })).toBe(1);
    expect(value(samples, 'enos_alertmanager_alerts_dropped_total')).toBe(5);
  });

  it('records scans; only a successful one moves the last-success timestamp', async () => {
    const { metrics, scrape } = setup();
    metrics.scanFinished(summary('success', 90));
    metrics.scanFinished(summary('partial', 4000));
    metrics.scanFinished(summary('failure', 2));
    const samples = await scrape();
    expect(value(samples, 'enos_scans_total', { result: 'success' })).toBe(1);
    expect(value(samples, 'enos_scans_total', { result: 'partial' })).toBe(1);
    expect(value(samples, 'enos_scans_total', { result: 'failure' })).toBe(1);
    expect(value(samples, 'enos_scan_last_success_timestamp_seconds')).toBe((NOW + 90_000) / 1000);
    expect(value(samples, 'enos_scan_duration_seconds_count')).toBe(3);
    expect(value(samples, 'enos_scan_duration_seconds_sum')).toBe(4092);
    expect(value(samples, 'enos_scan_duration_seconds_bucket', { le: '120' })).toBe(2);
    expect(value(samples, 'enos_scan_duration_seconds_bucket', { le: '3600' })).toBe(2);
    expect(value(samples, 'enos_scan_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
  });

  it('keeps the end of the last scan of each result, and the devices of the last complete inventory', async () => {
    const { metrics, scrape } = setup();
    let samples = await scrape();
    for (const result of ['success', 'partial', 'failure']) expect(value(samples, 'enos_scan_last_finished_timestamp_seconds', { result })).toBe(0);
    expect(value(samples, 'enos_inventory_devices')).toBe(0);
    metrics.scanFinished(summary('success', 90));
    metrics.scanFinished({ ...summary('failure', 100), devices: { total: 0, ok: 0, notFound: 0, failed: 0 }, inventoryComplete: false });
    samples = await scrape();
    expect(value(samples, 'enos_scan_last_finished_timestamp_seconds', { result: 'success' })).toBe((NOW + 90_000) / 1000);
    expect(value(samples, 'enos_scan_last_finished_timestamp_seconds', { result: 'failure' })).toBe((NOW + 100_000) / 1000);
    expect(value(samples, 'enos_inventory_devices')).toBe(1);
  });

  it('exports the configured thresholds', async () => {
    const samples = await setup().scrape();
    expect(value(samples, 'enos_certificate_threshold_seconds', { state: 'warning' })).toBe(THRESHOLDS.warningDays * 86_400);
    expect(value(samples, 'enos_certificate_threshold_seconds', { state: 'critical' })).toBe(THRESHOLDS.criticalDays * 86_400);
  });

  it('counts failing devices by org and reason, following the fleet', async () => {
    const { fleet, scrape } = setup();
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [], 'error'));
    fleet.set({ ...record({ orgId: 'o1', assetId: 'a2' }, [], 'not_found'), reason: 'code_11404' });
    fleet.set({ ...record({ orgId: 'o2', assetId: 'a3' }, [], 'error'), reason: 'store_error' });
    fleet.set(record({ orgId: 'o2', assetId: 'a4' }, [], 'error'));
    let samples = await scrape();
    expect(value(samples, 'enos_device_query_failures', { org_id: 'o1', reason: 'timeout' })).toBe(1);
    expect(value(samples, 'enos_device_query_failures', { org_id: 'o1', reason: 'code_11404' })).toBe(1);
    expect(value(samples, 'enos_device_query_failures', { org_id: 'o2', reason: 'timeout' })).toBe(1);
    expect(value(samples, 'enos_device_query_failures', { org_id: 'o2', reason: 'store_error' })).toBe(1);
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, []));
    fleet.delete('o2/a3');
    samples = await scrape();
    expect(select(samples, 'enos_device_query_failures').map((s) => `${s.labels.org_id}/${s.labels.reason}=${s.value}`).sort()).toEqual([
      'o1/code_11404=1',
      'o2/timeout=1',
    ]);
  });

  it('sets store and leader gauges', async () => {
    const { metrics, scrape } = setup();
    metrics.setStoreUp(true);
    metrics.setLeader(true);
    let samples = await scrape();
    expect(value(samples, 'enos_store_up')).toBe(1);
    expect(value(samples, 'enos_scanner_leader')).toBe(1);
    metrics.setStoreUp(false);
    metrics.setLeader(false);
    samples = await scrape();
    expect(value(samples, 'enos_store_up')).toBe(0);
    expect(value(samples, 'enos_scanner_leader')).toBe(0);
  });

  it('replaces the firing alerts; known alerts fall back to 0, others disappear', async () => {
    const { metrics, scrape } = setup();
    metrics.setAlertsFiring([
      { alertname: 'EnosCertificateExpiring', severity: 'critical', count: 3 },
      { alertname: 'Custom', severity: 'info', count: 1 },
    ]);
    let samples = await scrape();
    expect(value(samples, 'enos_alerts_firing', { alertname: 'EnosCertificateExpiring', severity: 'critical' })).toBe(3);
    expect(value(samples, 'enos_alerts_firing', { alertname: 'Custom', severity: 'info' })).toBe(1);
    expect(value(samples, 'enos_alerts_firing', { alertname: 'EnosCertificateRevoked', severity: 'warning' })).toBe(0);

    metrics.setAlertsFiring([{ alertname: 'EnosCertificateExpired', severity: 'critical', count: 2 }]);
    samples = await scrape();
    expect(value(samples, 'enos_alerts_firing', { alertname: 'EnosCertificateExpiring', severity: 'critical' })).toBe(0);
    expect(value(samples, 'enos_alerts_firing', { alertname: 'EnosCertificateExpired', severity: 'critical' })).toBe(2);
    expect(select(samples, 'enos_alerts_firing', { alertname: 'Custom' })).toEqual([]);
    expect(select(samples, 'enos_alerts_firing')).toHaveLength(4);
  });

  it('serves the same exposition gzipped (one stream of members) and as text, with the 0.0.4 content type', async () => {
    const { metrics, fleet } = setup();
    fleet.set(record(DEVICE, [cert('1', 90)]));
    fleet.set(record({ orgId: 'o2', assetId: 'a2' }, [cert('2', 10)]));
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const gzipped = await metrics.exposition('gzip');
    const members = [...(gzipped.chunks as Iterable<Buffer>)];
    expect(gzipped.length).toBe(Buffer.concat(members).length);
    const fromChunks = gunzipSync(Buffer.concat(members)).toString('utf8');
    const plain = await metrics.exposition('identity');
    const plainChunks: Buffer[] = [];
    for await (const chunk of plain.chunks) plainChunks.push(chunk);
    expect(plain.length).toBe(Buffer.concat(plainChunks).length);
    const text = await metrics.render();
    const perCertificate = (exposition: string) => exposition.slice(exposition.indexOf(`# HELP ${NOT_AFTER}`));
    expect(perCertificate(text)).toContain('cert_sn="1"');
    expect(perCertificate(text)).toBe(perCertificate(fromChunks));
  });
});

describe('MonitorMetrics: per-certificate series', () => {
  it('exports notAfter, notBefore and info with the contract labels', async () => {
    const { fleet, scrape } = setup();
    fleet.set(
      record({ orgId: 'o1', productKey: 'pk', deviceKey: 'dk' }, [
        cert('sn-1', 90, { issuer: 'EMAILADDRESS=ca@x, CN=EnOS ECC CA, O=EnOS', subject: 'OU=EnOS, CN=xMen1, O=EnOS', issueAuthority: 'ECC' }),
      ]),
    );
    const samples = await scrape();
    const labels = { org_id: 'o1', asset_id: '', product_key: 'pk', device_key: 'dk', cert_sn: 'sn-1', status: 'valid' };
    expect(select(samples, NOT_AFTER)).toEqual([{ name: NOT_AFTER, labels, value: (NOW + 90 * DAY_MS) / 1000 }]);
    expect(select(samples, NOT_BEFORE)).toEqual([{ name: NOT_BEFORE, labels, value: (NOW - 365 * DAY_MS) / 1000 }]);
    expect(select(samples, INFO)).toEqual([
      { name: INFO, labels: { ...labels, issuer_cn: 'EnOS ECC CA', subject_cn: 'xMen1', issue_authority: 'ECC' }, value: 1 },
    ]);
  });

  it('omits notBefore for a certificate without one', async () => {
    const { fleet, scrape } = setup();
    fleet.set(record(DEVICE, [cert('with', 90), cert('without', 90, { notBefore: null })]));
    const samples = await scrape();
    expect(certSerials(samples, NOT_BEFORE)).toEqual(['with']);
    expect(certSerials(samples, INFO)).toEqual(['with', 'without']);
  });

  it('serves a fleet that was filled before the metrics existed (warm start)', async () => {
    const fleet = new FleetView();
    fleet.set(record(DEVICE, [cert('warm', 90)]));
    const samples = await setup('all', fleet).scrape();
    expect(certSerials(samples)).toEqual(['warm']);
  });

  it.each<[string, (fleet: FleetView) => void, string[]]>([
    ['a removed certificate', (fleet) => fleet.set(record(DEVICE, [cert('keep', 90)])), ['keep']],
    ['a deleted device', (fleet) => fleet.delete('o1/a1'), []],
    ['a failed query keeping the snapshot', (fleet) => fleet.set(record(DEVICE, [cert('keep', 90), cert('drop', 90)], 'error')), ['drop', 'keep']],
  ])('follows the fleet: %s', async (_name, change, expected) => {
    const { fleet, scrape } = setup();
    fleet.set(record(DEVICE, [cert('keep', 90), cert('drop', 90)]));
    expect(certSerials(await scrape())).toEqual(['drop', 'keep']);
    change(fleet);
    const samples = await scrape();
    for (const name of PER_CERTIFICATE) expect(certSerials(samples, name)).toEqual(expected);
  });

  it('drops the old series when a status changes', async () => {
    const { fleet, scrape } = setup();
    fleet.set(record(DEVICE, [cert('sn', 90)]));
    await scrape();
    fleet.set(record(DEVICE, [cert('sn', 90, { status: 'revoked' })]));
    const samples = await scrape();
    for (const name of PER_CERTIFICATE) {
      expect(select(samples, name).map((s) => s.labels.status)).toEqual(['revoked']);
    }
  });

  it('never repeats a label set: duplicate serials, or devices whose capped labels collide', async () => {
    const { fleet, scrape } = setup();
    const long = 'x'.repeat(200);
    fleet.set(record(DEVICE, [cert('twin', 90), cert('twin', 10)]));
    fleet.set(record({ orgId: 'o1', assetId: `${long}-a` }, [cert('same', 90)]));
    fleet.set(record({ orgId: 'o1', assetId: `${long}-b` }, [cert('same', 90)]));
    const samples = await scrape(); // the parser throws on a repeated series
    expect(certSerials(samples)).toEqual(['same', 'twin']);
    expect(value(samples, NOT_AFTER, { cert_sn: 'twin' })).toBe((NOW + 90 * DAY_MS) / 1000);
  });

  it('keeps scrapes consistent while devices change between them', async () => {
    const { fleet, scrape } = setup();
    for (let i = 0; i < 600; i++) fleet.set(record({ orgId: `o${i % 3}`, assetId: `a${i}` }, [cert(`sn${i}`, i)]));
    expect(select(await scrape(), NOT_AFTER)).toHaveLength(600);
    for (let i = 0; i < 600; i += 2) fleet.delete(`o${i % 3}/a${i}`);
    fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [cert('renewed', 400)]));
    const samples = await scrape();
    expect(select(samples, NOT_AFTER)).toHaveLength(300);
    expect(value(samples, NOT_AFTER, { asset_id: 'a1' })).toBe((NOW + 400 * DAY_MS) / 1000);
  });

  it('mode none: no per-certificate families at all, aggregates still there', async () => {
    const { fleet, scrape } = setup('none');
    fleet.set(record(DEVICE, [cert('1', 90)]));
    const samples = await scrape();
    for (const name of PER_CERTIFICATE) expect(select(samples, name)).toEqual([]);
    expect(await setup('none').metrics.render()).not.toContain('enos_certificate_info');
    expect(value(samples, 'enos_certificates', { org_id: 'o1', state: 'ok' })).toBe(1);
  });

  it('mode expiring: only warning, critical, expired and revoked certificates, re-evaluated as time passes', async () => {
    const { fleet, clock, scrape } = setup('expiring');
    fleet.set(
      record(DEVICE, [
        cert('ok', 40),
        cert('warning', 20),
        cert('critical', 3),
        cert('expired', -1),
        cert('revoked', 300, { status: 'revoked' }),
      ]),
    );
    fleet.set(record({ orgId: 'o1', assetId: 'healthy' }, [cert('healthy', 200)]));
    for (const name of PER_CERTIFICATE) {
      expect(certSerials(await scrape(), name)).toEqual(['critical', 'expired', 'revoked', 'warning']);
    }
    clock.advance(10 * DAY_MS + 1); // 'ok' now has 30 days left: warning
    expect(certSerials(await scrape())).toEqual(['critical', 'expired', 'ok', 'revoked', 'warning']);
    clock.advance(200 * DAY_MS);
    expect(certSerials(await scrape())).toEqual(['critical', 'expired', 'healthy', 'ok', 'revoked', 'warning']);
  });

  it.each(['all', 'expiring'] as const)('mode %s: marks superseded certificates (no status label) as long as they are', async (mode) => {
    const { fleet, clock, scrape } = setup(mode);
    fleet.set(record(DEVICE, [cert('old', 20), cert('older', -5, { status: 'expired' }), cert('new', 45)]));
    const superseded = async () => select(await scrape(), 'enos_certificate_superseded').map((s) => s.labels);
    expect(await superseded()).toEqual([
      { org_id: 'o1', asset_id: 'a1', product_key: '', device_key: '', cert_sn: 'old' },
      { org_id: 'o1', asset_id: 'a1', product_key: '', device_key: '', cert_sn: 'older' },
    ]);
    clock.advance(16 * DAY_MS); // 'new' has 29 days left: warning, it supersedes nothing now
    expect(await superseded()).toEqual([]);
  });

  it.each(['all', 'expiring'] as const)('mode %s: marks devices whose certificates are all expired or revoked', async (mode) => {
    const { fleet, clock, scrape } = setup(mode);
    fleet.set(record({ orgId: 'o1', assetId: 'revoked-only' }, [cert('r', 300, { status: 'revoked' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'ending' }, [cert('e', 1)]));
    fleet.set(record({ orgId: 'o1', assetId: 'healthy' }, [cert('h', 300), cert('r2', 400, { status: 'revoked' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'empty' }, []));
    const devices = async () => select(await scrape(), 'enos_device_no_valid_certificate').map((s) => s.labels.asset_id).sort();
    expect(await devices()).toEqual(['revoked-only']);
    clock.advance(2 * DAY_MS);
    expect(await devices()).toEqual(['ending', 'revoked-only']);
  });

  it.each(['all', 'expiring', 'none'] as const)('mode %s: the expiry forecast counts every valid, not superseded certificate', async (mode) => {
    const { fleet, clock, scrape } = setup(mode);
    fleet.set(record({ orgId: 'o1', assetId: 'renewed' }, [cert('old', 5), cert('new', 300)]));
    fleet.set(record({ orgId: 'o1', assetId: 'a' }, [cert('in-20', 20), cert('ended', -1), cert('r', 10, { status: 'revoked' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'c' }, [cert('in-60', 60)]));
    fleet.set(record({ orgId: 'o2', assetId: 'b' }, [cert('in-100', 100)]));
    const forecast = async (org: string) =>
      Object.fromEntries(select(await scrape(), 'enos_certificates_expiring', { org_id: org }).map((s) => [s.labels.within_days, s.value]));
    expect(await forecast('o1')).toEqual({ '7': 0, '30': 1, '90': 2, '180': 2, '365': 3 });
    expect(await forecast('o2')).toEqual({ '7': 0, '30': 0, '90': 0, '180': 1, '365': 1 });
    clock.advance(15 * DAY_MS);
    expect(await forecast('o1')).toEqual({ '7': 1, '30': 1, '90': 2, '180': 2, '365': 3 });
    expect(await forecast('o2')).toEqual({ '7': 0, '30': 0, '90': 1, '180': 1, '365': 1 });
  });

  it('mode none: neither superseded nor per-device series', async () => {
    const { fleet, scrape } = setup('none');
    fleet.set(record(DEVICE, [cert('old', 20), cert('new', 45)]));
    fleet.set(record({ orgId: 'o1', assetId: 'revoked-only' }, [cert('r', 300, { status: 'revoked' })]));
    const samples = await scrape();
    expect(select(samples, 'enos_certificate_superseded')).toEqual([]);
    expect(select(samples, 'enos_device_no_valid_certificate')).toEqual([]);
  });
});

describe('MonitorMetrics: state aggregates', () => {
  const certificates = (samples: Sample[], org: string) =>
    Object.fromEntries(select(samples, 'enos_certificates', { org_id: org }).map((s) => [s.labels.state, s.value]));
  const devices = (samples: Sample[], org: string) =>
    Object.fromEntries(select(samples, 'enos_devices', { org_id: org }).map((s) => [s.labels.state, s.value]));
  const zeroCertificates: Record<CertificateState, number> = { ok: 0, warning: 0, critical: 0, expired: 0, revoked: 0 };
  const zeroDevices: Record<DeviceState, number> = {
    ok: 0,
    warning: 0,
    critical: 0,
    no_valid_certificate: 0,
    no_certificate: 0,
    not_found: 0,
    error: 0,
  };

  it('counts certificates and devices by org and state, every state present', async () => {
    const { fleet, scrape } = setup();
    fleet.set(record({ orgId: 'o1', assetId: 'ok' }, [cert('a', 90), cert('b', 3)]));
    fleet.set(record({ orgId: 'o1', assetId: 'warn' }, [cert('c', 20), cert('d', -3)]));
    fleet.set(record({ orgId: 'o1', assetId: 'crit' }, [cert('e', 2), cert('f', 90, { status: 'revoked' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'dead' }, [cert('g', 90, { status: 'expired' })]));
    fleet.set(record({ orgId: 'o1', assetId: 'none' }, []));
    fleet.set(record({ orgId: 'o2', assetId: 'gone' }, [], 'not_found'));
    fleet.set(record({ orgId: 'o2', assetId: 'fail' }, [cert('h', 90)], 'error'));
    const samples = await scrape();
    expect(certificates(samples, 'o1')).toEqual({ ...zeroCertificates, ok: 1, warning: 1, critical: 2, expired: 2, revoked: 1 });
    expect(devices(samples, 'o1')).toEqual({ ...zeroDevices, ok: 1, warning: 1, critical: 1, no_valid_certificate: 1, no_certificate: 1 });
    expect(certificates(samples, 'o2')).toEqual({ ...zeroCertificates, ok: 1 });
    expect(devices(samples, 'o2')).toEqual({ ...zeroDevices, not_found: 1, error: 1 });
  });

  it('moves counts as time passes and drops an org with its last device', async () => {
    const { fleet, clock, scrape } = setup('none');
    fleet.set(record({ orgId: 'o1', assetId: 'a' }, [cert('a', 31)]));
    fleet.set(record({ orgId: 'o2', assetId: 'b' }, [cert('b', 300)]));
    expect(devices(await scrape(), 'o1')).toEqual({ ...zeroDevices, ok: 1 });
    clock.advance(DAY_MS);
    expect(devices(await scrape(), 'o1')).toEqual({ ...zeroDevices, warning: 1 });
    clock.advance(24 * DAY_MS);
    expect(devices(await scrape(), 'o1')).toEqual({ ...zeroDevices, critical: 1 });
    clock.advance(6 * DAY_MS);
    let samples = await scrape();
    expect(devices(samples, 'o1')).toEqual({ ...zeroDevices, no_valid_certificate: 1 });
    expect(certificates(samples, 'o1')).toEqual({ ...zeroCertificates, expired: 1 });
    fleet.delete('o1/a');
    samples = await scrape();
    expect(select(samples, 'enos_devices', { org_id: 'o1' })).toEqual([]);
    expect(select(samples, 'enos_certificates', { org_id: 'o1' })).toEqual([]);
    expect(devices(samples, 'o2')).toEqual({ ...zeroDevices, ok: 1 });
  });
});

describe('MonitorMetrics: hostile data', () => {
  it('renders one valid exposition whose label values read back cleaned and capped', async () => {
    const { fleet, scrape } = setup();
    for (const hostile of hostileRecords()) fleet.set(hostile);
    const samples = await scrape(); // strict parser: escapes, duplicates, HELP/TYPE once

    const quoted = select(samples, INFO, { cert_sn: 'sn"quote' })[0]!;
    expect(quoted.labels).toMatchObject({
      org_id: 'o"1',
      asset_id: 'a\\1\nline',
      subject_cn: 'Smith, John\\ \n',
      issuer_cn: 'EnOS CA\nevil',
      issue_authority: 'RSA\ufffd\ufffd\ufffd[31m',
    });
    expect(select(samples, NOT_BEFORE, { cert_sn: 'sn\\back' })).toEqual([]);

    const emoji = select(samples, INFO, { org_id: 'org-ünïcødé-😀' });
    expect(emoji.map((s) => s.labels.cert_sn)).toEqual(['😀'.repeat(100), 'lone\ufffdsurrogate\ufffd']);
    expect(emoji[0]!.labels.subject_cn).toBe('😀'.repeat(64));
    expect(emoji[0]!.labels.issuer_cn).toBe('x'.repeat(64));
    expect(emoji[0]!.labels.product_key).toBe('pk\ufffd\n');
    expect(emoji[1]!.labels.subject_cn).toBe('\ufffd');

    const huge = select(samples, INFO, { asset_id: 'x'.repeat(128) })[0]!;
    for (const label of ['org_id', 'asset_id', 'cert_sn', 'issue_authority']) expect(huge.labels[label]).toBe('x'.repeat(128));
    expect(huge.labels.subject_cn).toBe('');
    expect(value(samples, 'enos_devices', { org_id: 'x'.repeat(128), state: 'ok' })).toBe(1);
  });
});
