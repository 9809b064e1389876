import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type AlertmanagerAlert, type AlertmanagerServer } from '../support/alertmanager.js';
import { waitFor } from '../support/wait.js';

const INHIBIT_RULES = new URL('../../deploy/prometheus/alertmanager-inhibit-rules.yaml', import.meta.url);

/** An alert as the monitor pushes it (no namespace) or as Prometheus sends a rule's alert. */
function alert(labels: Record<string, string>): object {
  return { labels, annotations: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 600_000).toISOString() };
}

const device = (assetId: string) => ({ org_id: 'o1', asset_id: assetId });
const rule = { namespace: 'ns1', job: 'enos-cert-monitor' };

describe('the shipped inhibit rules in a real Alertmanager', () => {
  let am: AlertmanagerServer;
  let states: Map<string, string>;

  beforeAll(async () => {
    am = await startAlertmanager({ extraConfig: await readFile(INHIBIT_RULES, 'utf8') });
    const alerts = [
      // x/c1: pushed and rule-based, warning and critical.
      { name: 'pushed-expiring', labels: { alertname: 'EnosCertificateExpiring', severity: 'critical', ...device('x'), cert_sn: 'c1' } },
      { name: 'rule-warning', labels: { alertname: 'EnosCertificateExpiringSoon', severity: 'warning', ...rule, ...device('x'), cert_sn: 'c1' } },
      { name: 'rule-critical', labels: { alertname: 'EnosCertificateExpiringSoon', severity: 'critical', ...rule, ...device('x'), cert_sn: 'c1' } },
      // y/c2: only the rules (perCertificate on, pushed alerts not routed): critical wins.
      { name: 'only-rule-warning', labels: { alertname: 'EnosCertificateExpiringSoon', severity: 'warning', ...rule, ...device('y'), cert_sn: 'c2' } },
      { name: 'only-rule-critical', labels: { alertname: 'EnosCertificateExpiringSoon', severity: 'critical', ...rule, ...device('y'), cert_sn: 'c2' } },
      // r: revoked, within its hold; h: its hold has ended.
      { name: 'revoked', labels: { alertname: 'EnosCertificateRevoked', severity: 'warning', ...device('r'), cert_sn: 'c3' } },
      { name: 'no-valid-in-hold', labels: { alertname: 'EnosDeviceNoValidCertificate', severity: 'critical', ...rule, ...device('r') } },
      { name: 'no-valid-after-hold', labels: { alertname: 'EnosDeviceNoValidCertificate', severity: 'critical', ...rule, ...device('h') } },
      // The store is down in ns1: no leader, scans stale; ns2 has its own leader problem.
      { name: 'store-down', labels: { alertname: 'EnosCertMonitorStoreDown', severity: 'critical', ...rule, instance: 'r1' } },
      { name: 'leaders-ns1', labels: { alertname: 'EnosCertMonitorLeadersNotOne', severity: 'warning', ...rule } },
      { name: 'leaders-ns2', labels: { alertname: 'EnosCertMonitorLeadersNotOne', severity: 'warning', ...rule, namespace: 'ns2' } },
    ];
    const response = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((a) => alert({ ...a.labels, test: a.name }))),
    });
    expect(response.status).toBe(200);
    const received = await waitFor(async () => {
      const found = await am.alerts();
      return found.length === alerts.length ? found : undefined;
    });
    states = new Map(received.map((a: AlertmanagerAlert) => [a.labels.test!, a.status.state]));
  });

  afterAll(async () => {
    await am?.stop();
  });

  it('pages once per certificate: the pushed alert over the rule, critical over warning', () => {
    expect(states.get('pushed-expiring')).toBe('active');
    expect(states.get('rule-warning')).toBe('suppressed');
    expect(states.get('rule-critical')).toBe('suppressed');
    expect(states.get('only-rule-critical')).toBe('active');
    expect(states.get('only-rule-warning')).toBe('suppressed');
  });

  it('holds a device without a valid certificate back while its revocation pages, not after', () => {
    expect(states.get('revoked')).toBe('active');
    expect(states.get('no-valid-in-hold')).toBe('suppressed');
    expect(states.get('no-valid-after-hold')).toBe('active');
  });

  it('pages for the store, not for what follows from it, in its own namespace only', () => {
    expect(states.get('store-down')).toBe('active');
    expect(states.get('leaders-ns1')).toBe('suppressed');
    expect(states.get('leaders-ns2')).toBe('active');
  });
});
