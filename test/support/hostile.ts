import type { DeviceRef } from '../../src/domain/types.js';
import type { Random } from '../../src/simulator/random.js';

/** A certificate object as List Certificate's `data` holds it: anything, for hostile input. */
export type RawCertificate = Record<string, unknown>;

const DAY = 86_400_000;

/** Strings that break naive handling of labels, exposition lines, JSON, logs or object keys. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '"',
  '\\',
  '\n',
  '\r\n',
  '}',
  'x="y",z="',
  '{a="b"} 1\n# TYPE x counter',
  '\\"\n\\n',
  '\u0000',
  '\u0007\u001b[31mred',
  '\u0085\u2028\u2029',
  '\ud800',
  'x\udc00',
  '😀'.repeat(40),
  'ünïcødé',
  '__proto__',
  'constructor',
  '${ENOS_APP_SECRET}',
  'a'.repeat(257),
  'b'.repeat(5_000),
];

/** Strings that become markup or script when a page inserts them unescaped. */
export const MARKUP_STRINGS: readonly string[] = [
  '<script>document.documentElement.dataset.injected="script"</script>',
  '"><img src=x onerror="document.documentElement.dataset.injected=\'img\'">',
  "' onmouseover='document.documentElement.dataset.injected=1",
  '</style><script>document.documentElement.dataset.injected="style"</script>',
  '</textarea></title><svg onload="document.documentElement.dataset.injected=\'svg\'">',
  '<!-- ',
  ']]><![CDATA[',
  'javascript:document.documentElement.dataset.injected=1',
  '&lt;b&gt;already escaped&amp;',
  '<a href="https://example.invalid/">link</a><link rel="stylesheet" href="https://example.invalid/x.css">',
];

/** Dates that are out of range, of the wrong kind, or absurd but valid. */
const NASTY_DATES: readonly unknown[] = [
  0,
  -1,
  -DAY,
  1,
  1.5,
  253_402_300_799_999, // 9999-12-31T23:59:59.999Z: the last accepted
  253_402_300_800_000,
  Number.MAX_SAFE_INTEGER,
  1e308,
  '1900000000000',
  null,
  true,
  [],
  {},
];

const FIELDS = ['certSN', 'certStatus', 'expireDate', 'effectiveDate', 'effetiveDate', 'issuer', 'subject', 'issueAuthority', 'revoker', 'revokerReason'];

/** Any JSON value, nested at most `depth` deep. */
export function randomJson(random: Random, depth = 2): unknown {
  switch (random.int(0, depth > 0 ? 7 : 5)) {
    case 0:
      return null;
    case 1:
      return random.next() < 0.5;
    case 2:
      return random.pick(NASTY_DATES);
    case 3:
      return (random.next() - 0.5) * 10 ** random.int(0, 20);
    case 4:
      return random.pick(NASTY_STRINGS);
    case 5:
      return String.fromCodePoint(...Array.from({ length: random.int(0, 12) }, () => random.int(0, 0x10ffff)));
    case 6:
      return Array.from({ length: random.int(0, 4) }, () => randomJson(random, depth - 1));
    default:
      return Object.fromEntries(Array.from({ length: random.int(0, 4) }, () => [random.pick([...FIELDS, ...NASTY_STRINGS]), randomJson(random, depth - 1)]));
  }
}

/** A certificate the gateway could send, with hostile but valid text. */
export function plausibleCertificate(random: Random, now: number, index: number): RawCertificate {
  const text = (): string | null => (random.next() < 0.3 ? random.pick(NASTY_STRINGS).slice(0, 4096) : random.next() < 0.1 ? null : `CN=device-${index}`);
  return {
    certSN: random.next() < 0.3 ? index : random.next() < 0.5 ? `${random.pick(NASTY_STRINGS).slice(0, 250)}${index}` : `sn-${index}`,
    certStatus: random.pick([0, 0, 0, 1, 2]),
    expireDate: random.next() < 0.1 ? random.pick([1, 253_402_300_799_999]) : now + random.int(-400, 800) * DAY,
    [random.pick(['effectiveDate', 'effetiveDate'])]: random.next() < 0.1 ? null : now - random.int(0, 800) * DAY,
    issuer: text(),
    subject: text(),
    issueAuthority: random.pick(['RSA', 'ECC', null, ...NASTY_STRINGS.slice(0, 12)]),
    revoker: text(),
    revokerReason: text(),
    ...(random.next() < 0.1 ? { deviceSecret: 'secret-of-the-device', cert: '-----BEGIN CERTIFICATE-----' } : {}),
  };
}

/** A plausible certificate with one to three fields removed, retyped or given an absurd value. */
export function damagedCertificate(random: Random, now: number, index: number): RawCertificate {
  const cert = plausibleCertificate(random, now, index);
  for (let i = random.int(1, 3); i > 0; i--) {
    const field = random.pick(FIELDS);
    const change = random.int(0, 2);
    if (change === 0) delete cert[field];
    else if (change === 1) cert[field] = randomJson(random);
    else cert[field] = field.endsWith('Date') ? random.pick(NASTY_DATES) : random.pick(NASTY_STRINGS);
  }
  return cert;
}

/**
 * A `data` value for List Certificate: mostly lists of plausible and damaged certificates, some
 * with a duplicate certSN; now and then something that is not a list, or a list of thousands.
 */
export function hostileCertificateList(random: Random, now: number): unknown {
  const roll = random.next();
  if (roll < 0.05) return randomJson(random);
  const huge = roll < 0.08;
  const damageRate = huge ? 0.0002 : 0.15;
  const list: unknown[] = Array.from({ length: huge ? random.int(1_000, 2_500) : random.int(0, 8) }, (_, index) =>
    random.next() < damageRate ? damagedCertificate(random, now, index) : plausibleCertificate(random, now, index),
  );
  if (list.length > 1 && random.next() < 0.1) list.push({ ...(list[0] as RawCertificate) });
  if (list.length > 0 && random.next() < 0.03) list[random.int(0, list.length - 1)] = randomJson(random);
  return list;
}

/** Device identifiers as discovery may deliver them (up to 256 characters, any text). */
export function hostileDevice(random: Random, index: number): DeviceRef {
  const id = (): string => `${random.pick(NASTY_STRINGS).slice(0, 200)}-${index}`;
  return random.next() < 0.5
    ? { orgId: random.pick(['o1', 'o"2', 'ö\n3']), assetId: id() }
    : { orgId: random.pick(['o1', 'o"2', 'ö\n3']), productKey: id(), deviceKey: id() };
}

/**
 * A damaged copy of a real certificate's DER, for the PEM reader: bytes flipped, cut, repeated or
 * inserted, lengths made to lie. Each result is a different near miss of a valid certificate.
 */
export function mutatedDer(random: Random, der: Uint8Array): Buffer {
  const bytes = [...der];
  for (let i = random.int(1, 4); i > 0; i--) {
    const at = random.int(0, bytes.length - 1);
    switch (random.int(0, 5)) {
      case 0:
        bytes[at] = random.int(0, 255);
        break;
      case 1:
        bytes.length = at;
        break;
      case 2:
        bytes.splice(at, 0, ...Array.from({ length: random.int(1, 8) }, () => random.int(0, 255)));
        break;
      case 3:
        // A long-form length claiming up to 4 GiB.
        bytes.splice(at, 0, 0x84, 0xff, 0xff, 0xff, random.int(0, 255));
        break;
      case 4:
        bytes.splice(at, random.int(1, 40));
        break;
      default:
        bytes.push(...bytes.slice(0, random.int(1, bytes.length)));
    }
  }
  return Buffer.from(bytes);
}
