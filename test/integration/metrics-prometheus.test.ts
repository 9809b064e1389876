import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/domain/certificate.js';
import type { Certificate, X509Summary } from '../../src/domain/types.js';
import type { PerCertificateMode } from '../../src/metrics/fleet-series.js';
import { MonitorMetrics } from '../../src/metrics/monitor-metrics.js';
import { startHttpServer, type HttpServer } from '../../src/server/http-server.js';
import { FleetView } from '../../src/state/fleet-view.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';
import { cert, hostileRecords, record, THRESHOLDS } from '../unit/metrics/fixtures.js';

const DASHBOARD = new URL('../../deploy/grafana/enos-cert-monitor.json', import.meta.url);
const KNOWN_NOT_AFTER = Date.parse('2031-02-03T04:05:06Z');

/** Values Grafana would put in for the dashboard's variables. */
const VARIABLES: Record<string, string> = {
  org_id: '.*',
  __range: '1h',
  __rate_interval: '1m',
  __interval: '1m',
  __range_s: '3600',
};

interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

function expressions(panels: readonly Panel[]): { title: string; expr: string }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).flatMap((target) => (target.expr ? [{ title: panel.title ?? '', expr: target.expr }] : [])),
    ...expressions(panel.panels ?? []),
  ]);
}

function substitute(expr: string, overrides: Record<string, string> = {}): string {
  const values = { ...VARIABLES, ...overrides };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    if (!(name in values)) throw new Error(`unknown dashboard variable ${whole} in ${expr}`);
    return values[name]!;
  });
}

const MODES: readonly PerCertificateMode[] = ['all', 'expiring', 'none'];
const inDays = (days: number) => ({ notAfter: Date.now() + days * DAY_MS });

/**
 * The same devices in every mode, under an org of the mode's own name: certificates that need
 * action (warning, expired, revoked), a renewed device, healthy ones.
 */
function actionFleet(fleet: FleetView, orgId: string): void {
  fleet.set(record({ orgId, assetId: 'd1' }, [cert('warn-10', 0, inDays(10))]));
  fleet.set(record({ orgId, assetId: 'd2' }, [cert('past', 0, inDays(-1))]));
  fleet.set(record({ orgId, assetId: 'd3' }, [cert('rev', 0, { ...inDays(100), status: 'revoked' })]));
  fleet.set(record({ orgId, assetId: 'd4' }, [cert('old', 0, inDays(5)), cert('new', 0, inDays(300))]));
  fleet.set(record({ orgId, assetId: 'd5' }, [withPem(cert('healthy', 0, inDays(200)), { keyBits: 1024 })]));
  fleet.set(record({ orgId, assetId: 'd6' }, [withPem(cert('in-60', 0, inDays(60)), { signatureAlgorithm: 'sha1WithRSAEncryption' })]));
}

