import { deviceId } from '../domain/device-id.js';
import type { CertificateState } from '../domain/types.js';
import { singleLine } from '../util/text.js';
import type { JsonReport, ReportCertificate } from './report.js';

/** What a person chose to see; the JSON report always holds everything. */
export interface TableOptions {
  /** Only certificates in these states (and then no device-without-certificate rows). */
  readonly states?: ReadonlySet<CertificateState>;
  /** Superseded certificates are hidden unless asked for: the device was already renewed. */
  readonly showSuperseded?: boolean;
}

/** States that call for someone to act, worst first. */
const ACTION_STATES: readonly CertificateState[] = ['expired', 'critical', 'warning', 'revoked'];

/**
 * `scan --format table`, for people: certificates soonest notAfter first (devices without any
 * after them), the devices not found or failed with the reason, inventory problems, changes,
 * then what needs action, the next expiry and the scan's totals.
 */
export function formatTable(report: JsonReport, options: TableOptions = {}): string {
  const shown = report.certificates.filter(
    (cert) => (options.showSuperseded === true || !cert.superseded) && (options.states?.has(cert.state) ?? true),
  );
  const rows = [...shown]
    .sort(bySoonestEnd)
    .map((c) => [deviceId(c), c.certSN, c.status, c.state, c.notAfter, String(c.daysLeft), c.superseded ? 'yes' : '', c.findings?.join(',') ?? '']);
  if (options.states === undefined) {
    for (const device of report.devicesWithoutCertificates) rows.push([deviceId(device), '-', '-', 'no certificate', '', '', '', '']);
  }
  const sections = [table(['DEVICE', 'CERT SN', 'STATUS', 'STATE', 'NOT AFTER', 'DAYS LEFT', 'SUPERSEDED', 'FINDINGS'], rows)];
  const deviceErrors = report.errors.filter((e) => e.source === 'device');
  if (deviceErrors.length > 0) {
    sections.push(
      table(
        ['NOT QUERIED', 'RESULT', 'REASON', 'LAST ANSWER', 'MESSAGE'],
        deviceErrors.map((e) => [deviceId(e), e.reason === 'code_11404' ? 'not found' : 'failed', e.reason, e.lastAnswerAt ?? '-', e.message]),
      ),
    );
  }
  const sourceProblems = [
    ...report.errors.filter((e) => e.source !== 'device').map((e) => ['error', e.reason, e.message]),
    ...report.warnings.map((w) => ['warning', w.reason, w.message]),
  ];
  if (sourceProblems.length > 0) sections.push(table(['INVENTORY', 'REASON', 'MESSAGE'], sourceProblems));
  if (report.changes.length > 0) {
    sections.push(table(['CHANGE', 'DEVICE', 'CERT SN', 'FROM', 'TO', 'AT'], report.changes.map((c) => [c.type, deviceId(c), c.certSN, c.from ?? '', c.to ?? '', c.at])));
  }
  sections.push(summaryLines(report, report.certificates.length - shown.length).join('\n'));
  return `${sections.join('\n\n')}\n`;
}

/** What needs action, what ends next, and the scan's totals. */
function summaryLines(report: JsonReport, hidden: number): string[] {
  const current = report.certificates.filter((cert) => !cert.superseded);
  const counts = ACTION_STATES.map((state) => [state, current.filter((cert) => cert.state === state).length] as const).filter(([, n]) => n > 0);
  const d = report.devices;
  const deviceTrouble = [d.failed > 0 ? `${d.failed} devices failed` : '', d.notFound > 0 ? `${d.notFound} devices not found` : ''].filter(Boolean);
  const action = [...counts.map(([state, n]) => `${n} ${state}`), ...deviceTrouble];
  const next = current.filter((cert) => cert.state !== 'revoked' && cert.state !== 'expired').sort(bySoonestEnd)[0];
  const lines = [`needs action: ${action.length > 0 ? action.join(', ') : 'nothing'}`];
  if (next !== undefined) lines.push(`next to expire: ${deviceId(next)} cert ${next.certSN} on ${next.notAfter} (${next.daysLeft} days left, ${next.state})`);
  const hiddenNote = hidden > 0 ? ` (${hidden} not shown: superseded or filtered out)` : '';
  lines.push(
    `scan ${report.result}: ${d.total} devices (${d.ok} ok, ${d.notFound} not found, ${d.failed} failed), ` +
      `${report.certificates.length} certificates${hiddenNote}, ${report.changes.length} changes, ${report.startedAt} → ${report.finishedAt}`,
  );
  return lines;
}

function bySoonestEnd(a: ReportCertificate, b: ReportCertificate): number {
  return a.notAfter.localeCompare(b.notAfter) || deviceId(a).localeCompare(deviceId(b)) || a.certSN.localeCompare(b.certSN);
}

/** Aligned columns; cells carry API data, so a control character must not break the layout or the terminal. */
export function table(header: readonly string[], untrustedRows: readonly (readonly string[])[]): string {
  const rows = untrustedRows.map((row) => row.map(singleLine));
  // A reduce, not Math.max(...rows): a large fleet has more rows than a call may take arguments.
  const widths = header.map((title, column) => rows.reduce((width, row) => Math.max(width, (row[column] ?? '').length), title.length));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
