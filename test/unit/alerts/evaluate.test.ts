import { describe, expect, it } from 'vitest';
import {
  evaluateAlerts,
  holdFromEvent,
  type EvaluationInput,
  type RevokedHold,
} from '../../../src/alerts/evaluate.js';
import { alertKey } from '../../../src/alerts/labels.js';
import { DAY_MS } from '../../../src/domain/certificate.js';
import type { ChangeEvent } from '../../../src/domain/types.js';
import type { DeviceRecord } from '../../../src/state/fleet-view.js';
import { BY_ASSET, BY_KEYS, cert, NOW, record, THRESHOLDS } from './fixtures.js';

const HOUR = 3_600_000;

function hold(certSN: string, hoursAgo: number, overrides: Partial<RevokedHold> = {}): RevokedHold {
  return {
    device: BY_ASSET,
    certSN,
    at: NOW - hoursAgo * HOUR,
    revoker: 'IoT_Hub',
    revokerReason: 'KEY COMPROMISE',
    notAfter: NOW + 100 * DAY_MS,
    ...overrides,
  };
}

function evaluate(records: DeviceRecord[], holds: RevokedHold[] = [], overrides: Partial<EvaluationInput> = {}) {
  return evaluateAlerts({
    records,
    holds,
    now: NOW,
    thresholds: THRESHOLDS,
    revokedHoldHours: 24,
    extraLabels: {},
    ...overrides,
  });
}

/** alertname/severity/cert_sn of each desired alert, sorted. */
function summary(alerts: Awaited<ReturnType<typeof evaluate>>): string[] {
  return [...alerts.values()].map(({ labels }) => `${labels.alertname}/${labels.severity}/${labels.cert_sn}`).sort();
}

describe('evaluateAlerts: which alerts fire', () => {
  it.each<[string, DeviceRecord[], RevokedHold[], string[]]>([
    ['healthy certificate', [record(BY_ASSET, [cert('1', 90)])], [], []],
    ['warning', [record(BY_ASSET, [cert('1', 20)])], [], ['EnosCertificateExpiring/warning/1']],
    ['critical', [record(BY_ASSET, [cert('1', 3)])], [], ['EnosCertificateExpiring/critical/1']],
    ['expired by notAfter', [record(BY_ASSET, [cert('1', -1)])], [], ['EnosCertificateExpired/critical/1']],
    ['expired by status', [record(BY_ASSET, [cert('1', 10, 'expired')])], [], ['EnosCertificateExpired/critical/1']],
    ['revoked is never expired or expiring', [record(BY_ASSET, [cert('1', -5, 'revoked'), cert('2', 5, 'revoked')])], [], []],
    ['superseded warning', [record(BY_ASSET, [cert('old', 20), cert('new', 365)])], [], []],
    ['superseded expired', [record(BY_ASSET, [cert('old', -3, 'expired'), cert('new', 365)])], [], []],
    [
      'a later certificate that is itself expiring supersedes nothing',
      [record(BY_ASSET, [cert('old', 3), cert('new', 20)])],
      [],
      ['EnosCertificateExpiring/critical/old', 'EnosCertificateExpiring/warning/new'],
    ],
    [
      'a device whose last query failed keeps alerting from its kept snapshot',
      [record(BY_ASSET, [cert('1', 3)], 'error'), record(BY_KEYS, [cert('2', -1)], 'not_found')],
      [],
      ['EnosCertificateExpired/critical/2', 'EnosCertificateExpiring/critical/1'],
    ],
    [
      'a baseline revocation (no event, no hold) never alerts',
      [record(BY_ASSET, [cert('1', 90, 'revoked')])],
      [],
      [],
    ],
    ['revoked within the hold', [record(BY_ASSET, [cert('1', 90, 'revoked')])], [hold('1', 23.9)], ['EnosCertificateRevoked/warning/1']],
    ['revoked hold over', [record(BY_ASSET, [cert('1', 90, 'revoked')])], [hold('1', 24)], []],
    ['a hold alerts even when the certificate is gone', [], [hold('1', 1)], ['EnosCertificateRevoked/warning/1']],
  ])('%s', async (_name, records, holds, expected) => {
    expect(summary(await evaluate(records, holds))).toEqual([...expected].sort());
  });

  it('a hold of zero hours never alerts', async () => {
    expect((await evaluate([], [hold('1', 0)], { revokedHoldHours: 0 })).size).toBe(0);
  });
});

