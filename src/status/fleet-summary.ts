import { DAY_MS } from '../domain/certificate.js';
import { CERTIFICATE_STATES, DEVICE_STATES, type CertificateState, type DeviceState, type Thresholds } from '../domain/types.js';
import { QUERY_RESULTS, STATUSES, type IndexView } from './certificate-index.js';

export const ACTION_STATES: readonly CertificateState[] = ['warning', 'critical', 'expired', 'revoked'];

/** A state's code in this module is its index in CERTIFICATE_STATES. */
const [OK, WARNING, CRITICAL, EXPIRED, REVOKED] = [0, 1, 2, 3, 4];
const STATUS_REVOKED = STATUSES.indexOf('revoked');
const STATUS_EXPIRED = STATUSES.indexOf('expired');

export const FORECAST_WEEKS = 26;
const WEEK_MS = 7 * DAY_MS;

/** Which certificates a list shows. */
export interface CertificateFilter {
  readonly org?: string | undefined;
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

/** Everything the status page shows of the index, from one pass over it. */
export interface Overview {
  readonly selection: Selection;
  readonly counts: StateCounts;
  readonly forecast: Forecast;
}

/**
 * Reads of the ordered index at one instant, each one pass over typed columns. States are the
 * domain's (domain/certificate.ts), derived here from status and notAfter with the instant's
 * boundaries precomputed; a certificate is superseded when its device's latest valid certificate
 * ends later and is in state ok. The unit tests hold both to the domain functions.
 */
export class FleetSummary {
  readonly #view: IndexView;
  readonly #now: number;
  /** A valid certificate ending after this is ok; after #criticalAt, warning; after now, critical. */
  readonly #warningAt: number;
  readonly #criticalAt: number;

  constructor(view: IndexView, now: number, thresholds: Thresholds) {
    this.#view = view;
    this.#now = now;
    this.#warningAt = now + thresholds.warningDays * DAY_MS;
    this.#criticalAt = now + thresholds.criticalDays * DAY_MS;
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
    return this.#pass(filter, false).selection;
  }

  /** The selection, the counts and the forecast for the filter's org. */
  overview(filter: CertificateFilter): Overview {
    return this.#pass(filter, true);
  }

  counts(orgId?: string): StateCounts {
    return this.#pass({ org: orgId, states: [], withoutSuperseded: false, offset: 0, limit: 0 }, true).counts;
  }

  forecast(orgId?: string): Forecast {
    return this.#pass({ org: orgId, states: [], withoutSuperseded: false, offset: 0, limit: 0 }, true).forecast;
  }

  #pass(filter: CertificateFilter, full: boolean): Overview {
    const { size, notAfter, slot, position, status, org: orgOf, latestValid, deviceIds } = this.#view;
    const now = this.#now;
    const warningAt = this.#warningAt;
    const criticalAt = this.#criticalAt;
    const org = this.#orgFilter(filter.org);
    const wanted = CERTIFICATE_STATES.map((state) => filter.states.length === 0 || filter.states.includes(state));
    const stateCounts = [0, 0, 0, 0, 0];
    const weeks: number[] = new Array<number>(FORECAST_WEEKS).fill(0);
    let overdue = 0;
    const picked: Picked[] = [];
    let total = 0;
    for (let index = 0; index < size && org !== null; index++) {
      const device = slot[index]!;
      if (org !== undefined && orgOf[device] !== org) continue;
      const ends = notAfter[index]!;
      const code = status[index]!;
      const state = code === STATUS_REVOKED ? REVOKED : code === STATUS_EXPIRED || ends <= now ? EXPIRED : ends <= criticalAt ? CRITICAL : ends <= warningAt ? WARNING : OK;
      const latest = latestValid[device]!;
      const superseded = latest > ends && latest > warningAt;
      if (full) {
        stateCounts[state]!++;
        if (!superseded && state === EXPIRED) overdue++;
        else if (!superseded && state !== REVOKED) {
          const week = Math.floor((ends - now) / WEEK_MS);
          if (week < FORECAST_WEEKS) weeks[week]!++;
        }
      }
      if (!wanted[state] || (superseded && filter.withoutSuperseded)) continue;
      if (total >= filter.offset && picked.length < filter.limit) picked.push({ deviceId: deviceIds[device]!, position: position[index]! });
      total++;
    }
    const certificates = Object.fromEntries(CERTIFICATE_STATES.map((state, code) => [state, stateCounts[code]!])) as Record<CertificateState, number>;
    return {
      selection: { total, picked },
      counts: { certificates, devices: full ? this.#deviceCounts(org) : zeros(DEVICE_STATES) },
      forecast: { overdue, weeks },
    };
  }

  #deviceCounts(org: number | undefined | null): Record<DeviceState, number> {
    const { deviceIds, org: orgOf, query, certificateCount, latestValid } = this.#view;
    const devices = zeros(DEVICE_STATES);
    if (org === null) return devices;
    for (let slot = 0; slot < deviceIds.length; slot++) {
      if (deviceIds[slot] === undefined || (org !== undefined && orgOf[slot] !== org)) continue;
      devices[this.#deviceState(query[slot]!, certificateCount[slot]!, latestValid[slot]!)]++;
    }
    return devices;
  }

  /** The best state among its ok/warning/critical certificates: its latest valid one's. */
  #deviceState(query: number, certificates: number, latest: number): DeviceState {
    // not_found and error are device states of the same name.
    if (QUERY_RESULTS[query] !== 'ok') return QUERY_RESULTS[query] as DeviceState;
    if (certificates === 0) return 'no_certificate';
    if (latest <= this.#now) return 'no_valid_certificate';
    return latest <= this.#criticalAt ? 'critical' : latest <= this.#warningAt ? 'warning' : 'ok';
  }

  /** undefined: every org; null: an org with no device (nothing matches). */
  #orgFilter(orgId: string | undefined): number | undefined | null {
    if (orgId === undefined) return undefined;
    return this.#view.orgNumber(orgId) ?? null;
  }
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
