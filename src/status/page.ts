import { CERTIFICATE_STATES, DEVICE_STATES, type CertificateState, type ChangeEvent, type DeviceRef, type Thresholds } from '../domain/types.js';
import type { ReportCertificate } from '../scan/report.js';
import type { ScanSummary } from '../scan/types.js';
import { forecastChart } from './forecast-chart.js';
import { ACTION_STATES, type Forecast, type StateCounts } from './fleet-summary.js';
import { Html, html } from './html.js';
import { PAGE_STYLE } from './page-style.js';

export interface FailingDevice {
  readonly device: DeviceRef;
  readonly reason: string;
  /** Epoch ms of its last good answer, when known. */
  readonly lastAnswerAt?: number | undefined;
}

/** What the page's filters and paging asked for. */
export interface PageFilter {
  readonly org?: string;
  readonly state?: CertificateState;
  readonly offset: number;
  readonly limit: number;
  /** Whether the request named a limit (then paging links keep it). */
  readonly explicitLimit: boolean;
}

export interface PageModel {
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly filter: PageFilter;
  readonly orgs: readonly string[];
  readonly counts: StateCounts;
  readonly forecast: Forecast;
  readonly action: { readonly total: number; readonly certificates: readonly ReportCertificate[] };
  readonly failing: { readonly total: number; readonly devices: readonly FailingDevice[] };
  /** Newest first; 'unavailable' when the store did not answer. */
  readonly changes: readonly ChangeEvent[] | 'unavailable';
  readonly lastScan: ScanSummary | undefined;
  /** False on a standby replica: the leader scans. */
  readonly leader: boolean;
}

/** The status page: server-rendered, no script, every value escaped by `html`. */
export function renderPage(model: PageModel): string {
  return `<!doctype html>\n${
    html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>enos-cert-monitor status</title>
<style>${new Html(PAGE_STYLE)}</style></head>
<body>
<header><h1>enos-cert-monitor</h1>${lastScan(model)}</header>
<main>
${totals(model)}
<section id="forecast"><h2>Expiry forecast</h2>${forecastChart(model.forecast, model.now, model.thresholds)}</section>
${actionSection(model)}
${failingSection(model)}
${changesSection(model)}
</main>
<footer>Generated ${iso(model.now)} · thresholds: warning ${model.thresholds.warningDays} days, critical ${model.thresholds.criticalDays} days ·
<a href="/api/v1/status">status JSON</a> · <a href="/api/v1/certificates">certificates JSON</a> · <a href="/metrics">metrics</a></footer>
</body></html>`.text
  }\n`;
}

function lastScan({ lastScan: scan, now, leader }: PageModel): Html {
  const standby = leader ? '' : html` This replica is a standby: the leader scans, and this page shows what it stored.`;
  if (scan === undefined) return html`<p class="scan" id="last-scan">No scan has finished in this process yet.${standby}</p>`;
  const d = scan.devices;
  return html`<p class="scan" id="last-scan">Last scan: <strong class="result-${scan.result}">${scan.result}</strong>,
finished ${iso(scan.finishedAt)} (${ago(now - scan.finishedAt)}), took ${seconds(scan.finishedAt - scan.startedAt)} ·
${d.total} devices: ${d.ok} answered, ${d.notFound} not found, ${d.failed} failed.${standby}</p>`;
}

function totals(model: PageModel): Html {
  const { certificates, devices } = model.counts;
  const scope = model.filter.org === undefined ? '' : html` in ${model.filter.org}`;
  return html`<section class="cards" id="totals">
<div class="card"><h2>Certificates${scope}</h2><table class="counts">${CERTIFICATE_STATES.map(
    (state) =>
      html`<tr><td>${ACTION_STATES.includes(state) ? html`<a href="${pageLink(model.filter, { state, offset: 0 })}">${badge(state)}</a>` : badge(state)}</td><td data-state="${state}">${certificates[state]}</td></tr>`,
  )}</table></div>
<div class="card"><h2>Devices${scope}</h2><table class="counts">${DEVICE_STATES.map(
    (state) => html`<tr><td>${badge(state)}</td><td data-state="${state}">${devices[state]}</td></tr>`,
  )}</table></div>
</section>`;
}

function actionSection(model: PageModel): Html {
  const { filter, action } = model;
  const rows = action.certificates.map(
    (c) => html`<tr>
<td data-label="Not after" class="mono">${c.notAfter.slice(0, 16).replace('T', ' ')}</td>
<td data-label="Days left" class="num">${c.daysLeft}</td>
<td data-label="State">${badge(c.state)}</td>
<td data-label="Device" class="text">${deviceName(c)}</td>
<td data-label="Org" class="text"><a href="${pageLink(filter, { org: c.orgId, offset: 0 })}">${c.orgId}</a></td>
<td data-label="Cert SN" class="mono text">${c.certSN}</td>
<td data-label="Findings" class="text">${c.findings === undefined ? '' : c.findings.map((finding) => html`<span class="finding">${finding}</span>`)}</td>
</tr>`,
  );
  return html`<section id="action"><h2>Certificates needing action (${action.total})</h2>
${filterForm(model)}
${
  rows.length === 0
    ? html`<p class="empty">No certificate needs action${filter.org === undefined && filter.state === undefined ? '' : ' with these filters'}.</p>`
    : html`<table class="list" id="action-table">${columns('w-date', 'w-days', 'w-state', '', 'w-org', '', 'w-findings')}<thead><tr><th>Not after (UTC)</th><th class="num">Days left</th><th>State</th><th>Device</th><th>Org</th><th>Cert SN</th><th>Findings</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${pager(filter, action.total, action.certificates.length)}
</section>`;
}

