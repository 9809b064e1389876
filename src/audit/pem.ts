import { createHash, X509Certificate } from 'node:crypto';
import type { PemContent, X509Summary } from '../domain/types.js';
import { internName, keyAlgorithmName, keyBitsFromAlgorithm, MODULUS_KEY_ALGORITHMS, signatureAlgorithmName } from './algorithms.js';
import { readDerFields } from './der.js';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
/** Leading whitespace looked through for the BEGIN line. */
const MAX_LEADING_CHARS = 256;
/**
 * A device certificate is 1–3 KB of PEM; a PEM with a whole chain a few times that. Anything
 * larger is refused before it is decoded, so a hostile answer cannot make a scan slow.
 */
export const MAX_PEM_CHARS = 65_536;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]+$/;

/**
 * Reads `cert` fields into PemContent. node:crypto's X509Certificate (OpenSSL) validates and
 * parses the certificate; the signature algorithm and validity, which it does not expose, are
 * read from the DER. Results are cached by the SHA-256 of the DER (the fingerprint, needed
 * anyway): an unchanged certificate costs a base64 decode and a hash on the next scan, not a
 * parse.
 */
export class PemReader {
  readonly #cache: GenerationalCache<PemContent>;
  /** Certificates parsed (cache misses); for tests and benchmarks. */
  parses = 0;

  /** `capacity`: distinct certificates kept per generation (at most twice that in all). */
  constructor(capacity = DEFAULT_CACHE_CAPACITY) {
    this.#cache = new GenerationalCache(capacity);
  }

  /** Undefined when `cert` is not a PEM certificate at all (absent, a number, other text). */
  read(cert: unknown): PemContent | undefined {
    if (typeof cert !== 'string') return undefined;
    const begin = cert.slice(0, MAX_LEADING_CHARS + BEGIN.length).indexOf(BEGIN);
    if (begin < 0 || cert.slice(0, begin).trim() !== '') return undefined;
    if (cert.length > MAX_PEM_CHARS) return 'unparseable';
    // Only the first certificate of a PEM that holds several (a chain) is the device's.
    const end = cert.indexOf(END, begin);
    if (end < 0) return 'unparseable';
    const body = cert.slice(begin + BEGIN.length, end);
    if (!BASE64_BODY.test(body)) return 'unparseable';
    const der = Buffer.from(body, 'base64');
    if (der.length === 0) return 'unparseable';
    const fingerprint = createHash('sha256').update(der).digest('hex');
    const cached = this.#cache.get(fingerprint);
    if (cached !== undefined) return cached;
    const content = this.#parse(der, fingerprint);
    this.#cache.set(fingerprint, content);
    return content;
  }

  #parse(der: Buffer, fingerprintSha256: string): PemContent {
    this.parses++;
    try {
      const certificate = new X509Certificate(der);
      const fields = readDerFields(der);
      const keyAlgorithm = keyAlgorithmName(fields.keyOid);
      return {
        keyAlgorithm,
        keyBits: keyBitsFromAlgorithm(keyAlgorithm, fields.keyParameterOid) ?? modulusBits(certificate, keyAlgorithm),
        signatureAlgorithm: signatureAlgorithmName(fields.signatureOid),
        fingerprintSha256,
        notBefore: fields.notBefore,
        notAfter: fields.notAfter,
      };
    } catch {
      return 'unparseable';
    }
  }
}

/** RSA and DSA sizes, from the key node:crypto reads; null for a key type it cannot load. */
function modulusBits(certificate: X509Certificate, keyAlgorithm: string): number | null {
  if (!MODULUS_KEY_ALGORITHMS.has(keyAlgorithm)) return null;
  try {
    return certificate.publicKey.asymmetricKeyDetails?.modulusLength ?? null;
  } catch {
    return null;
  }
}

/** A summary rebuilt from stored parts, with the shared copies of its names. */
export function x509Summary(parts: X509Summary): X509Summary {
  return {
    keyAlgorithm: internName(parts.keyAlgorithm),
    keyBits: parts.keyBits,
    signatureAlgorithm: internName(parts.signatureAlgorithm),
    fingerprintSha256: parts.fingerprintSha256,
    notBefore: parts.notBefore,
    notAfter: parts.notAfter,
  };
}

/**
 * Enough for the certificates of a 100k-device fleet with renewals in flight. An entry costs a
 * map slot beyond the summary the fleet holds anyway (the key is the summary's fingerprint).
 */
const DEFAULT_CACHE_CAPACITY = 262_144;

/**
 * Bounded without per-hit bookkeeping: new entries go into the young generation; when it is
 * full it becomes the old one and the previous old one is dropped. A hit in the old generation
 * moves the entry back to the young one, so whatever each scan still sees survives.
 */
class GenerationalCache<V> {
  #young = new Map<string, V>();
  #old = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    if (this.#young.size >= this.capacity) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}

/** The reader the API client uses. */
export const pemReader = new PemReader();
