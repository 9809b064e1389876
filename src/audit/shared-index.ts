import type { Certificate } from '../domain/types.js';
import { NumberKeyMap } from '../util/number-key-map.js';

/**
 * Which certificates are bound to more than one device, across orgs. Kept current device by
 * device (no pass over the fleet): per distinct certificate one table slot (16 bytes) holding its
 * device, or the set of its devices once there are several.
 */
export class SharedIndex {
  readonly #holders = new NumberKeyMap<string | Set<string>>();
  /** Devices that hold a shared certificate → how many of theirs are shared. */
  readonly #sharing = new Map<string, number>();

  /** A device's certificates went from `before` to `after` (empty when it appeared or went away). */
  update(id: string, before: readonly Certificate[], after: readonly Certificate[]): void {
    if (before === after) return;
    const removed = keysOf(before);
    const added = keysOf(after);
    for (const key of removed) if (!added.includes(key)) this.#remove(key, id);
    for (const key of added) if (!removed.includes(key)) this.#add(key, id);
  }

  isShared(cert: Certificate): boolean {
    return this.#holders.get(sharingKey(cert)) instanceof Set;
  }

  /** Whether one of the device's certificates is shared: a lookup by id, no certificate hashed. */
  holdsShared(id: string): boolean {
    return this.#sharing.has(id);
  }

  #add(key: number, id: string): void {
    const holders = this.#holders.get(key);
    if (holders === undefined) {
      this.#holders.set(key, id);
    } else if (holders instanceof Set) {
      if (holders.has(id)) return;
      holders.add(id);
      this.#countSharing(id, 1);
    } else if (holders !== id) {
      this.#holders.set(key, new Set([holders, id]));
      this.#countSharing(holders, 1);
      this.#countSharing(id, 1);
    }
  }

  #remove(key: number, id: string): void {
    const holders = this.#holders.get(key);
    if (holders === id) {
      this.#holders.delete(key);
    } else if (holders instanceof Set && holders.delete(id)) {
      this.#countSharing(id, -1);
      if (holders.size > 1) return;
      const last = holders.values().next().value!;
      this.#holders.set(key, last);
      this.#countSharing(last, -1);
    }
  }

  #countSharing(id: string, change: 1 | -1): void {
    const count = (this.#sharing.get(id) ?? 0) + change;
    if (count > 0) this.#sharing.set(id, count);
    else this.#sharing.delete(id);
  }
}

function keysOf(certificates: readonly Certificate[]): number[] {
  const keys: number[] = [];
  for (const cert of certificates) {
    const key = sharingKey(cert);
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * The same certificate: the same SHA-256 fingerprint of the DER, or without a parseable PEM the
 * same issuer and certSN. A 52-bit number rather than a string, so the index holds no copy of
 * either: the fingerprint's first 13 hex digits, or a 52-bit hash of issuer and certSN (two
 * 32-bit FNV-1a hashes; a chance collision in a million-certificate fleet is about 1 in 10,000).
 */
export function sharingKey(cert: Certificate): number {
  if (typeof cert.pem === 'object') return Number.parseInt(cert.pem.fingerprintSha256.slice(0, 13), 16);
  let low = 0x811c9dc5;
  let high = 0x01000193;
  const mix = (code: number) => {
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x5bd1e995) ^ (high >>> 15);
  };
  for (let i = 0; i < cert.issuer.length; i++) mix(cert.issuer.charCodeAt(i));
  mix(0x10ffff + 1);
  for (let i = 0; i < cert.certSN.length; i++) mix(cert.certSN.charCodeAt(i));
  return (high >>> 12) * 0x100000000 + (low >>> 0);
}
