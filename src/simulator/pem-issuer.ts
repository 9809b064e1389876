import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { RawCertificate, SimDevice } from './generate.js';
import { issueCertificate, type SignatureScheme } from './x509.js';

const DAY = 86_400_000;
/** PEMs kept; an evicted one is issued again identically (the signatures are deterministic). */
const CACHE_ENTRIES = 4_096;

/**
 * What a device's certificates show the audit, by device index (mod 10), so that any fleet of
 * ten or more devices has each: 1 an RSA-1024 key, 3 a SHA-1 signature, 5 a PEM notAfter 30 days
 * off expireDate, 8 the first certificate of device 7 bound to it as well. The rest are healthy:
 * RSA-2048 keys from the RSA CA, EC P-256 keys from the ECC CA.
 */
type Role = 'weak_key' | 'sha1' | 'dates_off' | 'healthy';

const ROLES: ReadonlyMap<number, Role> = new Map([
  [1, 'weak_key'],
  [3, 'sha1'],
  [5, 'dates_off'],
]);
const SHARING_INDEX = 8;

interface Keys {
  readonly rsa2048: KeyObject;
  readonly rsa2048Public: KeyObject;
  readonly rsa1024Public: KeyObject;
  readonly ecP256Public: KeyObject;
  readonly ed25519: KeyObject;
}

/**
 * Real X.509 certificates for the simulator's `cert` fields (`simulate --pem`). Nothing is made
 * until a device is queried: the keys are generated once on first use and shared by every
 * certificate, the ECC CA signs with Ed25519 (fast and deterministic) and PEMs are cached, so
 * a 100k-device simulator starts as fast as without PEMs and a certificate reads the same on
 * every query.
 */
export class PemIssuer {
  #keys: Keys | undefined;
  readonly #cache = new Map<string, string>();

  /**
   * The device's certificates with a PEM in `cert`. `twin`: the certificates of the device
   * before it, for the device that shares its neighbour's certificate.
   */
  withPems(device: SimDevice, certificates: readonly RawCertificate[], twin: () => readonly RawCertificate[] | undefined): RawCertificate[] {
    const own = certificates.map((raw) => ({ ...raw, cert: this.#pem(device, raw) }));
    if (device.index % 10 !== SHARING_INDEX) return own;
    const shared = twin()?.[0];
    return shared === undefined ? own : [shared, ...own.slice(1)];
  }

  #pem(device: SimDevice, raw: RawCertificate): string {
    const role = ROLES.get(device.index % 10) ?? 'healthy';
    const certSN = String(raw.certSN);
    const notBefore = Number(raw.effectiveDate ?? raw.effetiveDate ?? raw.signDate);
    const notAfter = Number(raw.expireDate) + (role === 'dates_off' ? 30 * DAY : 0);
    const rsaIssued = raw.issueAuthority !== 'ECC' || role !== 'healthy';
    const key = `${certSN}|${notBefore}|${notAfter}|${role}|${rsaIssued}|${device.deviceKey}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const keys = this.#keyPairs();
    const scheme: SignatureScheme = role === 'sha1' ? 'sha1WithRSAEncryption' : rsaIssued ? 'sha256WithRSAEncryption' : 'ed25519';
    const pem = issueCertificate({
      serial: serialOf(certSN),
      issuerCommonName: rsaIssued ? 'EnOS CA' : 'EnOS ECC CA',
      subjectCommonName: device.deviceKey,
      notBefore,
      notAfter,
      subjectPublicKey: role === 'weak_key' ? keys.rsa1024Public : rsaIssued ? keys.rsa2048Public : keys.ecP256Public,
      issuerKey: rsaIssued ? keys.rsa2048 : keys.ed25519,
      scheme,
    });
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, pem);
    return pem;
  }

  #keyPairs(): Keys {
    if (this.#keys !== undefined) return this.#keys;
    // One RSA-2048 pair serves as the RSA CA's key and as the healthy devices' RSA key.
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#keys = {
      rsa2048: rsa2048.privateKey,
      rsa2048Public: rsa2048.publicKey,
      rsa1024Public: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
      ecP256Public: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      ed25519: generateKeyPairSync('ed25519').privateKey,
    };
    return this.#keys;
  }
}

/** The certSN as the serial number when it is one; otherwise a positive number derived from it. */
function serialOf(certSN: string): bigint {
  if (/^\d{1,40}$/.test(certSN) && certSN !== '0'.repeat(certSN.length)) return BigInt(certSN);
  return BigInt(`0x${createHash('sha256').update(certSN).digest('hex').slice(0, 30)}`) + 1n;
}
