import { assessCertificates, DAY_MS, type AssessedCertificate } from '../domain/certificate.js';
import { deviceId, describeDevice } from '../domain/device-id.js';
import type { Certificate, ChangeEvent, DeviceRef, Thresholds } from '../domain/types.js';
import type { DeviceRecord } from '../state/fleet-view.js';
import { withPauses } from '../util/pauses.js';
import { alertKey, type LabelSet } from './labels.js';

export const EXPIRING = 'EnosCertificateExpiring';
export const EXPIRED = 'EnosCertificateExpired';
export const REVOKED = 'EnosCertificateRevoked';
export type AlertName = typeof EXPIRING | typeof EXPIRED | typeof REVOKED;
export type Severity = 'warning' | 'critical';

/** Every alertname/severity pair this module can raise (so a gauge can report zeros). */
export const ALERT_KINDS: ReadonlyArray<{ readonly alertname: AlertName; readonly severity: Severity }> = [
  { alertname: EXPIRING, severity: 'warning' },
  { alertname: EXPIRING, severity: 'critical' },
  { alertname: EXPIRED, severity: 'critical' },
  { alertname: REVOKED, severity: 'warning' },
];

export const RUNBOOK_BASE_URL = 'https://github.com/enos-cert-monitor/enos-cert-monitor#runbook-';
/** One string per alertname, shared by every alert of it. */
const RUNBOOK_URLS: Readonly<Record<AlertName, string>> = {
  [EXPIRING]: `${RUNBOOK_BASE_URL}${EXPIRING.toLowerCase()}`,
  [EXPIRED]: `${RUNBOOK_BASE_URL}${EXPIRED.toLowerCase()}`,
  [REVOKED]: `${RUNBOOK_BASE_URL}${REVOKED.toLowerCase()}`,
};

/** What an alert says. */
export interface AlertContent {
  readonly labels: LabelSet;
  readonly annotations: LabelSet;
}

/** An alert that should be firing now. */
export interface DesiredAlert extends AlertContent {
  readonly key: string;
  /** When the condition began, where known (a revocation's event time); otherwise the first evaluation that saw it. */
  readonly since?: number;
}

/**
 * Annotations are written out each time they are read (sent, stored), from the few values they
 * say, held as fields: a fleet's firing alerts would otherwise hold a description of some hundred
 * bytes each (or a closure and its context, another 120 bytes).
 */
abstract class Alert implements DesiredAlert {
  constructor(
    readonly key: string,
    readonly labels: LabelSet,
    readonly since?: number,
  ) {}

  protected abstract annotate(): Record<string, string>;

  get annotations(): LabelSet {
    return { ...this.annotate(), runbook_url: RUNBOOK_URLS[this.labels.alertname as AlertName] };
  }
}

/** EnosCertificateExpiring or EnosCertificateExpired. */
class ExpiryAlert extends Alert {
  readonly #device: DeviceRef;
  readonly #cert: Certificate;
  readonly #daysLeft: number;

  constructor({ key, labels }: AlertIdentity, device: DeviceRef, { cert, daysLeft }: AssessedCertificate) {
    super(key, labels);
    this.#device = device;
    this.#cert = cert;
    this.#daysLeft = daysLeft;
  }

