import { deviceId } from '../domain/device-id.js';
import type { ReportCertificate } from '../scan/report.js';
import { FINDINGS, unknownFindings, type Finding } from './findings.js';

/** Certificates named per finding before the rest is summed up. */
const NAMED_PER_FINDING = 5;

/** `--fail-on-finding NAME,…`: the finding names; throws (a usage error) on a name that is not a finding. */
export function parseFindingList(flag: string, value: string): Finding[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = unknownFindings(names);
  if (unknown.length > 0) throw new Error(`${flag}: unknown finding ${unknown.map((name) => `"${name}"`).join(', ')}; one of: ${FINDINGS.join(', ')}`);
  return names as Finding[];
}

/**
 * One line per named finding that some certificate has, naming the first few certificates;
 * empty when none has any (the gate passes).
 */
export function trippedFindings(certificates: readonly ReportCertificate[], names: readonly Finding[]): string[] {
  return names.flatMap((finding) => {
    const hits = certificates.filter((cert) => cert.findings?.includes(finding));
    if (hits.length === 0) return [];
    const named = hits.slice(0, NAMED_PER_FINDING).map((cert) => `${deviceId(cert)} ${cert.certSN}`);
    const more = hits.length > NAMED_PER_FINDING ? ` and ${hits.length - NAMED_PER_FINDING} more` : '';
    return [`finding ${finding} on ${hits.length} certificate${hits.length === 1 ? '' : 's'}: ${named.join(', ')}${more}`];
  });
}
