import type { Certificate, CertificateState } from '../domain/types.js';
import type { FleetView } from '../state/fleet-view.js';
import { findingBits, findingNames, isAudited, type AuditConfig, type Finding } from './findings.js';
import { SharedIndex } from './shared-index.js';

/** The audit's part of a certificate in reports: findings, and what its PEM said when it was read. */
export interface AuditFields {
  readonly findings: readonly Finding[];
  readonly keyAlgorithm?: string;
  readonly keyBits?: number | null;
  readonly signatureAlgorithm?: string;
  readonly fingerprintSha256?: string;
}

export const DEFAULT_AUDIT_CONFIG: AuditConfig = Object.freeze({
  minRsaBits: 2048,
  minEcBits: 256,
  maxAgeDays: 0,
  dateToleranceSeconds: 86_400,
});

/**
 * The audit of the whole fleet: follows the FleetView, so `shared` (a fleet-wide finding) is
 * always current, and answers a certificate's findings for the report, the metrics and the
 * status page.
 */
export class FleetAudit {
  readonly #shared = new SharedIndex();
  #version = 0;

  constructor(
    fleet: FleetView,
    readonly config: AuditConfig = DEFAULT_AUDIT_CONFIG,
  ) {
    for (const record of fleet.records()) this.#shared.update(record.id, [], record.certificates);
    fleet.onChange((id, record, previous) => {
      this.#shared.update(id, previous?.certificates ?? [], record?.certificates ?? []);
      this.#version++;
    });
  }

  /** Moves whenever the fleet changed: findings computed before may be out of date. */
  get version(): number {
    return this.#version;
  }

  /** The findings of a certificate of the fleet, in FINDINGS order; none for a state that is not audited. */
  findings(cert: Certificate, state: CertificateState, now: number): Finding[] {
    return findingNames(this.bits(cert, state, now));
  }

  /** A certificate's audit as `scan --format json` and the status API show it. */
  fields(cert: Certificate, state: CertificateState, now: number): AuditFields {
    const findings = this.findings(cert, state, now);
    const { pem } = cert;
    if (typeof pem !== 'object') return { findings };
    const { keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256 } = pem;
    return { findings, keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256 };
  }

  /**
   * Whether a certificate of the device has a finding in the states that are audited (their own
   * states aside): cheap enough for a pass over the whole fleet.
   */
  mayHaveFindings(id: string, certificates: readonly Certificate[], now: number): boolean {
    if (this.#shared.holdsShared(id)) return true;
    return certificates.some((cert) => findingBits(cert, false, now, this.config) !== 0);
  }

  /** As findings(), as a bit set (see findingBits). */
  bits(cert: Certificate, state: CertificateState, now: number): number {
    if (!isAudited(state)) return 0;
    return findingBits(cert, this.#shared.isShared(cert), now, this.config);
  }
}
