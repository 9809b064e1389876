import { DAY_MS, stateAt } from '../domain/certificate.js';
import type { CertificateState, DeviceState, Thresholds } from '../domain/types.js';
import { QUERY_RESULTS, STATUSES, type IndexView } from './certificate-index.js';

export const CERTIFICATE_STATES: readonly CertificateState[] = ['ok', 'warning', 'critical', 'expired', 'revoked'];
export const ACTION_STATES: readonly CertificateState[] = ['warning', 'critical', 'expired', 'revoked'];
export const DEVICE_STATES: readonly DeviceState[] = [
  'ok',
  'warning',
  'critical',
  'no_valid_certificate',
  'no_certificate',
  'not_found',
  'error',
];

export const FORECAST_WEEKS = 26;
const WEEK_MS = 7 * DAY_MS;

/** Which certificates a list shows. */
export interface CertificateFilter {
  readonly org?: string;
  /** Empty: every state. */
  readonly states: readonly CertificateState[];
  /** Leave out superseded certificates (they need no action: the device was renewed). */
  readonly withoutSuperseded: boolean;
  readonly offset: number;
  readonly limit: number;
}

/** One listed certificate: where it is in the fleet view. */
export interface Picked {
  readonly deviceId: string;
  readonly position: number;
}

export interface Selection {
  /** How many certificates match the filter. */
  readonly total: number;
  /** The matching ones from offset, at most limit, by notAfter. */
  readonly picked: readonly Picked[];
}

export interface StateCounts {
  readonly certificates: Record<CertificateState, number>;
  readonly devices: Record<DeviceState, number>;
}

export interface Forecast {
  /** Not superseded, expired (status or date). */
  readonly overdue: number;
  /** Valid, not superseded, notAfter in week i from now (i = 0 … FORECAST_WEEKS−1). */
  readonly weeks: readonly number[];
}

/**
 * Reads of the ordered index at one instant. States are derived here, from status and notAfter;
 * a certificate is superseded when its device's latest valid certificate ends later and is in
 * state ok (the definition in domain/certificate.ts, expressed on what the index keeps).
 */
export class FleetSummary {
  readonly #view: IndexView;
  readonly #now: number;
  readonly #thresholds: Thresholds;

  constructor(view: IndexView, now: number, thresholds: Thresholds) {
    this.#view = view;
    this.#now = now;
    this.#thresholds = thresholds;
  }

  /** Organisations with at least one device, sorted. */
  orgs(): string[] {
    const { deviceIds, org, orgNames } = this.#view;
    const present = new Set<number>();
    deviceIds.forEach((id, slot) => {
      if (id !== undefined) present.add(org[slot]!);
    });
    return [...present].map((number) => orgNames[number]!).sort();
  }

  select(filter: CertificateFilter): Selection {
    const view = this.#view;
    const org = this.#orgFilter(filter.org);
    const wanted = new Set(filter.states);
    const picked: Picked[] = [];
    let total = 0;
    if (org === null) return { total, picked };
    for (let index = 0; index < view.size; index++) {
      const slot = view.slot[index]!;
      if (org !== undefined && view.org[slot] !== org) continue;
      if (wanted.size > 0 && !wanted.has(this.#state(index))) continue;
      if (filter.withoutSuperseded && this.#superseded(index)) continue;
      if (total >= filter.offset && picked.length < filter.limit) {
        picked.push({ deviceId: view.deviceIds[slot]!, position: view.position[index]! });
      }
      total++;
    }
    return { total, picked };
  }

  counts(orgId?: string): StateCounts {
    const view = this.#view;
    const org = this.#orgFilter(orgId);
    const certificates = zeros(CERTIFICATE_STATES);
    const devices = zeros(DEVICE_STATES);
    if (org === null) return { certificates, devices };
    for (let index = 0; index < view.size; index++) {
      if (org === undefined || view.org[view.slot[index]!] === org) certificates[this.#state(index)]++;
    }
    view.deviceIds.forEach((id, slot) => {
      if (id !== undefined && (org === undefined || view.org[slot] === org)) devices[this.#deviceState(slot)]++;
    });
    return { certificates, devices };
  }

  forecast(orgId?: string): Forecast {
    const view = this.#view;
    const org = this.#orgFilter(orgId);
    const weeks: number[] = new Array<number>(FORECAST_WEEKS).fill(0);
    let overdue = 0;
    if (org === null) return { overdue, weeks };
    // The whole fleet: a certificate the gateway marked expired may have any notAfter.
    for (let index = 0; index < view.size; index++) {
      if (org !== undefined && view.org[view.slot[index]!] !== org) continue;
      const state = this.#state(index);
      if (state === 'revoked' || this.#superseded(index)) continue;
      if (state === 'expired') overdue++;
      else {
        const week = Math.floor((view.notAfter[index]! - this.#now) / WEEK_MS);
        if (week < FORECAST_WEEKS) weeks[week]!++;
      }
    }
    return { overdue, weeks };
  }

  /** undefined: every org; null: an org with no device (nothing matches). */
  #orgFilter(orgId: string | undefined): number | undefined | null {
    if (orgId === undefined) return undefined;
    return this.#view.orgNumber(orgId) ?? null;
  }

  #state(index: number): CertificateState {
    return stateAt(STATUSES[this.#view.status[index]!]!, this.#view.notAfter[index]!, this.#now, this.#thresholds);
  }

  #superseded(index: number): boolean {
    const latest = this.#view.latestValid[this.#view.slot[index]!]!;
    return latest > this.#view.notAfter[index]! && this.#healthy(latest);
  }

  /** A valid certificate ending at notAfter is in state ok now. */
  #healthy(notAfter: number): boolean {
    return stateAt('valid', notAfter, this.#now, this.#thresholds) === 'ok';
  }

  /** The best state among its ok/warning/critical certificates: its latest valid one's. */
  #deviceState(slot: number): DeviceState {
    const view = this.#view;
    const query = QUERY_RESULTS[view.query[slot]!]!;
    if (query !== 'ok') return query;
    if (view.certificateCount[slot] === 0) return 'no_certificate';
    const latest = view.latestValid[slot]!;
    if (latest === -Infinity) return 'no_valid_certificate';
    const state = stateAt('valid', latest, this.#now, this.#thresholds);
    return state === 'expired' ? 'no_valid_certificate' : (state as DeviceState);
  }
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
