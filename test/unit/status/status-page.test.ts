import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/domain/certificate.js';
import type { ChangeEvent } from '../../../src/domain/types.js';
import type { ScanSummary } from '../../../src/scan/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import type { HistoryQuery } from '../../../src/state/store.js';
import { createStatusPage, type StatusPage, type StatusPageDeps } from '../../../src/status/index.js';
import { manualClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { cert, NOW, record, THRESHOLDS } from '../metrics/fixtures.js';

const EVENT: ChangeEvent = { type: 'revoked', orgId: 'o1', assetId: 'a1', productKey: '', deviceKey: '', certSN: 'r1', from: 'valid', to: 'revoked', at: '2026-05-31T10:00:00.000Z', revoker: 'IoT_Hub', revokerReason: 'KEY COMPROMISE' };

function fleetOf(): FleetView {
  const fleet = new FleetView();
  fleet.set(record({ orgId: 'o1', assetId: 'a1' }, [cert('expired', -3), cert('r1', 100, { status: 'revoked' })]));
  fleet.set(record({ orgId: 'o1', assetId: 'a2' }, [cert('warn', 20), cert('renewal', 400)]));
  fleet.set(record({ orgId: 'o2', productKey: 'p', deviceKey: 'd' }, [cert('crit', 2)]));
  fleet.set(record({ orgId: 'o2', assetId: 'a3' }, [cert('fine', 200)]));
  fleet.set({ ...record({ orgId: 'o2', assetId: 'down' }, [cert('kept', 25)], 'error'), lastAnswerAt: NOW - 3 * DAY_MS });
  fleet.set(record({ orgId: 'o2', assetId: 'unknown' }, [], 'not_found'));
  return fleet;
}

function statusPage(options: Partial<StatusPageDeps> = {}): { page: StatusPage; queries: HistoryQuery[] } {
  const queries: HistoryQuery[] = [];
  const page = createStatusPage({
    fleet: fleetOf(),
    history: async (query) => {
      queries.push(query);
      return [EVENT];
    },
    thresholds: THRESHOLDS,
    clock: manualClock(NOW),
    log: silentLogger,
    ...options,
  });
  return { page, queries };
}

async function get(page: StatusPage, path: string, search = '') {
  const answer = await page.answer('GET', path, search);
  return { ...answer, json: answer.contentType.startsWith('application/json') ? JSON.parse(answer.body) : undefined };
}

const SUMMARY: ScanSummary = {
  startedAt: NOW - 5_000,
  finishedAt: NOW - 1_000,
  result: 'success',
  devices: { total: 4, ok: 3, notFound: 0, failed: 1 },
  inventoryComplete: true,
  aborted: false,
};

describe('status API', () => {
  it('lists certificates as scan --format json does, by notAfter, with total, filters and paging', async () => {
    const { page } = statusPage();
    const all = await get(page, '/api/v1/certificates');
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(7);
    expect(all.json.certificates.map((c: { certSN: string }) => c.certSN)).toEqual(['expired', 'crit', 'warn', 'kept', 'r1', 'fine', 'renewal']);
    expect(all.json.certificates[2]).toEqual({
      orgId: 'o1',
      assetId: 'a2',
      productKey: '',
      deviceKey: '',
      certSN: 'warn',
      status: 'valid',
      notBefore: new Date(NOW - 365 * DAY_MS).toISOString(),
      notAfter: new Date(NOW + 20 * DAY_MS).toISOString(),
      daysLeft: 20,
      state: 'warning',
      superseded: true,
    });

    const filtered = await get(page, '/api/v1/certificates', '?state=warning,critical&org=o2');
    expect(filtered.json).toMatchObject({ total: 2, certificates: [{ certSN: 'crit' }, { certSN: 'kept' }] });
    const paged = await get(page, '/api/v1/certificates', '?limit=2&offset=3');
    expect(paged.json.total).toBe(7);
    expect(paged.json.certificates.map((c: { certSN: string }) => c.certSN)).toEqual(['kept', 'r1']);
    expect((await get(page, '/api/v1/certificates', '?org=nobody')).json).toEqual({ total: 0, certificates: [] });
  });

  it('passes device and limit to the history and answers 503 when the store fails or hangs', async () => {
    const { page, queries } = statusPage();
    const changes = await get(page, '/api/v1/changes', '?device=o1%2Fa1&limit=5');
    expect(changes.json).toEqual({ changes: [EVENT] });
    expect(queries[0]?.limit).toBe(5);
    const device = { orgId: 'o1', assetId: 'a1', productKey: 'p1', deviceKey: 'd1' };
    expect(queries[0]?.matches?.({ ...EVENT, ...device })).toBe(true);
    expect(queries[0]?.matches?.({ ...EVENT, ...device, orgId: 'o2' })).toBe(false);
    await get(page, '/api/v1/changes', '?device=p1%3Ad1');
    expect(queries[1]?.matches?.({ ...EVENT, ...device, orgId: 'o2' })).toBe(true);
    await get(page, '/api/v1/changes');
    expect(queries[2]).toEqual({ limit: 100 });

    const failing = statusPage({ history: () => Promise.reject(new Error('ECONNREFUSED')) }).page;
    expect(await get(failing, '/api/v1/changes')).toMatchObject({ status: 503, json: { error: 'history unavailable: the store did not answer' } });
    const hanging = statusPage({ history: () => new Promise(() => {}), historyTimeoutMs: 20 }).page;
    expect((await get(hanging, '/api/v1/changes')).status).toBe(503);
  });

  it('reports the last scan and the counts per state', async () => {
    const { page } = statusPage();
    expect((await get(page, '/api/v1/status')).json.lastScan).toBeNull();
    page.scanFinished(SUMMARY);
    expect((await get(page, '/api/v1/status')).json).toEqual({
      leader: true,
      lastScan: { startedAt: new Date(NOW - 5_000).toISOString(), finishedAt: new Date(NOW - 1_000).toISOString(), result: 'success', devices: SUMMARY.devices },
      certificates: { ok: 2, warning: 2, critical: 1, expired: 1, revoked: 1 },
      devices: { ok: 2, warning: 0, critical: 1, no_valid_certificate: 1, no_certificate: 0, not_found: 1, error: 1 },
    });
  });

  it.each([
    ['/api/v1/certificates', '?colour=red', 'unknown parameter "colour"'],
    ['/api/v1/certificates', '?limit=5&limit=6', 'parameter "limit" given more than once'],
    ['/api/v1/certificates', '?limit=1001', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=99999999999999999999', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=-1', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=0', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=ten', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=1e2', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?limit=', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/certificates', '?offset=-5', 'offset must be a whole number from 0 to 1000000000'],
    ['/api/v1/certificates', '?offset=1.5', 'offset must be a whole number from 0 to 1000000000'],
    ['/api/v1/certificates', '?state=warning,bogus', 'state must be a comma-separated list of ok, warning, critical, expired, revoked'],
    ['/api/v1/certificates', '?state=', 'state must be a comma-separated list of ok, warning, critical, expired, revoked'],
    ['/api/v1/certificates', '?org=', 'org must be 1 to 1024 characters'],
    ['/api/v1/certificates', `?org=${'o'.repeat(1025)}`, 'org must be 1 to 1024 characters'],
    ['/api/v1/certificates', `?org=${'o'.repeat(5000)}`, 'query string longer than 4096 characters'],
    ['/api/v1/changes', '?limit=abc', 'limit must be a whole number from 1 to 1000'],
    ['/api/v1/changes', '?device=a&device=b', 'parameter "device" given more than once'],
    ['/api/v1/changes', '?state=ok', 'unknown parameter "state"'],
    ['/api/v1/status', '?verbose=1', 'unknown parameter "verbose"'],
    ['/', '?state=ok', 'state must be a comma-separated list of warning, critical, expired, revoked'],
    ['/', '?offset=x', 'offset must be a whole number from 0 to 1000000000'],
    ['/', '?state=warning,critical', 'state on the page is one of warning, critical, expired, revoked'],
    ['/', '?page=2', 'unknown parameter "page"'],
  ])('%s%s: 400 with a JSON error', async (path, search, message) => {
    const { page } = statusPage();
    const answer = await get(page, path, search);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    expect(answer.json).toEqual({ error: expect.stringContaining(message) });
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s: 405 with Allow', async (method) => {
    const { page } = statusPage();
    for (const path of ['/', '/api/v1/certificates', '/api/v1/changes', '/api/v1/status']) {
      const answer = await page.answer(method, path, '');
      expect(answer.status).toBe(405);
      expect(answer.headers).toMatchObject({ Allow: 'GET, HEAD' });
    }
  });

  it('answers an unknown API path with a JSON 404 and serves only its own paths', async () => {
    const { page } = statusPage();
    expect((await get(page, '/api/v2/certificates')).status).toBe(404);
    expect((await page.answer('POST', '/api/v1/scan', '')).status).toBe(404);
    expect((await get(page, '/api/v1/certificates/')).json).toEqual({ error: expect.stringContaining('not found') });
    expect(['/', '/api', '/api/v1/status'].every((path) => page.serves(path))).toBe(true);
    expect(['/metrics', '/healthz', '/readyz', '/index.html', '/favicon.ico'].some((path) => page.serves(path))).toBe(false);
  });
});

describe('status page', () => {
  it('is HTML with a CSP that allows its own style sheet and nothing else, and nosniff', async () => {
    const { page } = statusPage();
    const answer = await get(page, '/');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/html; charset=utf-8');
    const style = /<style>([\s\S]*?)<\/style>/.exec(answer.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(answer.headers).toMatchObject({
      'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
    });
    expect(answer.body).not.toMatch(/<script|<link|<img|<iframe|\son[a-z]+=|style="/i);
    expect(answer.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('shows totals, the forecast, the certificates needing action by notAfter, failing devices, changes and the last scan', async () => {
    const { page } = statusPage();
    page.scanFinished(SUMMARY);
    const { body } = await get(page, '/');
    expect(body).toContain('<td data-state="warning">2</td>');
    expect(body).toContain('<td data-state="error">1</td>');
    // Superseded (warn, renewed by renewal) and ok certificates need no action.
    expect(rowsOf(body, 'action-table').map((row) => row[5])).toEqual(['expired', 'crit', 'kept', 'r1']);
    expect(rowsOf(body, 'failing-table')).toEqual([
      ['down', 'o2', 'timeout', '2026-05-29 00:00'],
      ['unknown', 'o2', 'timeout', 'never'],
    ]);
    expect(rowsOf(body, 'changes-table')[0]).toEqual(['2026-05-31 10:00:00', 'revoked', 'a1 o1', 'r1', 'valid', 'revoked (KEY COMPROMISE)']);
    expect(body).toMatch(/Last scan: <strong class="result-success">success<\/strong>/);
    // Overdue: 1 (expired); week 0: crit; week 3: kept; week 28 (fine) is past the chart.
    expect([...body.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1])).slice(0, 5)).toEqual([1, 1, 0, 0, 1]);
  });

  it('shows the audit findings of the listed certificates, in the API too', async () => {
    const { page } = statusPage({
      audit: { fields: (cert, state) => ({ findings: cert.certSN === 'crit' && state === 'critical' ? ['shared', 'weak_signature'] : [] }) },
    });
    expect((await get(page, '/')).body).toContain('<span class="finding">shared</span><span class="finding">weak_signature</span>');
    const { json } = await get(page, '/api/v1/certificates', '?state=critical');
    expect(json.certificates).toEqual([expect.objectContaining({ certSN: 'crit', findings: ['shared', 'weak_signature'] })]);
    expect((await get(statusPage().page, '/api/v1/certificates', '?state=critical')).json.certificates[0]).not.toHaveProperty('findings');
    expect((await get(page, '/api/v1/certificates', '?state=ok')).json.certificates[0]).toMatchObject({ findings: [] });
  });

  it('says so on a standby replica', async () => {
    const { page } = statusPage({ leader: () => false });
    expect((await get(page, '/')).body).toContain('This replica is a standby');
    expect((await get(page, '/api/v1/status')).json).toMatchObject({ leader: false, lastScan: null });
    expect((await get(statusPage().page, '/')).body).not.toContain('standby');
  });

  it('filters by org and state, pages with links, and says when the history is unavailable', async () => {
    const { page } = statusPage({ history: () => Promise.reject(new Error('down')) });
    const critical = await get(page, '/', '?org=o2&state=critical');
    expect(rowsOf(critical.body, 'action-table').map((row) => row[5])).toEqual(['crit']);
    expect(critical.body).toContain('<option value="o2" selected>o2</option>');
    expect(critical.body).toContain('History unavailable');

    // The form's "all" choices arrive empty.
    const all = await get(page, '/', '?org=&state=&limit=2&offset=2');
    expect(rowsOf(all.body, 'action-table').map((row) => row[5])).toEqual(['kept', 'r1']);
    expect(all.body).toContain('<a rel="prev" href="/?limit=2">« previous</a>');
    expect(all.body).not.toContain('rel="next"');
    expect(all.body).toContain('3–4 of 4');
  });
});

/** The cells' text of a table's body rows. */
function rowsOf(body: string, id: string): string[][] {
  const table = new RegExp(`<table class="list" id="${id}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(body);
  if (table === null) return [];
  return [...table[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()),
  );
}
