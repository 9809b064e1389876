import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `openssl req -newkey` arguments per key type. */
const NEW_KEY: Readonly<Record<string, readonly string[]>> = {
  'rsa:1024': ['-newkey', 'rsa:1024'],
  'rsa:2048': ['-newkey', 'rsa:2048'],
  'ec:P-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec:P-384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'ec:P-192': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-192'],
  ed25519: ['-newkey', 'ed25519'],
};
export type KeySpec = keyof typeof NEW_KEY | 'dsa:1024';

export interface OpensslCertificate {
  readonly pem: string;
  /** As `openssl x509` reports them: the expected values, read independently of the code under test. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly fingerprintSha256: string;
  readonly signatureAlgorithm: string;
  readonly keyBits: number | null;
}

/**
 * A real self-signed certificate made by the openssl CLI, with the facts openssl itself reports
 * about it (`x509 -text`), to compare the audit's reading against.
 */
export function opensslCertificate(options: { key: KeySpec; digest?: 'sha1' | 'sha256' | 'sha384' | 'md5'; days?: number }): OpensslCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'audit-cert-'));
  try {
    const keyArgs = options.key === 'dsa:1024' ? dsaKey(dir) : NEW_KEY[options.key]!;
    const digest = options.key === 'ed25519' ? [] : [`-${options.digest ?? 'sha256'}`];
    const out = join(dir, 'cert.pem');
    openssl(['req', '-x509', ...keyArgs, ...digest, '-nodes', '-keyout', join(dir, 'key.pem'), '-out', out, '-subj', '/CN=device', '-days', String(options.days ?? 30)]);
    const text = openssl(['x509', '-in', out, '-noout', '-text', '-startdate', '-enddate', '-fingerprint', '-sha256']);
    const field = (pattern: RegExp): string => pattern.exec(text)?.[1] ?? '';
    const bits = field(/Public-Key: \((\d+) bit\)/);
    return {
      pem: readFileSync(out, 'utf8'),
      notBefore: Date.parse(field(/^notBefore=(.+)$/m)),
      notAfter: Date.parse(field(/^notAfter=(.+)$/m)),
      fingerprintSha256: field(/Fingerprint=([0-9A-F:]+)/).replaceAll(':', '').toLowerCase(),
      signatureAlgorithm: field(/Signature Algorithm: (\S+)/),
      keyBits: bits === '' ? null : Number(bits),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dsaKey(dir: string): string[] {
  const params = join(dir, 'dsa-params.pem');
  openssl(['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', params]);
  return ['-newkey', `dsa:${params}`];
}

function openssl(args: readonly string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The DER inside the first PEM block. */
export function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s/g, ''), 'base64');
}

/** DER as a PEM certificate, wrapped at 64 columns. */
export function pemOf(der: Uint8Array, width = 64): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