describe('evaluateAlerts: labels and annotations', () => {
  it('labels the device by asset id, leaving empty ones out', async () => {
    const [alert] = (await evaluate([record(BY_ASSET, [cert('sn-1', 20)])])).values();
    expect(alert?.labels).toEqual({
      alertname: 'EnosCertificateExpiring',
      severity: 'warning',
      org_id: 'o1',
      asset_id: 'a1',
      cert_sn: 'sn-1',
    });
  });

  it('labels the device by product and device key', async () => {
    const [alert] = (await evaluate([record(BY_KEYS, [cert('sn-1', -1)])])).values();
    expect(alert?.labels).toEqual({
      alertname: 'EnosCertificateExpired',
      severity: 'critical',
      org_id: 'o1',
      product_key: 'p1',
      device_key: 'd1',
      cert_sn: 'sn-1',
    });
  });

  it('adds alertmanager.labels; the alert keeps its own labels on a clash, even empty ones; empty extras are left out', async () => {
    const [alert] = (await evaluate([record(BY_ASSET, [cert('sn-1', 3)])], [], {
      extraLabels: { cluster: 'prod', team: 'iot', severity: 'info', org_id: 'x', product_key: 'p9', empty: '' },
    })).values();
    expect(alert?.labels).toEqual({
      alertname: 'EnosCertificateExpiring',
      severity: 'critical',
      org_id: 'o1',
      asset_id: 'a1',
      cert_sn: 'sn-1',
      cluster: 'prod',
      team: 'iot',
    });
  });

  it('annotates expiry alerts with summary, description, not_after (RFC 3339) and days_left', async () => {
    const certificate = { ...cert('sn-1', 10.5), notAfter: Date.parse('2026-06-11T12:00:00Z') };
    const [alert] = (await evaluate([record(BY_ASSET, [certificate])])).values();
    expect(alert?.annotations).toMatchObject({
      summary: 'Certificate sn-1 of device o1/a1 expires in 10 days',
      not_after: '2026-06-11T12:00:00Z',
      days_left: '10',
      runbook_url: 'https://github.com/enos-cert-monitor/enos-cert-monitor#runbook-enoscertificateexpiring',
    });
    expect(alert?.annotations.description).toContain('2026-06-11T12:00:00Z');
  });

  it('annotates the expired alert with a negative days_left', async () => {
    const [alert] = (await evaluate([record(BY_ASSET, [cert('sn-1', -2)])])).values();
    expect(alert?.annotations).toMatchObject({ days_left: '-2', summary: 'Certificate sn-1 of device o1/a1 has expired' });
  });

  it('annotates the revoked alert with revoker and reason, and starts it at the event', async () => {
    const [alert] = (await evaluate([], [hold('sn-1', 2)])).values();
    expect(alert?.annotations).toMatchObject({
      revoker: 'IoT_Hub',
      revoker_reason: 'KEY COMPROMISE',
      not_after: '2026-09-09T00:00:00Z',
      days_left: '100',
    });
    expect(alert?.since).toBe(NOW - 2 * HOUR);
  });

  it.each([
    ['expiring', 'sn-1', 10.5, 'Certificate sn-1 of device o1/a1 expires in 10 days', 'is valid until NOT_AFTER and no newer valid certificate replaces it. Issue a new certificate to the device before then.'],
    ['expired', 'sn-2', -2, 'Certificate sn-2 of device o1/a1 has expired', 'expired at NOT_AFTER and no newer valid certificate replaces it: the device can no longer authenticate with it.'],
  ])('writes the %s alert\'s annotations out whole, word for word', async (_name, certSN, days, summary, ending) => {
    const certificate = cert(certSN, days);
    const [alert] = (await evaluate([record(BY_ASSET, [certificate])])).values();
    const notAfter = new Date(certificate.notAfter).toISOString().replace('.000Z', 'Z');
    const name = alert!.labels.alertname!.toLowerCase();
    expect(alert?.annotations).toEqual({
      summary,
      description: `The certificate ${certSN} of device o1/a1 (subject ${certificate.subject}, issuer ${certificate.issuer}) ${ending.replace('NOT_AFTER', notAfter)}`,
      not_after: notAfter,
      days_left: String(Math.floor(days)),
      runbook_url: `https://github.com/enos-cert-monitor/enos-cert-monitor#runbook-${name}`,
    });
  });

  it('writes the revoked alert\'s annotations out whole, word for word', async () => {
    const [alert] = (await evaluate([], [hold('sn-1', 2)])).values();
    expect(alert?.annotations).toEqual({
      summary: 'Certificate sn-1 of device o1/a1 was revoked',
      description:
        'The certificate sn-1 of device o1/a1 was revoked at 2026-05-31T22:00:00Z by IoT_Hub (KEY COMPROMISE). ' +
        'Check that the revocation was intended and that the device has another valid certificate.',
      revoker: 'IoT_Hub',
      revoker_reason: 'KEY COMPROMISE',
      not_after: '2026-09-09T00:00:00Z',
      days_left: '100',
      runbook_url: 'https://github.com/enos-cert-monitor/enos-cert-monitor#runbook-enoscertificaterevoked',
    });
  });

  it('leaves not_after out of a revoked alert whose certificate was unknown', async () => {
    const [alert] = (await evaluate([], [hold('sn-1', 2, { notAfter: null })])).values();
    expect(alert?.annotations).not.toHaveProperty('not_after');
  });

  it('keys each alert by its sorted labels', async () => {
    const [alert] = (await evaluate([record(BY_ASSET, [cert('sn-1', 20)])])).values();
    const reversed = Object.fromEntries(Object.entries(alert!.labels).reverse());
    expect(alert?.key).toBe(alertKey(reversed));
    expect(alertKey({ ...alert!.labels, severity: 'critical' })).not.toBe(alert?.key);
  });
});

describe('holdFromEvent', () => {
  const event: ChangeEvent = {
    type: 'revoked',
    orgId: 'o1',
    assetId: 'a1',
    productKey: '',
    deviceKey: '',
    certSN: 'sn-1',
    from: 'valid',
    to: 'revoked',
    at: '2026-05-31T12:00:00.000Z',
    revoker: 'IoT_Hub',
    revokerReason: 'KEY COMPROMISE',
  };

  it('takes the device, time and revoker from the event and notAfter from the certificates', async () => {
    const revoked = { ...cert('sn-1', 100, 'revoked') };
    const found = holdFromEvent(event, record(BY_ASSET, [revoked]).certificates);
    expect(found).toEqual({
      device: BY_ASSET,
      certSN: 'sn-1',
      at: Date.parse('2026-05-31T12:00:00Z'),
      revoker: 'IoT_Hub',
      revokerReason: 'KEY COMPROMISE',
      notAfter: revoked.notAfter,
    });
  });

  it('has no notAfter when the certificate is not known', async () => {
    expect(holdFromEvent(event, undefined).notAfter).toBeNull();
  });
});
