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
  {
    name: 'enos_certificate_superseded',
    help: 'Present (1) for a certificate whose device has a later valid certificate in state ok: it needs no action. No status label.',
  },
  {
    name: 'enos_device_no_valid_certificate',
    help: 'Present (1) for a device that has certificates, all of them expired or revoked.',
  },
] as const;

/** One device's sample lines per family (indexes as CERTIFICATE_FAMILIES), built once per change. */
export type DeviceSamples = readonly [notAfter: string, notBefore: string, info: string, superseded: string, noValid: string];

/** `org_id="…",asset_id="…",product_key="…",device_key="…"`: a device's part of every label set. */
export function deviceLabels(device: DeviceRef): string {
  // join(), not a template: the result is kept per device, and should be one flat string.
  return [
    'org_id="',
    labelValue(device.orgId),
    '",asset_id="',
    labelValue(device.assetId ?? ''),
    '",product_key="',
    labelValue(device.productKey ?? ''),
    '",device_key="',
    labelValue(device.deviceKey ?? ''),
    '"',
  ].join('');
}

/** The samples of the given certificates, as text (FleetSeries compresses a bucket of devices at once). */
export function deviceSamples(
  deviceLabelSet: string,
  certs: readonly Certificate[],
  superseded: ReadonlySet<Certificate>,
  noValidCertificate: boolean,
): DeviceSamples {
  // Pieces joined once per family: join() builds a flat string, where `+=` and templates would
  // keep every piece alive in a rope (twice the memory, and slower to encode later).
  const notAfter: string[] = [];
  const notBefore: string[] = [];
  const info: string[] = [];
  const replaced: string[] = [];
  const [notAfterFamily, notBeforeFamily, infoFamily, supersededFamily, noValidFamily] = CERTIFICATE_FAMILIES;
  const shown = new Set<string>();
  for (const cert of certs) {
    const labels = `${deviceLabelSet},cert_sn="${labelValue(cert.certSN)}",status="${labelValue(cert.status)}"`;
    // Distinct serials may read alike once cleaned and capped: one series each, the first wins.
    if (shown.has(labels)) continue;
    shown.add(labels);
    notAfter.push(notAfterFamily.name, '{', labels, '} ', formatValue(cert.notAfter / 1000), '\n');
    if (cert.notBefore !== null) notBefore.push(notBeforeFamily.name, '{', labels, '} ', formatValue(cert.notBefore / 1000), '\n');
    info.push(
      infoFamily.name,
      '{',
      labels,
      ',issuer_cn="',
      labelValue(commonName(cert.issuer), MAX_CN_CHARS),
      '",subject_cn="',
      labelValue(commonName(cert.subject), MAX_CN_CHARS),
      '",issue_authority="',
      labelValue(cert.issueAuthority),
      '"',
      ...keyLabels(cert),
      '} 1\n',
    );
    // Without status: the series stays the same when the certificate's status changes.
    const certLabels = `${deviceLabelSet},cert_sn="${labelValue(cert.certSN)}"`;
    if (superseded.has(cert) && !shown.has(certLabels)) {
      shown.add(certLabels);
      replaced.push(supersededFamily.name, '{', certLabels, '} 1\n');
    }
  }
  const noValid = noValidCertificate ? `${noValidFamily.name}{${deviceLabelSet}} 1\n` : '';
  return [notAfter.join(''), notBefore.join(''), info.join(''), replaced.join(''), noValid];
}

/** What the certificate's PEM says about its key and signature, when it was read. */
function keyLabels({ pem }: Certificate): string[] {
  if (typeof pem !== 'object') return [];
  const bits = pem.keyBits === null ? [] : [',key_bits="', String(pem.keyBits), '"'];
  return [',key_algorithm="', labelValue(pem.keyAlgorithm), '"', ...bits, ',signature_algorithm="', labelValue(pem.signatureAlgorithm), '"'];
}
