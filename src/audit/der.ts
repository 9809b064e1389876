/**
 * The few fields of an X.509 certificate that node:crypto's X509Certificate does not expose (the
 * signature algorithm) or exposes only as text (validity), read straight from the DER. Only the
 * outer structure is walked; X509Certificate has already validated the whole certificate.
 */

export interface DerFields {
  /** Dotted OID of the certificate's signatureAlgorithm. */
  readonly signatureOid: string;
  /** Dotted OID of the subject public key's algorithm, and its parameter when that is an OID (the EC curve). */
  readonly keyOid: string;
  readonly keyParameterOid: string | undefined;
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

const SEQUENCE = 0x30;
const OID = 0x06;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const EXPLICIT_VERSION = 0xa0;

/** One tag-length-value: the content spans [start, end). */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function element(der: Uint8Array, offset: number, limit: number, expectedTag?: number): Element {
  if (offset + 2 > limit) throw new DerError('truncated');
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  if (expectedTag !== undefined && tag !== expectedTag) throw new DerError(`tag 0x${tag.toString(16)} where 0x${expectedTag.toString(16)} was expected`);
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    // 0x80 is BER's indefinite length; more than 4 length bytes cannot fit any certificate.
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new DerError('length past the end');
  return { tag, start, end };
}

export function readDerFields(der: Uint8Array): DerFields {
  const certificate = element(der, 0, der.length, SEQUENCE);
  const tbs = element(der, certificate.start, certificate.end, SEQUENCE);
  const signatureAlgorithm = element(der, tbs.end, certificate.end, SEQUENCE);
  const signatureOid = oid(der, element(der, signatureAlgorithm.start, signatureAlgorithm.end, OID));

  let at = tbs.start;
  const next = (tag: number): Element => {
    const found = element(der, at, tbs.end, tag);
    at = found.end;
    return found;
  };
  if (der[at] === EXPLICIT_VERSION) next(EXPLICIT_VERSION);
  next(INTEGER); // serialNumber
  next(SEQUENCE); // signature (repeats signatureAlgorithm)
  next(SEQUENCE); // issuer
  const validity = next(SEQUENCE);
  next(SEQUENCE); // subject
  const keyInfo = next(SEQUENCE);

  const notBefore = element(der, validity.start, validity.end);
  const notAfter = element(der, notBefore.end, validity.end);
  const keyAlgorithm = element(der, keyInfo.start, keyInfo.end, SEQUENCE);
  const keyOid = element(der, keyAlgorithm.start, keyAlgorithm.end, OID);
  const parameter = keyOid.end < keyAlgorithm.end ? element(der, keyOid.end, keyAlgorithm.end) : undefined;
  return {
    signatureOid,
    keyOid: oid(der, keyOid),
    keyParameterOid: parameter?.tag === OID ? oid(der, parameter) : undefined,
    notBefore: time(der, notBefore),
    notAfter: time(der, notAfter),
  };
}

function oid(der: Uint8Array, { start, end }: Element): string {
  if (end <= start || end - start > 64) throw new DerError('bad OID length');
  const arcs: number[] = [];
  let value = 0;
  for (let i = start; i < end; i++) {
    const byte = der[i]!;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if (byte & 0x80) continue;
    if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  if (der[end - 1]! & 0x80) throw new DerError('unterminated OID');
  return arcs.join('.');
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 requires them. */
function time(der: Uint8Array, { tag, start, end }: Element): number {
  const text = String.fromCharCode(...der.subarray(start, end));
  const match =
    tag === UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : tag === GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (match === null) throw new DerError('bad time');
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const year = tag === UTC_TIME ? (y < 50 ? 2000 + y : 1900 + y) : y;
  const ms = Date.UTC(year, mo - 1, d, h, mi, s);
  if (!Number.isFinite(ms) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) throw new DerError('bad time');
  return ms;
}
