/** Names for the OIDs found in device certificates; anything else is shown as its dotted OID. */

/** Signature algorithm OID → OpenSSL's (long) name for it, as `openssl x509 -text` prints it. */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
  ['1.2.840.113549.1.1.3', 'md4WithRSAEncryption'],
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.3.14.3.2.29', 'sha1WithRSA'],
  ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.113549.1.1.14', 'sha224WithRSAEncryption'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10045.4.3.1', 'ecdsa-with-SHA224'],
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.2.840.10040.4.3', 'dsaWithSHA1'],
  ['2.16.840.1.101.3.4.3.1', 'dsa_with_SHA224'],
  ['2.16.840.1.101.3.4.3.2', 'dsa_with_SHA256'],
  ['1.3.101.112', 'ED25519'],
  ['1.3.101.113', 'ED448'],
  ['1.2.156.10197.1.501', 'SM2-with-SM3'],
]);

/** Signatures over an MD2/MD4/MD5 or SHA-1 digest: collisions can be forged. */
export const WEAK_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'md2WithRSAEncryption',
  'md4WithRSAEncryption',
  'md5WithRSAEncryption',
  'sha1WithRSAEncryption',
  'sha1WithRSA',
  'ecdsa-with-SHA1',
  'dsaWithSHA1',
]);

/** Subject public key algorithm OID → the name node:crypto gives the key type. */
const KEY_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.1', 'rsa'],
  ['1.2.840.113549.1.1.10', 'rsa-pss'],
  ['1.2.840.10045.2.1', 'ec'],
  ['1.2.840.10040.4.1', 'dsa'],
  ['1.3.101.110', 'x25519'],
  ['1.3.101.111', 'x448'],
  ['1.3.101.112', 'ed25519'],
  ['1.3.101.113', 'ed448'],
]);

/** Named curve OID → key size in bits. */
const CURVE_BITS: ReadonlyMap<string, number> = new Map([
  ['1.2.840.10045.3.1.1', 192], // P-192
  ['1.3.132.0.33', 224], // P-224
  ['1.2.840.10045.3.1.7', 256], // P-256
  ['1.3.132.0.10', 256], // secp256k1
  ['1.3.132.0.34', 384], // P-384
  ['1.3.132.0.35', 521], // P-521
  ['1.3.36.3.3.2.8.1.1.7', 256], // brainpoolP256r1
  ['1.3.36.3.3.2.8.1.1.11', 384], // brainpoolP384r1
  ['1.3.36.3.3.2.8.1.1.13', 512], // brainpoolP512r1
  ['1.2.156.10197.1.301', 256], // SM2
]);

/** Keys whose size follows from the algorithm alone. */
const FIXED_KEY_BITS: ReadonlyMap<string, number> = new Map([
  ['ed25519', 256],
  ['x25519', 256],
  ['ed448', 456],
  ['x448', 448],
]);

/** Key types whose size is the modulus length that node:crypto reports. */
export const MODULUS_KEY_ALGORITHMS: ReadonlySet<string> = new Set(['rsa', 'rsa-pss', 'dsa']);

export function signatureAlgorithmName(oid: string): string {
  return SIGNATURE_ALGORITHMS.get(oid) ?? internName(oid);
}

export function keyAlgorithmName(oid: string): string {
  return KEY_ALGORITHMS.get(oid) ?? internName(oid);
}

/** Size of a key that needs no look at the key itself; null when it does (RSA, DSA) or is unknown. */
export function keyBitsFromAlgorithm(keyAlgorithm: string, parameterOid: string | undefined): number | null {
  if (keyAlgorithm === 'ec') return (parameterOid !== undefined ? CURVE_BITS.get(parameterOid) : undefined) ?? null;
  return FIXED_KEY_BITS.get(keyAlgorithm) ?? null;
}

const MAX_INTERNED = 1024;
const interned = new Map<string, string>();

/**
 * One shared copy of an algorithm name, so that 100k certificates hold pointers to a handful of
 * strings. Bounded: past the cap (only hostile data has that many distinct OIDs) a name is
 * returned as is.
 */
export function internName(name: string): string {
  const known = interned.get(name);
  if (known !== undefined) return known;
  if (interned.size < MAX_INTERNED) interned.set(name, name);
  return name;
}
