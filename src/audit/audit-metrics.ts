import { Gauge, type Registry } from 'prom-client';
import { assessCertificates } from '../domain/certificate.js';
import type { Certificate, Thresholds } from '../domain/types.js';
import { deviceLabels } from '../metrics/certificate-lines.js';
import type { PerCertificateMode } from '../metrics/fleet-series.js';
import { gzipMember } from '../metrics/gzip-members.js';
import { cleanLabelValue, labelValue } from '../metrics/label-value.js';
import { nextStateChange } from '../metrics/state-boundary.js';
import type { FleetView } from '../state/fleet-view.js';
import type { FleetAudit } from './fleet-audit.js';
import { ageBoundary, FINDINGS, hasFinding } from './findings.js';

const FINDING_FAMILY = 'enos_certificate_finding';
const FINDING_HEADER =
  `# HELP ${FINDING_FAMILY} An audit finding on a certificate in state ok, warning or critical; always 1.\n` + `# TYPE ${FINDING_FAMILY} gauge\n`;

/** The fleet's findings at one instant; valid until the fleet changes or `validUntil`. */
interface Tally {
  readonly version: number;
  readonly validUntil: number;
  /** Per org label value: certificates per finding (FINDINGS order). */
  readonly findings: ReadonlyMap<string, readonly number[]>;
  readonly series: Buffer;
  /** The series as one gzip member, made on the first gzip scrape. */
  gzipped?: Promise<Buffer>;
}

/** The per-certificate family of one scrape, in either encoding. */
export interface AuditExposition {
  plain(): Buffer[];
  gzip(): Promise<Buffer[]>;
}

export interface AuditMetricsOptions {
  readonly fleet: FleetView;
  readonly audit: FleetAudit;
  readonly mode: PerCertificateMode;
  readonly thresholds: Thresholds;
  readonly now: () => number;
}

/**
 * `enos_certificate_findings` (registered as a gauge) and the per-certificate
 * `enos_certificate_finding` family. One pass over the fleet computes both; it is kept until the
 * fleet changes or time reaches the next instant at which a state or the age finding moves, so
 * scrapes between scans cost nothing.
 */
export class AuditMetrics {
  readonly #options: AuditMetricsOptions;
  #tally: Tally | undefined;

  constructor(registry: Registry, options: AuditMetricsOptions) {
    this.#options = options;
    const tally = () => this.#current();
    new Gauge({
      name: 'enos_certificate_findings',
      help: `Certificates in state ok, warning or critical per audit finding (${FINDINGS.join(', ')}).`,
      labelNames: ['org_id', 'finding'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [org, counts] of tally().findings) FINDINGS.forEach((finding, index) => this.set({ org_id: org, finding }, counts[index]!));
      },
    });
  }

  /** The per-certificate family as exposition chunks; none when `metrics.perCertificate` is none. */
  exposition(): AuditExposition {
    if (this.#options.mode === 'none') return { plain: () => [], gzip: async () => [] };
    const tally = this.#current();
    return {
      plain: () => [tally.series],
      gzip: async () => [await (tally.gzipped ??= gzipMember(tally.series))],
    };
  }

  #current(): Tally {
    const now = this.#options.now();
    const tally = this.#tally;
    if (tally !== undefined && tally.version === this.#options.audit.version && now < tally.validUntil) return tally;
    this.#tally = this.#count(now);
    return this.#tally;
  }

  #count(now: number): Tally {
    const { fleet, audit, mode, thresholds } = this.#options;
    const findings = new Map<string, number[]>();
    const lines: string[] = [FINDING_HEADER];
    // Distinct certificates may read alike once cleaned and capped: one series each, the first wins.
    const shown = new Set<string>();
    let validUntil = Infinity;
    const cleanOrgs = new Map<string, string>();
    for (const record of fleet.records()) {
      const { orgId } = record.device;
      let org = cleanOrgs.get(orgId);
      if (org === undefined) cleanOrgs.set(orgId, (org = cleanLabelValue(orgId)));
      let orgFindings = findings.get(org);
      if (orgFindings === undefined) findings.set(org, (orgFindings = FINDINGS.map(() => 0)));
      // Most devices have no finding in any state: their states need not be assessed, only the
      // instant one of their certificates gets too old watched.
      if (!audit.mayHaveFindings(record.id, record.certificates, now)) {
        for (const cert of record.certificates) validUntil = Math.min(validUntil, nextAgeChange(cert, now, audit));
        continue;
      }
      let labels: string | undefined;
      for (const { cert, state } of assessCertificates(record.certificates, now, thresholds)) {
        validUntil = Math.min(validUntil, nextStateChange(cert, now, thresholds), nextAgeChange(cert, now, audit));
        const bits = audit.bits(cert, state, now);
        if (bits === 0) continue;
        // `expiring` shows certificates in warning or critical state, the audited ones it shows.
        const showSeries = mode === 'all' || (mode === 'expiring' && state !== 'ok');
        if (showSeries) labels ??= `${deviceLabels(record.device)},cert_sn="`;
        FINDINGS.forEach((finding, index) => {
          if (!hasFinding(bits, finding)) return;
          orgFindings[index]!++;
          if (!showSeries) return;
          const series = `${labels}${labelValue(cert.certSN)}",finding="${finding}"`;
          if (shown.has(series)) return;
          shown.add(series);
          lines.push(FINDING_FAMILY, '{', series, '} 1\n');
        });
      }
    }
    return { version: audit.version, validUntil, findings, series: Buffer.from(lines.join('')) };
  }
}

function nextAgeChange(cert: Certificate, now: number, audit: FleetAudit): number {
  const boundary = ageBoundary(cert, audit.config);
  return boundary !== undefined && boundary > now ? boundary : Infinity;
}
