import type { Certificate, DeviceRef } from '../domain/types.js';
import { commonName } from './distinguished-name.js';
import { formatValue } from './exposition.js';
import { labelValue } from './label-value.js';

/** Common names are display labels: shorter than other values. */
const MAX_CN_CHARS = 64;

/** The per-certificate families, in output order. */
export const CERTIFICATE_FAMILIES = [
  {
    name: 'enos_certificate_not_after_timestamp_seconds',
    help: 'When the certificate stops being valid (notAfter), in seconds since the epoch.',
  },
  {
    name: 'enos_certificate_not_before_timestamp_seconds',
    help: 'When the certificate starts being valid (notBefore), in seconds since the epoch.',
  },
  { name: 'enos_certificate_info', help: 'Certificate details as labels; always 1.' },
] as const;

/** One device's samples per family (indexes as CERTIFICATE_FAMILIES), encoded once per change. */
export type DeviceSamples = readonly [notAfter: Buffer, notBefore: Buffer, info: Buffer];

/** `org_id="…",asset_id="…",product_key="…",device_key="…"`: a device's part of every label set. */
export function deviceLabels(device: DeviceRef): string {
  return (
    `org_id="${labelValue(device.orgId)}",asset_id="${labelValue(device.assetId ?? '')}",` +
    `product_key="${labelValue(device.productKey ?? '')}",device_key="${labelValue(device.deviceKey ?? '')}"`
  );
}

/**
 * The samples of the given certificates. Kept as Buffers: off the JS heap, so 100k certificates
 * do not weigh on the garbage collector, and a scrape copies bytes instead of encoding text.
 */
export function deviceSamples(deviceLabelSet: string, certs: readonly Certificate[]): DeviceSamples {
  let notAfter = '';
  let notBefore = '';
  let info = '';
  const [notAfterFamily, notBeforeFamily, infoFamily] = CERTIFICATE_FAMILIES;
  for (const cert of certs) {
    const labels = `${deviceLabelSet},cert_sn="${labelValue(cert.certSN)}",status="${labelValue(cert.status)}"`;
    notAfter += `${notAfterFamily.name}{${labels}} ${formatValue(cert.notAfter / 1000)}\n`;
    if (cert.notBefore !== null) notBefore += `${notBeforeFamily.name}{${labels}} ${formatValue(cert.notBefore / 1000)}\n`;
    info +=
      `${infoFamily.name}{${labels},issuer_cn="${labelValue(commonName(cert.issuer), MAX_CN_CHARS)}",` +
      `subject_cn="${labelValue(commonName(cert.subject), MAX_CN_CHARS)}",` +
      `issue_authority="${labelValue(cert.issueAuthority)}"} 1\n`;
  }
  return [Buffer.from(notAfter), Buffer.from(notBefore), Buffer.from(info)];
}

/** `# HELP` and `# TYPE` of each per-certificate family. */
export const FAMILY_HEADERS: readonly Buffer[] = CERTIFICATE_FAMILIES.map(({ name, help }) =>
  Buffer.from(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`),
);
