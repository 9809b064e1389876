import { describe, expect, it } from 'vitest';
import type { ChangeEvent, DeviceRef } from '../../../src/domain/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { escapeHtml } from '../../../src/status/html.js';
import { createStatusPage } from '../../../src/status/index.js';
import { renderPage, type PageModel } from '../../../src/status/page.js';
import { manualClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { MARKUP_STRINGS, NASTY_STRINGS } from '../../support/hostile.js';
import { cert, NOW, record, THRESHOLDS } from '../metrics/fixtures.js';

const HOSTILE = [...MARKUP_STRINGS, ...NASTY_STRINGS];

/** Every field the page shows holds `text(i)`: a device per string, failing every third, one change event each. */
function statusPageOf(text: (i: number) => string) {
  const fleet = new FleetView();
  const events: ChangeEvent[] = [];
  HOSTILE.forEach((_, i) => {
    const value = text(i);
    const device: DeviceRef = i % 2 === 0 ? { orgId: value, assetId: `${value}#${i}` } : { orgId: value, productKey: value, deviceKey: `${value}#${i}` };
    const certificates = [cert(value, 1 + i / 10, { status: i % 5 === 0 ? 'revoked' : 'valid', subject: value, issuer: value, revokerReason: value })];
    fleet.set({ ...record(device, certificates, i % 3 === 0 ? 'error' : 'ok'), ...(i % 3 === 0 ? { reason: value } : {}) });
    events.push({ type: 'revoked', orgId: value, assetId: value, productKey: value, deviceKey: value, certSN: value, from: value, to: value, at: '2026-05-31T10:00:00.000Z', revoker: value, revokerReason: value });
  });
  return createStatusPage({ fleet, history: async () => events, thresholds: THRESHOLDS, clock: manualClock(NOW), log: silentLogger });
}

/** Tag names and attribute names in document order: what markup a value could add to. */
function skeleton(body: string): string[] {
  return [...body.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map(([, tag, attributes]) => {
    const names = [...attributes!.matchAll(/\s([^\s=]+)(?:="[^"]*")?/g)].map((m) => m[1]);
    return `${tag}(${names.join(',')})`;
  });
}

/** Plain stand-ins that sort like the hostile strings (the org list is sorted). */
const SORTED = [...HOSTILE].sort();
const benign = (i: number) => (HOSTILE[i] === '' ? '' : `value${String(SORTED.indexOf(HOSTILE[i]!)).padStart(3, '0')}`);
const hostile = (i: number) => HOSTILE[i]!;

describe('status page with hostile values', () => {
  it('renders exactly the markup of the same page with plain values: every value stays text', async () => {
    for (const search of ['', `?org=${encodeURIComponent(MARKUP_STRINGS[1]!)}`, '?state=critical&limit=3&offset=2']) {
      const plain = await statusPageOf(benign).answer('GET', '/', search.replace(/org=[^&]*/, `org=${benign(1)}`));
      const attacked = await statusPageOf(hostile).answer('GET', '/', search);
      expect(attacked.status, search).toBe(200);
      expect(skeleton(attacked.body), search).toEqual(skeleton(plain.body));
      expect(attacked.body).not.toMatch(/<script/i);
      expect(skeleton(attacked.body).filter((tag) => /[(,]on/.test(tag)), search).toEqual([]);
    }
  });

  it('shows each hostile value escaped, in the action table, the failing devices and the changes', async () => {
    const { body } = await statusPageOf(hostile).answer('GET', '/', '?limit=1000');
    for (const text of MARKUP_STRINGS) {
      expect(body.split(escapeHtml(text)).length - 1, text).toBeGreaterThanOrEqual(3);
    }
    expect(body).toContain('<span class="badge s-critical">critical</span>');
  });

  it('returns hostile values unchanged in the JSON API', async () => {
    const page = statusPageOf(hostile);
    const { body, headers } = await page.answer('GET', '/api/v1/certificates', '?limit=1000');
    const { certificates } = JSON.parse(body) as { certificates: { certSN: string; orgId: string }[] };
    expect(new Set(certificates.map((c) => c.certSN))).toEqual(new Set(HOSTILE));
    expect(headers).toMatchObject({ 'X-Content-Type-Options': 'nosniff' });
    const changes = JSON.parse((await page.answer('GET', '/api/v1/changes', '')).body) as { changes: ChangeEvent[] };
    expect(changes.changes.map((c) => c.revokerReason)).toEqual(HOSTILE);
  });

  it('escapes audit findings', () => {
    const model: PageModel = {
      now: NOW,
      thresholds: THRESHOLDS,
      filter: { offset: 0, limit: 50, explicitLimit: false },
      orgs: [],
      counts: { certificates: { ok: 0, warning: 1, critical: 0, expired: 0, revoked: 0 }, devices: { ok: 0, warning: 1, critical: 0, no_valid_certificate: 0, no_certificate: 0, not_found: 0, error: 0 } },
      forecast: { overdue: 0, weeks: new Array(26).fill(0) },
      action: {
        total: 1,
        certificates: [
          { orgId: 'o', assetId: 'a', productKey: '', deviceKey: '', certSN: 's', status: 'valid', notBefore: null, notAfter: '2026-06-20T00:00:00.000Z', daysLeft: 19, state: 'warning', superseded: false, findings: ['weak_signature', ...MARKUP_STRINGS] },
        ],
      },
      failing: { total: 0, devices: [] },
      changes: [],
      lastScan: undefined,
      leader: true,
    };
    const body = renderPage(model);
    expect(body).toContain('<span class="finding">weak_signature</span>');
    for (const text of MARKUP_STRINGS) expect(body).toContain(`<span class="finding">${escapeHtml(text)}</span>`);
    expect(body).not.toMatch(/<script/i);
  });
});
