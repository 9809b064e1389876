import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorMetrics } from '../../src/metrics/monitor-metrics.js';
import { startHttpServer, type HttpServer } from '../../src/server/http-server.js';
import { FleetView } from '../../src/state/fleet-view.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { promtoolCheckMetrics } from '../support/promtool.js';
import { hostileRecords, NOW, THRESHOLDS } from '../unit/metrics/fixtures.js';

describe('/metrics with promtool check metrics', () => {
  let server: HttpServer;
  let metrics: MonitorMetrics;

  beforeAll(async () => {
    const fleet = new FleetView();
    // Every certificate with audit findings too: one weak PEM shared by all, or an unparseable one.
    const weakPem = { keyAlgorithm: 'rsa', keyBits: 1024, signatureAlgorithm: 'sha1WithRSAEncryption', fingerprintSha256: 'ab'.repeat(32), notBefore: 0, notAfter: 0 };
    for (const record of hostileRecords()) {
      fleet.set({ ...record, certificates: record.certificates.map((cert, index) => ({ ...cert, pem: index % 2 === 0 ? weakPem : ('unparseable' as const) })) });
    }
    metrics = new MonitorMetrics({ fleet, perCertificate: 'all', thresholds: THRESHOLDS, clock: manualClock(NOW), version: '0.0.0-test' });
    metrics.apiObserver('list_certificates', 'code_99500', 0.3);
    metrics.scanFinished({
      startedAt: NOW,
      finishedAt: NOW + 5_000,
      result: 'partial',
      devices: { total: 6, ok: 4, notFound: 1, failed: 1 },
      inventoryComplete: true,
      aborted: false,
    });
    metrics.setAlertsFiring([{ alertname: 'EnosCertificateExpiring', severity: 'critical', count: 1 }]);
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, ready: () => true, log: silentLogger });
  });

  afterAll(async () => {
    await server.close();
  });

  it('reports nothing for a fleet full of hostile labels', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    for (const family of ['enos_certificate_info{', 'enos_certificate_finding{', 'enos_certificate_findings{', 'enos_certificates_expiring{']) {
      expect(body.toString('utf8')).toContain(family);
    }
    const result = await promtoolCheckMetrics(body);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('fails on a broken exposition (the check is real)', async () => {
    const result = await promtoolCheckMetrics('# TYPE broken gauge\nbroken{label="unterminated} 1\n');
    expect(result.code).not.toBe(0);
    expect(result.output).not.toBe('');
  });
});
