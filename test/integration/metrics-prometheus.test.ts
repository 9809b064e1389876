import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/domain/certificate.js';
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

describe('/metrics scraped by a real Prometheus', () => {
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
    const metrics = new MonitorMetrics({ fleet, perCertificate: 'all', thresholds: THRESHOLDS, clock: systemClock, version: '0.0.0-test' });
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, ready: () => true, log: silentLogger });
    prometheus = await startPrometheus([`127.0.0.1:${server.port}`]);
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    // The first scrape has landed once the known certificate can be queried.
    await waitFor(
      async () => {
        const answer = await prometheus.query('enos_certificate_not_after_timestamp_seconds{cert_sn="known-sn"}');
        return (answer.data?.result.length ?? 0) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the first scrape' },
    );
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  it('scrapes the target without errors', async () => {
    const answer = await prometheus.query('up{job="enos-cert-monitor"}');
    expect(answer.data?.result.map((r) => r.value[1])).toEqual(['1']);
    const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
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

  it('lists the soonest-expiring valid certificates with their common names', async () => {
    const panel = expressions(dashboard.panels).find((e) => e.title.startsWith('Soonest-expiring'));
    const answer = await prometheus.query(substitute(panel!.expr, { org_id: 'soon-org' }));
    const rows = [...(answer.data?.result ?? [])].sort((a, b) => Number(a.value[1]) - Number(b.value[1]));
    expect(rows.map((r) => r.metric.subject_cn)).toEqual(['past', 'in-10-days', 'in-60-days', 'in-200-days']);
    expect(rows.map((r) => r.metric.issuer_cn)).toEqual(Array(4).fill('EnOS CA'));
  });

  it.each([
    [7, '0'],
    [30, '1'],
    [90, '2'],
  ])('counts the valid certificates expiring within %i days', async (days, expected) => {
    const panel = expressions(dashboard.panels).find((e) => e.title.includes(`within ${days} days`));
    const answer = await prometheus.query(substitute(panel!.expr, { org_id: 'soon-org' }));
    expect(answer.data?.result.map((r) => r.value[1])).toEqual([expected]);
  });
});
