import { sign, type KeyObject } from 'node:crypto';

/**
 * Just enough DER to issue real X.509 v3 certificates for the simulator: a subject and issuer
 * with a common name, validity, the subject's public key, signed by the issuer's key.
 */

export type SignatureScheme = 'sha256WithRSAEncryption' | 'sha1WithRSAEncryption' | 'ed25519';

export interface CertificateRequest {
  /** A positive integer. */
  readonly serial: bigint;
  readonly issuerCommonName: string;
  readonly subjectCommonName: string;
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly subjectPublicKey: KeyObject;
  readonly issuerKey: KeyObject;
  readonly scheme: SignatureScheme;
}

const SCHEMES: Readonly<Record<SignatureScheme, { readonly oid: string; readonly digest: string | null; readonly nullParameter: boolean }>> = {
  sha256WithRSAEncryption: { oid: '1.2.840.113549.1.1.11', digest: 'sha256', nullParameter: true },
  sha1WithRSAEncryption: { oid: '1.2.840.113549.1.1.5', digest: 'sha1', nullParameter: true },
  ed25519: { oid: '1.3.101.112', digest: null, nullParameter: false },
};

const COMMON_NAME = '2.5.4.3';

/** The certificate as PEM. */
export function issueCertificate(request: CertificateRequest): string {
  const scheme = SCHEMES[request.scheme];
  const algorithm = sequence(oid(scheme.oid), ...(scheme.nullParameter ? [Buffer.from([0x05, 0x00])] : []));
  const tbs = sequence(
    tlv(0xa0, integer(2n)), // v3
    integer(request.serial),
    algorithm,
    name(request.issuerCommonName),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.subjectCommonName),
    request.subjectPublicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign(scheme.digest, tbs, request.issuerKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else header = [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

function sequence(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function integer(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A set high bit would make it negative.
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid(COMMON_NAME), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = new Date(ms).getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}