/** The certificate as read from a PEM (with an RSA-2048 key and a SHA-256 signature unless told otherwise). */
function withPem(certificate: Certificate, pem: Partial<X509Summary>): Certificate {
  const { notBefore, notAfter, certSN } = certificate;
  const fingerprintSha256 = createHash('sha256').update(certSN).digest('hex');
  return { ...certificate, pem: { keyAlgorithm: 'rsa', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', fingerprintSha256, notBefore: notBefore!, notAfter, ...pem } };
}

describe('/metrics scraped by a real Prometheus', () => {
  const servers: HttpServer[] = [];
  let server: HttpServer;
  let prometheus: PrometheusServer;
  let dashboard: { panels: Panel[]; templating: { list: { name: string; definition?: string }[] } };

  beforeAll(async () => {
    const fleet = new FleetView();
    for (const hostile of hostileRecords()) fleet.set(hostile);
    fleet.set(record({ orgId: 'known-org', assetId: 'known-asset' }, [cert('known-sn', 0, { notAfter: KNOWN_NOT_AFTER })]));
    const inDays = (days: number) => ({ notAfter: Date.now() + days * DAY_MS });
    fleet.set(
      record({ orgId: 'soon-org', assetId: 'soon' }, [
        cert('in-10-days', 0, inDays(10)),
        cert('in-60-days', 0, inDays(60)),
        cert('in-200-days', 0, inDays(200)),
        cert('revoked-in-5-days', 0, { ...inDays(5), status: 'revoked' }),
        cert('past', 0, inDays(-1)),
      ]),
    );
    for (const mode of MODES) {
      const modeFleet = mode === 'all' ? fleet : new FleetView();
      actionFleet(modeFleet, `${mode}-org`);
      const metrics = new MonitorMetrics({ fleet: modeFleet, perCertificate: mode, thresholds: THRESHOLDS, clock: systemClock, version: '0.0.0-test' });
      metrics.setLeader(true);
      servers.push(await startHttpServer({ host: '127.0.0.1', port: 0, metrics, ready: () => true, log: silentLogger }));
    }
    server = servers[0]!;
    prometheus = await startPrometheus(servers.map((each) => `127.0.0.1:${each.port}`));
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    // The first scrape has landed once the known certificate can be queried.
    await waitFor(
      async () => {
        const answer = await prometheus.query('count(up == 1)');
        const known = await prometheus.query('enos_certificate_not_after_timestamp_seconds{cert_sn="known-sn"}');
        return answer.data?.result[0]?.value[1] === String(MODES.length) && (known.data?.result.length ?? 0) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the first scrape' },
    );
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const each of servers) await each.close();
  });

  it('scrapes the targets without errors', async () => {
    const answer = await prometheus.query('up{job="enos-cert-monitor"}');
    expect(answer.data?.result.map((r) => r.value[1])).toEqual(['1', '1', '1']);
    const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual(Array(3).fill(['up', '']));
  });

  it('stores notAfter of a known certificate with its labels', async () => {
    const answer = await prometheus.query('enos_certificate_not_after_timestamp_seconds{cert_sn="known-sn"}');
    expect(answer.status).toBe('success');
    expect(answer.data?.result).toHaveLength(1);
    const [series] = answer.data!.result;
    // Prometheus drops empty labels (product_key, device_key here).
    expect(series!.metric).toEqual({
      __name__: 'enos_certificate_not_after_timestamp_seconds',
      job: 'enos-cert-monitor',
      instance: `127.0.0.1:${server.port}`,
      org_id: 'known-org',
      asset_id: 'known-asset',
      cert_sn: 'known-sn',
      status: 'valid',
    });
    expect(Number(series!.value[1])).toBe(KNOWN_NOT_AFTER / 1000);
  });

  it('reads hostile label values back exactly as escaped', async () => {
    const answer = await prometheus.query('enos_certificate_info{cert_sn="sn\\"quote"}');
    expect(answer.data?.result.map((r) => [r.metric.org_id, r.metric.asset_id, r.metric.subject_cn])).toEqual([
      ['o"1', 'a\\1\nline', 'Smith, John\\ \n'],
    ]);
  });

  it('evaluates every expression of the Grafana dashboard', async () => {
    const all = expressions(dashboard.panels);
    expect(all.length).toBeGreaterThan(10);
    for (const { title, expr } of all) {
      const answer = await prometheus.query(substitute(expr));
      expect({ title, expr, status: answer.status, error: answer.error }).toEqual({ title, expr, status: 'success', error: undefined });
    }
  });

  it('finds the org_id values the dashboard variable lists', async () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'org_id');
    const selector = /^label_values\((.+), org_id\)$/.exec(variable?.definition ?? '')?.[1];
    expect(selector).toBeDefined();
    const answer = await prometheus.query(`count by (org_id) (${selector})`);
    expect(answer.data?.result.map((r) => r.metric.org_id)).toContain('known-org');
  });

  it('invents no zeros: no panel turns "no data" into 0', () => {
    for (const { expr } of expressions(dashboard.panels)) expect(expr).not.toMatch(/or\s+vector\(0\)/);
  });

  describe.each(MODES)('in perCertificate mode %s', (mode) => {
    const panel = (title: string) => {
      const found = expressions(dashboard.panels).find((e) => e.title.startsWith(title));
      if (found === undefined) throw new Error(`no panel ${title}`);
      return prometheus.query(substitute(found.expr, { org_id: `${mode}-org` }));
    };

    it.each([
      [7, '0'],
      [30, '1'],
      [90, '2'],
    ])('counts the certificates expiring within %i days, superseded ones left out', async (days, expected) => {
      const answer = await panel(`Certificates expiring within ${days} days`);
      expect(answer.data?.result.map((r) => r.value[1])).toEqual([expected]);
    });

    it('lists the certificates that need action, soonest first, without superseded ones', async () => {
      const answer = await panel('Certificates that need action');
      const rows = [...(answer.data?.result ?? [])].sort((a, b) => Number(a.value[1]) - Number(b.value[1]));
      // Without per-certificate series there is nothing to list: no data, not a made-up row.
      const expected = mode === 'none' ? [] : ['past', 'warn-10', 'rev'];
      expect(rows.map((r) => r.metric.subject_cn)).toEqual(expected);
      expect(rows.map((r) => r.metric.issuer_cn)).toEqual(expected.map(() => 'EnOS CA'));
    });

    it('counts the certificates with each audit finding, every finding with a bar', async () => {
      const answer = await panel('Certificates with audit findings, by finding');
      const byFinding = Object.fromEntries((answer.data?.result ?? []).map((r) => [r.metric.finding, r.value[1]]));
      expect(byFinding).toEqual({ key_quality: '1', weak_signature: '1', shared: '0', age: '0', dates_mismatch: '0', unparseable: '0' });
    });

    it('lists the certificates with findings where per-certificate series exist', async () => {
      const answer = await panel('Audit findings per certificate');
      const rows = (answer.data?.result ?? []).map((r) => `${r.metric.cert_sn}:${r.metric.finding}`).sort();
      // expiring shows only warning and critical certificates: both of these are ok.
      expect(rows).toEqual(mode === 'all' ? ['healthy:key_quality', 'in-60:weak_signature'] : []);
    });

    it('forecasts the renewals due per window, cumulative', async () => {
      const answer = await panel('Expiry forecast');
      const byWindow = Object.fromEntries((answer.data?.result ?? []).map((r) => [r.metric.within_days, r.value[1]]));
      expect(byWindow).toEqual({ '7': '0', '30': '1', '90': '2', '180': '2', '365': '4' });
    });

    it('counts devices by state once, as the leader sees them', async () => {
      const answer = await panel('Devices by state');
      const byState = Object.fromEntries((answer.data?.result ?? []).map((r) => [r.metric.state, r.value[1]]));
      expect(byState).toMatchObject({ ok: '3', warning: '1', no_valid_certificate: '2' });
    });
  });
});
