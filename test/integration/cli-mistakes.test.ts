import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { CLI, runCli, startCli, writeConfig } from '../support/cli.js';
import { devicePicker, healthy, withoutCertificates } from '../support/monitor.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

/**
 * The mistakes a newcomer makes in the first hour, each run as a user would: the exit code and the
 * first lines of what the program says.
 */
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ devices: 30, seed: 11 });
});

afterAll(async () => {
  await simulator.close();
});

const FAST = 'maxRequestsPerSecond: 0, retryBaseDelayMs: 1, retryMaxDelayMs: 5';

interface ConfigParts {
  /** More top-level YAML (e.g. a store section). */
  readonly extra?: string;
  readonly enos?: string;
  readonly log?: string;
}

function configWith(inventory: string, parts: ConfigParts = {}): string {
  const enos = parts.enos ?? `baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret`;
  return writeConfig(`
enos: { ${enos}, ${FAST} }
inventory: ${inventory}
log: { ${parts.log ?? 'level: warn'} }
${parts.extra ?? ''}
`);
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const jsonLog = (line: string) => line.startsWith('{');

describe('scan names what went wrong', () => {
  it('names a device that does not exist, with the reason, in the table and in JSON', async () => {
    const path = configWith('{ devices: [{ orgId: wrong-org, assetId: nope }] }');
    const table = await runCli(['scan', '-c', path]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NOT QUERIED\s+RESULT\s+REASON\s+LAST ANSWER\s+MESSAGE\nwrong-org\/nope\s+not found\s+code_11404\s+-\s+.*check orgId and assetId/m);
    expect(table.stdout).toMatch(/^needs action: 1 devices not found$/m);
    const json = JSON.parse((await runCli(['scan', '-c', path, '--format', 'json'])).stdout) as { errors: unknown[] };
    expect(json.errors).toEqual([expect.objectContaining({ orgId: 'wrong-org', assetId: 'nope', source: 'device', reason: 'code_11404' })]);
  });

  it('warns when a discovery finds no device', async () => {
    const result = await runCli(['scan', '-c', configWith(`{ discover: [{ orgId: demo-org, expression: "productKey = 'none'" }] }`)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^INVENTORY\s+REASON\s+MESSAGE\nwarning\s+no_devices\s+discover demo-org: Search Device found no device matching "productKey = 'none'"/m);
    expect(lines(result.stderr).filter((line) => !jsonLog(line))).toEqual(['scan: the inventory lists no device; nothing was scanned']);
  });

  it('--fail-on says which certificates tripped it', async () => {
    const result = await runCli(['scan', '-c', configWith('{ discover: [{ orgId: demo-org }] }'), '--fail-on', 'critical']);
    expect(result.code).toBe(1);
    const said = lines(result.stderr).filter((line) => !jsonLog(line));
    expect(said[0]).toMatch(/^scan: --fail-on critical reached by \d+ certificate\(s\):$/);
    expect(said[1]).toMatch(/^ {2}demo-org\/asset-\d+ cert \d+: (critical|expired), notAfter \S+ \(-?\d+ days left\)$/);
  });

  it('names the gateway URL when baseUrl is wrong, and exits 3', async () => {
    const port = await freePort();
    const path = configWith('{ discover: [{ orgId: demo-org }] }', { enos: `baseUrl: "http://127.0.0.1:${port}", appKey: demo-app-key, appSecret: demo-app-secret` });
    const result = await runCli(['scan', '-c', path]);
    expect(result.code).toBe(3);
    const said = lines(result.stderr).filter((line) => !jsonLog(line));
    expect(said).toEqual([
      `scan: no device could be queried: discover demo-org: page 1 failed: token failed: network (ECONNREFUSED) at http://127.0.0.1:${port}/apim-token-service/v2.0/token/get: cannot reach the gateway: check enos.baseUrl, DNS and the network path`,
    ]);
    expect(result.stdout).toMatch(/^INVENTORY\s+REASON\s+MESSAGE\nerror\s+network\s+discover demo-org/m);
    expect(result.stdout).not.toContain('demo-org//');
  });

  it('explains a wrong appSecret in the message itself', async () => {
    const target = devicePicker(simulator, Date.now())(healthy);
    const path = configWith(`{ devices: [{ orgId: demo-org, assetId: ${target.ref.assetId} }] }`, {
      enos: `baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: not-it`,
    });
    const result = await runCli(['scan', '-c', path]);
    expect(result.code).toBe(3);
    expect(lines(result.stderr).filter((line) => !jsonLog(line))).toEqual([
      'scan: no device could be queried: token failed: code_1003 (Invalid encryption): the appSecret is wrong (the encryption did not match): check enos.appSecret',
    ]);
    expect(result.stderr).not.toContain('not-it');
  });
});

describe('the scan table', () => {
  const path = () => configWith('{ discover: [{ orgId: demo-org }] }');

  interface Row {
    readonly device: string;
    readonly certSN: string;
    readonly state: string;
    readonly notAfter: string;
    readonly superseded: boolean;
  }
  const certificateRows = (stdout: string): Row[] =>
    stdout
      .split('\n\n')[0]!
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/))
      .filter((cells) => cells[1] !== '-')
      .map((cells) => ({ device: cells[0]!, certSN: cells[1]!, state: cells[3]!, notAfter: cells[4]!, superseded: cells[6] === 'yes' }));

  it('lists certificates soonest notAfter first, hides superseded ones, lists devices without certificates, and sums up', async () => {
    const result = await runCli(['scan', '-c', path()]);
    expect(result.code).toBe(0);
    const rows = certificateRows(result.stdout);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.map((r) => r.notAfter)).toEqual(rows.map((r) => r.notAfter).sort());
    expect(rows.some((r) => r.superseded)).toBe(false);
    const bare = devicePicker(simulator, Date.now())(withoutCertificates);
    expect(result.stdout).toMatch(new RegExp(`^${deviceId(bare.ref)}\\s+-\\s+-\\s+no certificate$`, 'm'));
    const summary = lines(result.stdout).slice(-3);
    expect(summary[0]).toMatch(/^needs action: (\d+ (expired|critical|warning|revoked)(, )?)+$/);
    expect(summary[1]).toMatch(/^next to expire: demo-org\/asset-\d+ cert \d+ on \S+ \(\d+ days left, (critical|warning|ok)\)$/);
    expect(summary[2]).toMatch(/^scan success: 30 devices \(30 ok, 0 not found, 0 failed\), \d+ certificates \(\d+ not shown: superseded or filtered out\)/);
  });

  it('--show-superseded lists them; --state filters the table; JSON keeps everything', async () => {
    const all = certificateRows((await runCli(['scan', '-c', path(), '--show-superseded'])).stdout);
    expect(all.some((r) => r.superseded)).toBe(true);
    const urgent = certificateRows((await runCli(['scan', '-c', path(), '--state', 'warning,critical'])).stdout);
    expect(urgent.length).toBeGreaterThan(0);
    expect(new Set(urgent.map((r) => r.state))).toEqual(new Set(['warning', 'critical']));
    const json = JSON.parse((await runCli(['scan', '-c', path(), '--format', 'json', '--state', 'critical'])).stdout) as { certificates: unknown[] };
    expect(json.certificates.length).toBe(all.length);
  });

  it('rejects an unknown state', async () => {
    const result = await runCli(['scan', '-c', path(), '--state', 'warn']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)[0]).toBe('--state takes a comma-separated list of: ok, warning, critical, expired, revoked');
  });
});

