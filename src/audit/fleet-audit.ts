import type { Certificate, CertificateState } from '../domain/types.js';
import type { FleetView } from '../state/fleet-view.js';
import { findingBits, findingNames, isAudited, type AuditConfig, type Finding } from './findings.js';
import { SharedIndex } from './shared-index.js';

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

  /** As findings(), as a bit set (see findingBits). */
  bits(cert: Certificate, state: CertificateState, now: number): number {
    if (!isAudited(state)) return 0;
    return findingBits(cert, this.#shared.isShared(cert), now, this.config);
  }
}