function filterForm({ filter, orgs }: PageModel): Html {
  const orgOptions = orgs.includes(filter.org ?? '') || filter.org === undefined ? orgs : [filter.org, ...orgs];
  return html`<form class="filters" method="get" action="/">
<label>Organisation <select name="org"><option value="">all</option>${orgOptions.map(
    (org) => html`<option value="${org}"${filter.org === org ? html` selected` : ''}>${org}</option>`,
  )}</select></label>
<label>State <select name="state"><option value="">all needing action</option>${ACTION_STATES.map(
    (state) => html`<option value="${state}"${filter.state === state ? html` selected` : ''}>${state}</option>`,
  )}</select></label>
${filter.explicitLimit ? html`<input type="hidden" name="limit" value="${filter.limit}">` : ''}
<button type="submit">Filter</button>${
    filter.org !== undefined || filter.state !== undefined ? html` <a href="/">clear</a>` : ''
  }
</form>`;
}

function pager(filter: PageFilter, total: number, shown: number): Html {
  if (total === 0) return html``;
  const first = Math.min(total, filter.offset + 1);
  const previous = filter.offset > 0 ? html`<a rel="prev" href="${pageLink(filter, { offset: Math.max(0, filter.offset - filter.limit) })}">« previous</a>` : '';
  const next = filter.offset + shown < total ? html`<a rel="next" href="${pageLink(filter, { offset: filter.offset + filter.limit })}">next »</a>` : '';
  return html`<nav class="pages" aria-label="pages">${previous}<span>${shown === 0 ? 'none' : `${first}–${filter.offset + shown}`} of ${total}</span>${next}</nav>`;
}

function failingSection({ failing }: PageModel): Html {
  const more = failing.total > failing.devices.length ? html` <span class="empty">(the first ${failing.devices.length} shown)</span>` : '';
  return html`<section id="failing"><h2>Devices whose last query failed (${failing.total})</h2>${more}
${
  failing.devices.length === 0
    ? html`<p class="empty">Every device answered its last query.</p>`
    : html`<table class="list" id="failing-table">${columns('', 'w-org', '', 'w-date')}<thead><tr><th>Device</th><th>Org</th><th>Reason</th><th>Last good answer</th></tr></thead><tbody>${failing.devices.map(
        ({ device, reason, lastAnswerAt }) =>
          html`<tr><td data-label="Device" class="text">${deviceName(device)}</td><td data-label="Org" class="text">${device.orgId}</td><td data-label="Reason" class="mono text">${reason}</td><td data-label="Last good answer" class="mono">${lastAnswerAt === undefined ? 'never' : iso(lastAnswerAt).slice(0, 16)}</td></tr>`,
      )}</tbody></table>`
}
</section>`;
}

function changesSection({ changes }: PageModel): Html {
  let body: Html;
  if (changes === 'unavailable') body = html`<p class="unavailable">History unavailable: the store did not answer. Everything above is from memory.</p>`;
  else if (changes.length === 0) body = html`<p class="empty">No change recorded yet.</p>`;
  else {
    body = html`<table class="list" id="changes-table">${columns('w-date', 'w-short', '', '', 'w-short', '')}<thead><tr><th>At (UTC)</th><th>Change</th><th>Device</th><th>Cert SN</th><th>From</th><th>To</th></tr></thead><tbody>${changes.map(
      (c) => html`<tr><td data-label="At" class="mono">${c.at.slice(0, 19).replace('T', ' ')}</td><td data-label="Change">${c.type}</td><td data-label="Device" class="text">${deviceName(c)} <span class="empty">${c.orgId}</span></td><td data-label="Cert SN" class="mono text">${c.certSN}</td><td data-label="From" class="text">${c.from ?? ''}</td><td data-label="To" class="text">${c.to ?? ''}${c.revokerReason ? html` <span class="empty">(${c.revokerReason})</span>` : ''}</td></tr>`,
    )}</tbody></table>`;
  }
  return html`<section id="changes"><h2>Latest changes</h2>${body}</section>`;
}

/** The device without its org (shown in its own column): asset id, or product key / device key. */
function deviceName(device: DeviceRef): string {
  return device.assetId ? device.assetId : `${device.productKey ?? ''}/${device.deviceKey ?? ''}`;
}

/** Fixed widths for the short columns; the others share the rest, however long their values. */
function columns(...widths: string[]): Html {
  return html`<colgroup>${widths.map((width) => (width === '' ? html`<col>` : html`<col class="${width}">`))}</colgroup>`;
}

function badge(state: string): Html {
  return html`<span class="badge s-${state}">${state.replace(/_/g, ' ')}</span>`;
}

/** A link to the page with the current filters, some changed; values are URL-encoded here and escaped by `html`. */
function pageLink(filter: PageFilter, change: Partial<Pick<PageFilter, 'org' | 'state' | 'offset'>>): string {
  const next = { ...filter, ...change };
  const query = new URLSearchParams();
  if (next.org !== undefined) query.set('org', next.org);
  if (next.state !== undefined) query.set('state', next.state);
  if (next.explicitLimit) query.set('limit', String(next.limit));
  if (next.offset > 0) query.set('offset', String(next.offset));
  const text = query.toString();
  return text === '' ? '/' : `/?${text}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function ago(ms: number): string {
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 172_800_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} days ago`;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}