describe('inventory files and relative paths', () => {
  it('reads a semicolon-separated CSV (as Excel saves it) next to the config file, from any working directory', async () => {
    const target = devicePicker(simulator, Date.now())(healthy);
    const path = configWith('{ files: [devices.csv] }');
    writeFileSync(join(dirname(path), 'devices.csv'), `orgId;assetId\r\ndemo-org;${target.ref.assetId}\r\n`);
    const result = await runCli(['scan', '-c', path, '--format', 'json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { devices: unknown }).devices).toEqual({ total: 1, ok: 1, notFound: 0, failed: 0 });
  });

  it('shows an unusable file as a file problem naming the path and its first row, not as a device', async () => {
    const path = configWith('{ files: [devices.csv] }');
    const file = join(dirname(path), 'devices.csv');
    writeFileSync(file, 'org|asset\ndemo-org|asset-000001\n');
    const result = await runCli(['scan', '-c', path]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`error      no_header  ${file}: needs a header row naming orgId and assetId`);
    expect(result.stdout).toContain('its first row reads "org|asset"');
    expect(result.stdout).not.toMatch(/^\/\//m);
  });

  it('a missing inventory file: the scan names the path it tried', async () => {
    const path = configWith('{ files: [missing.csv] }');
    const result = await runCli(['scan', '-c', path]);
    expect(result.code).toBe(3);
    expect(lines(result.stderr).filter((line) => !jsonLog(line))).toEqual([
      `scan: no device could be queried: ${join(dirname(path), 'missing.csv')}: cannot read (ENOENT)`,
    ]);
  });

  it.each([
    ['an inventory file', '{ files: [missing.csv] }', '', (dir: string) => `inventory.files[0]: cannot read ${join(dir, 'missing.csv')} (ENOENT)`],
    ['caFile', '{ devices: [{ orgId: o, assetId: a }] }', 'caFile: ca.pem', (dir: string) => `enos.caFile: cannot read ${join(dir, 'ca.pem')} (ENOENT)`],
  ])('check-config exits 2 when %s is missing, naming the key and the path tried', async (_what, inventory, enosExtra, expected) => {
    const enos = `baseUrl: "${simulator.url}", appKey: k, appSecret: s${enosExtra ? `, ${enosExtra}` : ''}`;
    const path = configWith(inventory, { enos });
    const result = await runCli(['check-config', '-c', path]);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([expected(dirname(path))]);
  });

  it('check-config exits 2 when a secret file is missing, naming the path tried next to the config', async () => {
    const path = configWith('{ devices: [{ orgId: o, assetId: a }] }', {
      enos: `baseUrl: "${simulator.url}", appKey: k, appSecretFile: secrets/appSecret`,
    });
    const result = await runCli(['check-config', '-c', path]);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([`enos.appSecretFile: cannot read ${join(dirname(path), 'secrets', 'appSecret')} (ENOENT)`]);
  });

  it('check-config reads a secret file next to the config, whatever the working directory', async () => {
    const path = configWith('{ devices: [{ orgId: o, assetId: a }] }', {
      enos: `baseUrl: "${simulator.url}", appKey: k, appSecretFile: secrets/appSecret`,
    });
    mkdirSync(join(dirname(path), 'secrets'));
    writeFileSync(join(dirname(path), 'secrets', 'appSecret'), 'the-secret\n');
    const result = await runCli(['check-config', '-c', path]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)[0]).toBe(`# ${path}: valid`);
    expect(result.stdout + result.stderr).not.toContain('the-secret');
  });
});

describe('the store', () => {
  it('scan: an unreachable Redis is one line naming its address, exit 3, and no device is queried', async () => {
    const port = await freePort();
    const path = configWith('{ discover: [{ orgId: demo-org }] }', { extra: `store: { redisUrl: "redis://127.0.0.1:${port}/0", commandTimeoutMs: 500 }` });
    const before = simulator.stats.listRequests;
    const result = await runCli(['scan', '-c', path]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr).filter((line) => !jsonLog(line))).toEqual([
      `scan: the store at redis://127.0.0.1:${port}/0 does not answer (cannot connect)`,
    ]);
    expect(simulator.stats.listRequests).toBe(before);
  });

  it('history: exit 2 without a Redis store, exit 3 naming it when unreachable, no stack trace', async () => {
    const memory = await runCli(['history', '-c', configWith('{ discover: [{ orgId: demo-org }] }')]);
    expect(memory.code).toBe(2);
    expect(lines(memory.stderr)[0]).toMatch(/^history: \S+ names no Redis store \(store\.redisUrl/);
    const port = await freePort();
    const down = await runCli(['history', '-c', configWith('{ discover: [{ orgId: demo-org }] }', { extra: `store: { redisUrl: "redis://127.0.0.1:${port}/0", commandTimeoutMs: 500 }` })]);
    expect(down.code).toBe(3);
    expect(lines(down.stderr).filter((line) => !jsonLog(line))).toEqual([`history: the store at redis://127.0.0.1:${port}/0 does not answer (cannot connect)`]);
    expect(down.stderr).not.toMatch(/^\s+at /m);
  });

  it('history --device takes the id as scan prints it and the other usual spellings', async () => {
    const devices = await startSimulator({ devices: 6, seed: 5 });
    try {
      const target = devicePicker(devices, Date.now())(healthy);
      const { orgId, productKey, deviceKey, assetId } = target.ref as Required<typeof target.ref>;
      // Listed by keys, so the scan prints it as orgId/productKey/deviceKey.
      const store = `store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "cli-device-${Date.now()}:" }`;
      const path = writeConfig(`
enos: { baseUrl: "${devices.url}", appKey: demo-app-key, appSecret: demo-app-secret, ${FAST} }
inventory: { devices: [{ orgId: ${orgId}, productKey: ${productKey}, deviceKey: ${deviceKey} }] }
${store}
`);
      expect((await runCli(['scan', '-c', path])).code).toBe(0);
      devices.fleet.revoke(target.ref, String(target.cert!.certSN));
      const second = await runCli(['scan', '-c', path]);
      expect(second.stdout).toContain(`revoked  ${orgId}/${productKey}/${deviceKey}`);
      for (const spelling of [`${orgId}/${productKey}/${deviceKey}`, `${orgId}/${productKey}:${deviceKey}`, `${productKey}:${deviceKey}`, ` ${deviceKey} `]) {
        const result = await runCli(['history', '-c', path, '--device', spelling, '--format', 'json']);
        expect(result.code, spelling).toBe(0);
        expect((JSON.parse(result.stdout) as Array<{ type: string }>).map((e) => e.type), spelling).toEqual(['revoked']);
      }
      const other = await runCli(['history', '-c', path, '--device', `${orgId}/${assetId}x`]);
      expect(lines(other.stdout)).toEqual(['AT  CHANGE  DEVICE  CERT SN  FROM  TO']);
      expect(lines(other.stderr).filter((line) => !jsonLog(line))).toEqual([`history: no change recorded for device ${orgId}/${assetId}x`]);
    } finally {
      await devices.close();
    }
  });
});

describe('demo', () => {
  it('honours --port and prints the status page and /metrics URLs first', async () => {
    const port = await freePort();
    const demo = startCli(['demo', '--port', String(port)]);
    try {
      await demo.waitForOutput(/^metrics:/m);
      expect(lines(demo.stdout()).filter((line) => !jsonLog(line)).slice(0, 2)).toEqual([
        `status page: http://127.0.0.1:${port}/`,
        `metrics:     http://127.0.0.1:${port}/metrics`,
      ]);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      demo.process.kill('SIGTERM');
    }
    expect((await demo.exited).code).toBe(0);
  });

  it('a port in use is one clear line and exit 2', async () => {
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runCli(['demo', '--port', String(port)]);
      expect(result.code).toBe(2);
      expect(lines(result.stderr)).toEqual([`demo: port ${port} on 127.0.0.1 is already in use; choose another with --port N`]);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('rejects a bad --port', async () => {
    const result = await runCli(['demo', '--port', 'x']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)[0]).toBe('--port must be an integer from 0 to 65535');
  });
});

describe('logs for people', () => {
  const unknownDevice = '{ devices: [{ orgId: wrong-org, assetId: nope }] }';

  it('are readable lines on a terminal and JSON in a pipe', async () => {
    const path = configWith(unknownDevice, { log: 'level: info' });
    // script(1) gives the program a terminal, as a person running it has.
    const { stdout } = await promisify(execFile)('script', ['-qec', `${process.execPath} ${CLI} scan -c ${path}`, '/dev/null'], {
      env: { PATH: process.env.PATH },
    });
    expect(stdout).toMatch(/^\d\d:\d\d:\d\d INFO {2}inventory: inventory read {2}devices=1 complete=true/m);
    expect(stdout).not.toContain('{"level"');
    const piped = await runCli(['scan', '-c', path]);
    expect(lines(piped.stderr).filter(jsonLog).length).toBeGreaterThan(0);
  });

  it('log.format: pretty forces readable lines in a pipe', async () => {
    const result = await runCli(['scan', '-c', configWith(unknownDevice, { log: 'level: warn, format: pretty' })]);
    expect(lines(result.stderr)[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}store: no store\.redisUrl/);
  });
});

describe('simulate --churn', () => {
  it('changes the world so that scans record revocations, renewals and expiries', async () => {
    const port = await freePort();
    const sim = startCli(['simulate', '--port', String(port), '--devices', '20', '--churn', '--churn-seconds', '1']);
    try {
      await sim.waitForOutput(/listening on/);
      const store = `store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "cli-churn-${Date.now()}:" }`;
      const path = writeConfig(`
enos: { baseUrl: "http://127.0.0.1:${port}", appKey: demo-app-key, appSecret: demo-app-secret, ${FAST} }
inventory: { discover: [{ orgId: demo-org }] }
${store}
`);
      expect((await runCli(['scan', '-c', path])).code).toBe(0);
      const seen = new Set<string>();
      await waitFor(
        async () => {
          await runCli(['scan', '-c', path]);
          const history = JSON.parse((await runCli(['history', '-c', path, '--format', 'json'])).stdout) as Array<{ type: string }>;
          for (const event of history) seen.add(event.type);
          return seen.has('revoked') && seen.has('renewed') && seen.has('added') ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'revoked, renewed and added events' },
      );
    } finally {
      sim.process.kill('SIGTERM');
      await sim.exited;
    }
  });
});
