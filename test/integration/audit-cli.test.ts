import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli, writeConfig } from '../support/cli.js';

let simulator: Simulator;
let configPath: string;

beforeAll(async () => {
  simulator = await startSimulator({ devices: 30, seed: 11, minCertificates: 1, pem: true });
  configPath = writeConfig(`
enos:
  baseUrl: ${simulator.url}
  appKey: demo-app-key
  appSecret: demo-app-secret
  maxRequestsPerSecond: 0
inventory:
  discover: [{ orgId: demo-org }]
log: { level: warn }
`);
});

afterAll(async () => {
  await simulator.close();
});

interface JsonCertificate {
  readonly assetId: string;
  readonly certSN: string;
  readonly state: string;
  readonly findings: string[];
  readonly keyAlgorithm?: string;
  readonly keyBits?: number;
  readonly signatureAlgorithm?: string;
  readonly fingerprintSha256?: string;
}

describe('scan against simulate --pem (real certificates)', () => {
  it('reports findings and what each PEM says in the JSON report', async () => {
    const result = await runCli(['scan', '-c', configPath, '--format', 'json']);
    expect(result.code).toBe(0);
    const certificates = (JSON.parse(result.stdout) as { certificates: JsonCertificate[] }).certificates;
    for (const cert of certificates) {
      expect(cert.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(['rsa', 'ec']).toContain(cert.keyAlgorithm);
      expect(['ED25519', 'sha256WithRSAEncryption', 'sha1WithRSAEncryption']).toContain(cert.signatureAlgorithm);
    }
    const audited = certificates.filter((cert) => ['ok', 'warning', 'critical'].includes(cert.state));
    const found = new Set(audited.flatMap((cert) => cert.findings));
    expect([...found].sort()).toEqual(['dates_mismatch', 'key_quality', 'shared', 'weak_signature']);
    // Findings only where the audit looks: never on expired or revoked certificates.
    expect(certificates.filter((cert) => !audited.includes(cert)).flatMap((cert) => cert.findings)).toEqual([]);
    const weak = audited.find((cert) => cert.findings.includes('key_quality'))!;
    expect([weak.keyAlgorithm, weak.keyBits]).toEqual(['rsa', 1024]);
    const shared = audited.filter((cert) => cert.findings.includes('shared'));
    expect(new Set(shared.map((cert) => cert.fingerprintSha256)).size).toBeLessThan(shared.length);
  });

  it('shows findings in the table', async () => {
    const result = await runCli(['scan', '-c', configPath]);
    expect(result.stdout).toMatch(/^DEVICE\s+CERT SN\s+STATUS\s+STATE\s+NOT AFTER\s+DAYS LEFT\s+SUPERSEDED\s+FINDINGS/);
    expect(result.stdout).toMatch(/weak_signature/);
  });

  it('--fail-on-finding exits 1 and names the finding and certificates; passes when none has it', async () => {
    const tripped = await runCli(['scan', '-c', configPath, '--format', 'json', '--fail-on-finding', 'weak_signature,age']);
    expect(tripped.code).toBe(1);
    expect(tripped.stderr).toMatch(/--fail-on-finding: finding weak_signature on \d+ certificates?: demo-org\/asset-\d+ \d+/);
    expect(tripped.stderr).not.toMatch(/finding age/);
    expect(() => JSON.parse(tripped.stdout)).not.toThrow();
    const passed = await runCli(['scan', '-c', configPath, '--fail-on-finding', 'age,unparseable']);
    expect(passed.code).toBe(0);
  });

  it('--fail-on-finding with a name that is not a finding is a usage error', async () => {
    const result = await runCli(['scan', '-c', configPath, '--fail-on-finding', 'weak-signature']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown finding "weak-signature"');
  });
});
