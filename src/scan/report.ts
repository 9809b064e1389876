import { deviceId } from '../domain/device-id.js';
import { assessCertificates, type AssessedCertificate } from '../domain/certificate.js';
import type { CertificateState, ChangeEvent, Thresholds } from '../domain/types.js';
import { singleLine } from '../util/text.js';
import type { DeviceRecord } from '../state/fleet-view.js';
import type { ScanReport } from './scanner.js';

/** `scan --format json`: the contract's report object. */
export interface JsonReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: string;
  readonly devices: { total: number; ok: number; notFound: number; failed: number };
  readonly certificates: readonly ReportCertificate[];
  readonly changes: readonly ChangeEvent[];
  readonly errors: readonly ReportError[];
}

interface DeviceLabels {
  readonly orgId: string;
  readonly assetId: string;
  readonly productKey: string;
  readonly deviceKey: string;
}

export interface ReportCertificate extends DeviceLabels {
  readonly certSN: string;
  readonly status: string;
  readonly notBefore: string | null;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly state: CertificateState;
  readonly superseded: boolean;
}

interface ReportError extends DeviceLabels {
  readonly reason: string;
  readonly message: string;
  /** The device's last good answer (ISO 8601): it has been failing since; null when it never answered or unknown. */
  readonly lastAnswerAt: string | null;
}

export function buildReport(scan: ScanReport, records: Iterable<DeviceRecord>, now: number, thresholds: Thresholds): JsonReport {
  const certificates: ReportCertificate[] = [];
  for (const record of records) {
    for (const assessed of assessCertificates(record.certificates, now, thresholds)) {
      certificates.push(reportCertificate(record, assessed));
    }
  }
  return {
    startedAt: new Date(scan.summary.startedAt).toISOString(),
    finishedAt: new Date(scan.summary.finishedAt).toISOString(),
    result: scan.summary.result,
    devices: { ...scan.summary.devices },
    certificates,
    changes: scan.events,
    errors: [
      ...scan.inventoryProblems.map((problem) => ({
        ...labels({ orgId: problem.orgId ?? '' }),
        reason: problem.reason,
        message: problem.message,
        lastAnswerAt: null,
      })),
      ...scan.outcomes
        .filter((outcome) => outcome.query === 'error')
        .map((outcome) => ({
          ...labels(outcome.device),
          reason: outcome.reason ?? 'internal_error',
          message: outcome.message ?? '',
          lastAnswerAt: outcome.lastAnswerAt === undefined ? null : new Date(outcome.lastAnswerAt).toISOString(),
        })),
    ],
  };
}

/** One certificate as `scan --format json` (and the status API) shows it. */
export function reportCertificate(record: DeviceRecord, { cert, state, superseded, daysLeft }: AssessedCertificate): ReportCertificate {
  return {
    ...labels(record.device),
    certSN: cert.certSN,
    status: cert.status,
    notBefore: cert.notBefore === null ? null : new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    daysLeft,
    state,
    superseded,
  };
}

function labels(device: DeviceRecord['device']): DeviceLabels {
  return {
    orgId: device.orgId,
    assetId: device.assetId ?? '',
    productKey: device.productKey ?? '',
    deviceKey: device.deviceKey ?? '',
  };
}

export type FailOn = 'never' | 'warning' | 'critical';

const SEVERITY: Partial<Record<CertificateState, FailOn>> = { warning: 'warning', critical: 'critical', expired: 'critical' };

/**
 * The highest alert severity the report implies: expiring/expired certificates that are not
 * superseded, and revocations seen in this scan (warning).
 */
export function reachedLevel(report: JsonReport): FailOn {
  let level: FailOn = report.changes.some((c) => c.type === 'revoked') ? 'warning' : 'never';
  for (const cert of report.certificates) {
    if (cert.superseded) continue;
    const severity = SEVERITY[cert.state];
    if (severity === 'critical') return 'critical';
    if (severity === 'warning') level = 'warning';
  }
  return level;
}

export function failOnReached(failOn: FailOn, level: FailOn): boolean {
  if (failOn === 'never' || level === 'never') return false;
  return failOn === 'warning' || level === 'critical';
}

/** `scan --format table`: certificates, changes, errors and a summary, for people. */
export function formatTable(report: JsonReport): string {
  const sections = [
    table(
      ['DEVICE', 'CERT SN', 'STATUS', 'STATE', 'NOT AFTER', 'DAYS LEFT', 'SUPERSEDED'],
      report.certificates.map((c) => [deviceId(c), c.certSN, c.status, c.state, c.notAfter, String(c.daysLeft), c.superseded ? 'yes' : '']),
    ),
  ];
  if (report.changes.length > 0) {
    sections.push(table(['CHANGE', 'DEVICE', 'CERT SN', 'FROM', 'TO', 'AT'], report.changes.map((c) => [c.type, deviceId(c), c.certSN, c.from ?? '', c.to ?? '', c.at])));
  }
  if (report.errors.length > 0) {
    sections.push(
      table(
        ['FAILED DEVICE', 'REASON', 'LAST ANSWER', 'MESSAGE'],
        report.errors.map((e) => [deviceId(e), e.reason, e.lastAnswerAt ?? '-', e.message]),
      ),
    );
  }
  const d = report.devices;
  sections.push(
    `scan ${report.result}: ${d.total} devices (${d.ok} ok, ${d.notFound} not found, ${d.failed} failed), ` +
      `${report.certificates.length} certificates, ${report.changes.length} changes, ${report.startedAt} → ${report.finishedAt}`,
  );
  return `${sections.join('\n\n')}\n`;
}

export function table(header: readonly string[], untrustedRows: readonly (readonly string[])[]): string {
  // Cells carry API data: a control character must not break the layout or the terminal.
  const rows = untrustedRows.map((row) => row.map(singleLine));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
