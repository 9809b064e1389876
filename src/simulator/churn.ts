import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Fleet } from './fleet.js';
import type { RawCertificate, SimDevice } from './generate.js';

const DAY = 86_400_000;
/** A certificate the churn adds as "expiring" ends this long after it was added. */
export const CHURN_EXPIRING_AFTER_MS = 3 * 60_000;
/** Renewals pick a certificate ending within this many days (warning/critical by default thresholds). */
const RENEW_WITHIN_DAYS = 30;
const RENEWED_VALID_DAYS = 365;

export type ChurnAction = 'revoke' | 'renew' | 'expiring';
const ROTATION: readonly ChurnAction[] = ['revoke', 'renew', 'expiring'];

/** What one step changed, for logs and tests. */
export interface ChurnChange {
  readonly action: ChurnAction | 'expire';
  readonly assetId: string;
  readonly certSN: string;
}

/**
 * Makes the simulated world move so that a demo shows change events and alerts: every step
 * revokes a healthy certificate, renews one that is about to expire, or adds one that expires a
 * few minutes later, in turn; and marks the added ones expired (certStatus 2) once their time is up.
 */
export class Churn {
  readonly #fleet: Fleet;
  readonly #clock: Clock;
  readonly #log: Logger;
  #step = 0;
  #cursor = 0;
  readonly #expiring = new Map<string, { readonly device: SimDevice; readonly expireDate: number }>();

  constructor(fleet: Fleet, deps: { readonly clock: Clock; readonly log: Logger }) {
    this.#fleet = fleet;
    this.#clock = deps.clock;
    this.#log = deps.log;
  }

  /** One step: the due expiries, then the next action of the rotation (skipped if no device fits). */
  step(): ChurnChange[] {
    const changes = this.#expireDue();
    const action = ROTATION[this.#step++ % ROTATION.length]!;
    const change = this.#apply(action);
    if (change !== undefined) changes.push(change);
    for (const { action: what, assetId, certSN } of changes) this.#log.info({ action: what, assetId, certSN }, 'simulated certificate change');
    return changes;
  }

  #apply(action: ChurnAction): ChurnChange | undefined {
    const now = this.#clock.now();
    if (action === 'revoke') {
      return this.#pick((cert) => cert.certStatus === 0 && Number(cert.expireDate) > now + RENEW_WITHIN_DAYS * DAY, (device, certSN) => {
        this.#fleet.revoke(device, certSN, 'IoT_Hub', 'KEY COMPROMISE');
        return { action, assetId: device.assetId, certSN };
      });
    }
    if (action === 'renew') {
      return this.#pick(
        (cert) => cert.certStatus === 0 && Number(cert.expireDate) > now && Number(cert.expireDate) <= now + RENEW_WITHIN_DAYS * DAY,
        (device, certSN) => {
          this.#fleet.renew(device, certSN, RENEWED_VALID_DAYS);
          return { action, assetId: device.assetId, certSN };
        },
      );
    }
    const device = this.#nextDevice();
    if (device === undefined) return undefined;
    const expireDate = now + CHURN_EXPIRING_AFTER_MS;
    const certSN = this.#fleet.addCertificate(device, { effectiveDate: now - DAY, expireDate });
    this.#expiring.set(certSN, { device, expireDate });
    return { action, assetId: device.assetId, certSN };
  }

  /** The gateway marks an ended certificate expired: do so for the ones this churn added. */
  #expireDue(): ChurnChange[] {
    const now = this.#clock.now();
    const changes: ChurnChange[] = [];
    for (const [certSN, { device, expireDate }] of this.#expiring) {
      if (expireDate > now) continue;
      this.#expiring.delete(certSN);
      if (this.#fleet.find(device) === undefined) continue;
      this.#fleet.expire(device, certSN);
      changes.push({ action: 'expire', assetId: device.assetId, certSN });
    }
    return changes;
  }

  /** The first certificate, from the cursor on, that `fits`; `change` is applied to it. */
  #pick(fits: (cert: RawCertificate) => boolean, change: (device: SimDevice, certSN: string) => ChurnChange): ChurnChange | undefined {
    for (let tried = 0; tried < this.#fleet.size; tried++) {
      const device = this.#nextDevice();
      if (device === undefined) return undefined;
      const cert = this.#fleet.certificates(device)?.find(fits);
      if (cert !== undefined) return change(device, String(cert.certSN));
    }
    return undefined;
  }

  /** Devices in turn, so changes spread over the fleet. */
  #nextDevice(): SimDevice | undefined {
    const size = this.#fleet.size;
    if (size === 0) return undefined;
    for (let tried = 0; tried < size * 2; tried++) {
      this.#cursor = (this.#cursor % size) + 1;
      const device = this.#fleet.device(this.#cursor);
      if (device !== undefined) return device;
    }
    return undefined;
  }
}
