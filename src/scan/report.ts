import type { AuditFields, FleetAudit } from '../audit/fleet-audit.js';
import { deviceId } from '../domain/device-id.js';
import { assessCertificates, type AssessedCertificate } from '../domain/certificate.js';
import type { CertificateState, ChangeEvent, Thresholds } from '../domain/types.js';
import type { DeviceRecord } from '../state/fleet-view.js';
import type { ScanReport, SourceProblem } from './scanner.js';
import type { DeviceOutcome } from './types.js';

/** `scan --format json`: the contract's report object. */
export interface JsonReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: string;
  readonly devices: { total: number; ok: number; notFound: number; failed: number };
  readonly certificates: readonly ReportCertificate[];
  readonly changes: readonly ChangeEvent[];
  /** Devices not found, devices whose query failed, and inventory sources that could not be read. */
  readonly errors: readonly ReportError[];
  /** Sources read in full that look wrong, e.g. a discovery that found no device. */
  readonly warnings: readonly ReportWarning[];
  /** Devices that answered with no certificate at all. */
  readonly devicesWithoutCertificates: readonly DeviceLabels[];
}

export interface DeviceLabels {
  readonly orgId: string;
  readonly assetId: string;
  readonly productKey: string;
  readonly deviceKey: string;
}

export interface ReportCertificate extends DeviceLabels, Partial<Omit<AuditFields, 'findings'>> {
  /** Audit findings (names from FINDINGS). */
  readonly findings?: readonly string[];
  readonly certSN: string;
  readonly status: string;
  readonly notBefore: string | null;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly state: CertificateState;
  readonly superseded: boolean;
}

/** `source`: `device` for a device's query (not found or failed), else the inventory source. */
export interface ReportError extends DeviceLabels {
  readonly source: string;
  readonly file?: string;
  readonly reason: string;
  readonly message: string;
  /** The device's last good answer (ISO 8601): it has been failing since; null when it never answered or unknown. */
  readonly lastAnswerAt: string | null;
}

export interface ReportWarning {
  readonly source: string;
  readonly orgId: string;
  readonly reason: string;
  readonly message: string;
}

export function buildReport(
  scan: ScanReport,
  records: Iterable<DeviceRecord>,
  now: number,
  thresholds: Thresholds,
  audit?: FleetAudit,
): JsonReport {
  const certificates: ReportCertificate[] = [];
  const devicesWithoutCertificates: DeviceLabels[] = [];
  for (const record of records) {
    if (record.certificates.length === 0 && record.query === 'ok') devicesWithoutCertificates.push(labels(record.device));
    for (const assessed of assessCertificates(record.certificates, now, thresholds)) {
      certificates.push(reportCertificate(record, assessed, audit?.fields(assessed.cert, assessed.state, now)));
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
      ...scan.inventoryProblems.filter((problem) => !problem.warning).map(sourceError),
      ...scan.deviceProblems.map(deviceError),
    ],
    warnings: scan.inventoryProblems
      .filter((problem) => problem.warning)
      .map((problem) => ({ source: problem.source ?? 'inventory', orgId: problem.orgId ?? '', reason: problem.reason, message: problem.message })),
    devicesWithoutCertificates,
  };
}

function sourceError(problem: SourceProblem): ReportError {
  return {
    ...labels({ orgId: problem.orgId ?? '' }),
    source: problem.source ?? 'inventory',
    ...(problem.file !== undefined ? { file: problem.file } : {}),
    reason: problem.reason,
    message: problem.message,
    lastAnswerAt: null,
  };
}

/** A device that was not found or whose query failed (the message says what to check). */
function deviceError(outcome: DeviceOutcome): ReportError {
  return {
    ...labels(outcome.device),
    source: 'device',
    reason: outcome.reason ?? 'internal_error',
    message: outcome.message ?? '',
    lastAnswerAt: outcome.lastAnswerAt === undefined ? null : new Date(outcome.lastAnswerAt).toISOString(),
  };
}

/** One certificate as `scan --format json` (and the status API) shows it; `audit` from FleetAudit.fields(). */
export function reportCertificate(
  record: DeviceRecord,
  { cert, state, superseded, daysLeft }: AssessedCertificate,
  audit?: AuditFields,
): ReportCertificate {
  return {
    ...labels(record.device),
    certSN: cert.certSN,
    status: cert.status,
    notBefore: cert.notBefore === null ? null : new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    daysLeft,
    state,
    superseded,
    ...audit,
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

/**
 * What reached the `--fail-on` level, one line each: the certificates (not superseded) at or above
 * it, soonest first, and for `warning` the revocations seen in this scan.
 */
export function failOnCauses(report: JsonReport, failOn: FailOn): string[] {
  if (failOn === 'never') return [];
  const certificates = report.certificates
    .filter((cert) => !cert.superseded && SEVERITY[cert.state] !== undefined && failOnReached(failOn, SEVERITY[cert.state]!))
    .sort((a, b) => a.notAfter.localeCompare(b.notAfter));
  const causes = certificates.map(
    (cert) => `${deviceId(cert)} cert ${cert.certSN}: ${cert.state}, notAfter ${cert.notAfter} (${cert.daysLeft} days left)`,
  );
  if (failOn === 'warning') {
    for (const change of report.changes) if (change.type === 'revoked') causes.push(`${deviceId(change)} cert ${change.certSN}: revoked in this scan`);
  }
  return causes;
}