  protected annotate(): Record<string, string> {
    const cert = this.#cert;
    const device = describeDevice(this.#device);
    const notAfter = rfc3339(cert.notAfter);
    const certificate = `The certificate ${cert.certSN} of device ${device} (subject ${cert.subject}, issuer ${cert.issuer})`;
    const expired = this.labels.alertname === EXPIRED;
    return {
      summary: `Certificate ${cert.certSN} of device ${device} ${expired ? 'has expired' : `expires ${inDays(this.#daysLeft)}`}`,
      description: expired
        ? `${certificate} expired at ${notAfter} and no newer valid certificate replaces it: the device can no longer authenticate with it.`
        : `${certificate} is valid until ${notAfter} and no newer valid certificate replaces it. Issue a new certificate to the device before then.`,
      not_after: notAfter,
      days_left: String(this.#daysLeft),
    };
  }
}

class RevokedAlert extends Alert {
  readonly #hold: RevokedHold;
  readonly #now: number;

  constructor({ key, labels }: AlertIdentity, hold: RevokedHold, now: number) {
    super(key, labels, hold.at);
    this.#hold = hold;
    this.#now = now;
  }

  protected annotate(): Record<string, string> {
    const hold = this.#hold;
    const annotations: Record<string, string> = {
      summary: `Certificate ${hold.certSN} of device ${describeDevice(hold.device)} was revoked`,
      description:
        `The certificate ${hold.certSN} of device ${describeDevice(hold.device)} was revoked at ${rfc3339(hold.at)}` +
        `${hold.revoker ? ` by ${hold.revoker}` : ''}${hold.revokerReason ? ` (${hold.revokerReason})` : ''}. ` +
        'Check that the revocation was intended and that the device has another valid certificate.',
      revoker: hold.revoker,
      revoker_reason: hold.revokerReason,
    };
    if (hold.notAfter !== null) {
      annotations.not_after = rfc3339(hold.notAfter);
      annotations.days_left = String(Math.floor((hold.notAfter - this.#now) / DAY_MS));
    }
    return annotations;
  }
}

/** A revocation seen as a change event: its alert fires for `revokedHoldHours` after `at`. */
export interface RevokedHold {
  readonly device: DeviceRef;
  readonly certSN: string;
  /** Epoch ms of the change event. */
  readonly at: number;
  readonly revoker: string;
  readonly revokerReason: string;
  /** The certificate's notAfter when the event was recorded, if the fleet still held it. */
  readonly notAfter: number | null;
}

export interface EvaluationInput {
  readonly records: Iterable<DeviceRecord>;
  readonly holds: Iterable<RevokedHold>;
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly revokedHoldHours: number;
  /** `alertmanager.labels`: added to every alert; an alert's own label wins on a name clash. */
  readonly extraLabels: LabelSet;
}

/**
 * The complete set of alerts that should be firing, by key. A fleet of any size is evaluated in
 * slices of records, so other work (scrapes, health checks) runs in between.
 */
export async function evaluateAlerts(input: EvaluationInput): Promise<Map<string, DesiredAlert>> {
  const desired = new Map<string, DesiredAlert>();
  for await (const record of withPauses(input.records)) addExpiryAlerts(desired, record, input);
  for (const [key, alert] of revokedAlerts(input)) desired.set(key, alert);
  return desired;
}

function addExpiryAlerts(
  desired: Map<string, DesiredAlert>,
  record: DeviceRecord,
  input: Pick<EvaluationInput, 'now' | 'thresholds' | 'extraLabels'>,
): void {
  for (const assessed of assessCertificates(record.certificates, input.now, input.thresholds)) {
    const alert = expiryAlert(record.device, assessed, input.extraLabels);
    if (alert !== undefined) desired.set(alert.key, alert);
  }
}

/** Revoked alerts of the holds still inside their window. */
export function revokedAlerts(
  input: Pick<EvaluationInput, 'holds' | 'now' | 'revokedHoldHours' | 'extraLabels'>,
): Map<string, DesiredAlert> {
  const desired = new Map<string, DesiredAlert>();
  for (const hold of input.holds) {
    if (!holdIsActive(hold, input.now, input.revokedHoldHours)) continue;
    const alert = revokedAlert(hold, input.now, input.extraLabels);
    desired.set(alert.key, alert);
  }
  return desired;
}

export function holdIsActive(hold: RevokedHold, now: number, revokedHoldHours: number): boolean {
  return now < hold.at + revokedHoldHours * 3_600_000;
}

/** One hold per certificate of a device; a later revocation event replaces an earlier one. */
export function holdKey(hold: Pick<RevokedHold, 'device' | 'certSN'>): string {
  return `${deviceId(hold.device)}/${hold.certSN}`;
}

/** The hold a `revoked` change event starts; `certificates` are the device's as the scan left them. */
export function holdFromEvent(event: ChangeEvent, certificates: readonly Certificate[] | undefined): RevokedHold {
  const device: DeviceRef = {
    orgId: event.orgId,
    ...(event.assetId ? { assetId: event.assetId } : {}),
    ...(event.productKey ? { productKey: event.productKey } : {}),
    ...(event.deviceKey ? { deviceKey: event.deviceKey } : {}),
  };
  const cert = certificates?.find((candidate) => candidate.certSN === event.certSN);
  return {
    device,
    certSN: event.certSN,
    at: Date.parse(event.at),
    revoker: event.revoker ?? cert?.revoker ?? '',
    revokerReason: event.revokerReason ?? cert?.revokerReason ?? '',
    notAfter: cert?.notAfter ?? null,
  };
}

function expiryAlert(device: DeviceRef, assessed: AssessedCertificate, extraLabels: LabelSet): DesiredAlert | undefined {
  if (assessed.superseded) return undefined;
  const { cert, state } = assessed;
  if (state === 'warning' || state === 'critical') {
    return new ExpiryAlert(identity(EXPIRING, state, device, cert.certSN, extraLabels), device, assessed);
  }
  if (state === 'expired') return new ExpiryAlert(identity(EXPIRED, 'critical', device, cert.certSN, extraLabels), device, assessed);
  return undefined;
}

function revokedAlert(hold: RevokedHold, now: number, extraLabels: LabelSet): DesiredAlert {
  return new RevokedAlert(identity(REVOKED, 'warning', hold.device, hold.certSN, extraLabels), hold, now);
}

interface AlertIdentity {
  readonly key: string;
  readonly labels: LabelSet;
}

function identity(alertname: AlertName, severity: Severity, device: DeviceRef, certSN: string, extraLabels: LabelSet): AlertIdentity {
  const own: Record<string, string | undefined> = {
    alertname,
    severity,
    org_id: device.orgId,
    asset_id: device.assetId,
    product_key: device.productKey,
    device_key: device.deviceKey,
    cert_sn: certSN,
  };
  const labels: Record<string, string> = {};
  // An alert's own label names are reserved: routing and identity rely on them, so an extra label
  // of the same name is ignored even where the alert leaves that label out (empty value).
  for (const [name, value] of Object.entries(extraLabels)) {
    if (value && !(name in own)) labels[name] = value;
  }
  for (const [name, value] of Object.entries(own)) {
    if (value) labels[name] = value;
  }
  return { key: alertKey(labels), labels };
}

/** RFC 3339 in UTC, without the fraction when it is zero. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z');
}

function inDays(days: number): string {
  if (days <= 0) return 'within a day';
  return days === 1 ? 'in 1 day' : `in ${days} days`;
}
