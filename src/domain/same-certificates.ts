import type { Certificate, PemContent } from './types.js';

const CERTIFICATE_FIELDS = [
  'certSN',
  'status',
  'notBefore',
  'notAfter',
  'issuer',
  'subject',
  'issueAuthority',
  'revoker',
  'revokerReason',
] as const satisfies ReadonlyArray<keyof Certificate>;

type UncomparedField = Exclude<keyof Certificate, (typeof CERTIFICATE_FIELDS)[number] | 'pem'>;
// Fails to compile when Certificate gains a field that sameCertificates does not compare.
const _everyFieldCompared: UncomparedField extends never ? true : never = true;
void _everyFieldCompared;

/** Same certificates, field by field, in any order (a rescan usually answers them in the same one). */
export function sameCertificates(a: readonly Certificate[], b: readonly Certificate[]): boolean {
  if (a.length !== b.length) return false;
  if (a.every((cert, index) => sameCertificate(cert, b[index]!))) return true;
  const bySN = new Map(b.map((cert) => [cert.certSN, cert]));
  return a.every((cert) => {
    const other = bySN.get(cert.certSN);
    return other !== undefined && sameCertificate(cert, other);
  });
}

function sameCertificate(a: Certificate, b: Certificate): boolean {
  return CERTIFICATE_FIELDS.every((field) => a[field] === b[field]) && samePem(a.pem, b.pem);
}

/** By content: one read from the API and one decoded from the store are different objects. */
function samePem(a: PemContent | undefined, b: PemContent | undefined): boolean {
  if (typeof a === 'object' && typeof b === 'object') return a.fingerprintSha256 === b.fingerprintSha256;
  return a === b;
}
