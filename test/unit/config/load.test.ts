import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath, unreadableFiles } from '../../../src/config/load.js';
import { maskedConfig } from '../../../src/config/mask.js';

const MINIMAL = `
enos: { baseUrl: https://apim.example.com, appKey: key, appSecret: s3cret-value }
inventory: { devices: [{ orgId: o1, assetId: a1 }] }
`;

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseConfig(yaml, 'test.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig errors, one line per problem by key path', () => {
  it.each<[string, string, string[]]>([
    ['a valid minimal config', MINIMAL, []],
    ['empty document', '', ['test.yaml: must be a YAML mapping']],
    ['broken YAML', 'enos: [', ['test.yaml: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 8']],
    ['missing sections', 'log: { level: info }', ['enos: is required', 'inventory: needs at least one of devices, files or discover']],
    ['unknown keys at any depth', `${MINIMAL}\nfoo: 1\nserver: { bar: 2 }`, ['server.bar: unknown key', 'foo: unknown key']],
    [
      'missing credentials',
      'enos: { baseUrl: https://a.example }\ninventory: { discover: [{ orgId: o }] }',
      ['enos.appKey: is required (or appKeyFile)', 'enos.appSecret: is required (or appSecretFile)'],
    ],
    [
      'credential given twice',
      'enos: { baseUrl: https://a.example, appKey: k, appKeyFile: /k, appSecret: s }\ninventory: { discover: [{ orgId: o }] }',
      ['enos.appKey: set appKey or appKeyFile, not both'],
    ],
    ['http to a remote host', MINIMAL.replace('https://apim.example.com', 'http://apim.example.com'), ['enos.baseUrl: http is allowed only for loopback hosts; use https']],
    ['not a URL', MINIMAL.replace('https://apim.example.com', 'apim'), ['enos.baseUrl: must be an http(s) URL']],
    ['criticalDays not below warningDays', `${MINIMAL}\nthresholds: { warningDays: 10, criticalDays: 10 }`, ['thresholds.criticalDays: must be less than warningDays']],
    ['wrong type', `${MINIMAL}\nserver: { port: nine }`, ['server.port: must be a number']],
    ['out of range', `${MINIMAL}\nserver: { port: 70000 }`, ['server.port: must be at most 65535']],
    ['zero concurrency', MINIMAL.replace('appSecret: s3cret-value', 'appSecret: s3cret-value, concurrency: 0'), ['enos.concurrency: must be at least 1']],
    ['enum', `${MINIMAL}\nmetrics: { perCertificate: some }`, ['metrics.perCertificate: must be one of: all, expiring, none']],
    ['device without identity', 'enos: { baseUrl: https://a.example, appKey: k, appSecret: s }\ninventory: { devices: [{ orgId: o1, productKey: p }] }', ['inventory.devices[0]: needs assetId, or productKey and deviceKey']],
    ['bad cron', `${MINIMAL}\nschedule: { cron: "61 * * * *" }`, ['schedule.cron: not a valid cron expression (61 is a invalid expression for minute)']],
    ['bad time zone', `${MINIMAL}\nschedule: { timezone: Mars/Olympus }`, ['schedule.timezone: not a known IANA time zone']],
    ['bad redis URL', `${MINIMAL}\nstore: { redisUrl: "http://r:6379" }`, ['store.redisUrl: must be a redis:// or rediss:// URL']],
    ['both redis forms', `${MINIMAL}\nstore: { redisUrl: "redis://a", redisClusterUrls: ["redis://b"] }`, ['store.redisClusterUrls: set only one of redisUrl, redisClusterUrls, redisSentinel (redisUrl is set too)']],
    [
      'three redis forms',
      `${MINIMAL}\nstore: { redisUrl: "redis://a", redisClusterUrls: ["redis://b"], redisSentinel: { name: m, sentinels: ["redis://s:26379"] } }`,
      [
        'store.redisClusterUrls: set only one of redisUrl, redisClusterUrls, redisSentinel (redisUrl is set too)',
        'store.redisSentinel: set only one of redisUrl, redisClusterUrls, redisSentinel (redisUrl is set too)',
      ],
    ],
    ['sentinel without name or sentinels', `${MINIMAL}\nstore: { redisSentinel: { db: 1 } }`, ['store.redisSentinel.name: is required', 'store.redisSentinel.sentinels: is required']],
    ['sentinel with a bad address', `${MINIMAL}\nstore: { redisSentinel: { name: m, sentinels: ["s:26379"], db: -1 } }`, ['store.redisSentinel.sentinels[0]: must be a redis:// or rediss:// URL', 'store.redisSentinel.db: must be at least 0']],
    ['sentinel with no sentinels', `${MINIMAL}\nstore: { redisSentinel: { name: m, sentinels: [] } }`, ['store.redisSentinel.sentinels: must have at least 1 item(s)']],
    ['bad alert label name', `${MINIMAL}\nalertmanager: { labels: { "bad-name": x } }`, ['alertmanager.labels.bad-name: must be a valid label name']],
    ['unset variable', MINIMAL.replace('appSecret: s3cret-value', 'appSecret: "${NOT_SET}"'), ['enos.appSecret: environment variable NOT_SET is not set']],
  ])('%s', (_name, yaml, expected) => {
    expect(problems(yaml)).toEqual(expected);
  });
});

describe('parseConfig values', () => {
  it('fills in every default', () => {
    const config = parseConfig(MINIMAL, 'test.yaml', {});
    expect(config.enos).toMatchObject({ requestTimeoutMs: 10_000, concurrency: 8, maxRequestsPerSecond: 20, maxAttempts: 4 });
    expect(config.schedule).toEqual({ cron: '0 * * * *', timezone: 'UTC', runOnStart: true });
    expect(config.thresholds).toEqual({ warningDays: 30, criticalDays: 7 });
    expect(config.store).toMatchObject({ keyPrefix: 'enos-cert-monitor:', historyMaxLength: 100_000 });
    expect(config.alertmanager).toMatchObject({ urls: [], resendIntervalSeconds: 60, labels: {}, revokedHoldHours: 24 });
    expect(config.server).toEqual({ host: '::', port: 9464, statusPage: true });
    expect(config.metrics.perCertificate).toBe('all');
    expect(config.log.level).toBe('info');
  });

  it('is frozen all the way down', () => {
    const config = parseConfig(MINIMAL, 'test.yaml', {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.inventory.devices[0])).toBe(true);
  });

  it('interpolates ${VAR} and ${VAR:-default}, typing whole-value numbers and booleans', () => {
    const yaml = `
enos: { baseUrl: "https://\${HOST}", appKey: "\${KEY:-fallback}", appSecret: "\${SECRET}" }
inventory: { devices: [{ orgId: "org-\${ORG}", assetId: a }] }
server: { port: "\${PORT:-9000}" }
schedule: { runOnStart: "\${RUN:-false}" }
`;
    const config = parseConfig(yaml, 'test.yaml', { HOST: 'gw.example', SECRET: 'x', ORG: '7' });
    expect(config.enos.baseUrl).toBe('https://gw.example');
    expect(config.enos.appKey).toBe('fallback');
    expect(config.inventory.devices[0]?.orgId).toBe('org-7');
    expect(config.server.port).toBe(9000);
    expect(config.schedule.runOnStart).toBe(false);
  });

  it('does not let an environment value change the document structure', () => {
    const config = parseConfig(MINIMAL.replace('a1', '"${ASSET}"'), 'test.yaml', { ASSET: 'x }\nfoo: { bar: 1' });
    expect(config.inventory.devices[0]?.assetId).toBe('x }\nfoo: { bar: 1');
  });

  it('reads secrets from files and never shows them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecm-config-'));
    writeFileSync(join(dir, 'key'), 'file-key\n');
    writeFileSync(join(dir, 'secret'), 'file-secret\n');
    const yaml = `enos: { baseUrl: https://a.example, appKeyFile: ${dir}/key, appSecretFile: ${dir}/secret }
inventory: { discover: [{ orgId: o }] }
store: { redisUrl: "redis://user:redis-pw@r:6379/0" }`;
    const config = parseConfig(yaml, 'test.yaml', {});
    expect(config.enos.appKey).toBe('file-key');
    expect(config.enos.appSecret.reveal()).toBe('file-secret');
    const shown = `${JSON.stringify(maskedConfig(config))}${JSON.stringify(config)}${inspect(config, { depth: 10 })}${String(config.enos.appSecret)}`;
    expect(shown).not.toContain('file-secret');
    expect(shown).toContain('redis://user:***@r:6379/0');
    expect(JSON.stringify(maskedConfig(config))).not.toContain('redis-pw');
  });

  it('masks the Sentinel password and Sentinel credentials in the effective config', () => {
    const config = parseConfig(
      `${MINIMAL}\nstore: { redisSentinel: { name: m, sentinels: ["redis://:sentinel-pw@s:26379"], password: master-pw } }`,
      'test.yaml',
      {},
    );
    const shown = JSON.stringify(maskedConfig(config));
    expect(shown).not.toContain('sentinel-pw');
    expect(shown).not.toContain('master-pw');
    expect(maskedConfig(config).store).toMatchObject({ redisSentinel: { name: 'm', db: 0, password: '***', sentinels: ['redis://:***@s:26379'] } });
  });

  it.each([
    ['appSecretFile', 'enos: { baseUrl: https://a.example, appKey: k, appSecretFile: /nonexistent/secret }', 'enos.appSecretFile: cannot read /nonexistent/secret (ENOENT)'],
    ['caFile', 'enos: { baseUrl: https://a.example, appKey: k, appSecret: s, caFile: /nonexistent/ca.pem }', 'enos.caFile: cannot read /nonexistent/ca.pem (ENOENT)'],
  ])('names an unreadable %s', (_key, enos, expected) => {
    expect(problems(`${enos}\ninventory: { discover: [{ orgId: o }] }`)).toEqual([expected]);
  });

  it('never prints a secret in an error', () => {
    const lines = problems(MINIMAL.replace('appSecret: s3cret-value', 'appSecret: s3cret-value, bogus: 1'));
    expect(lines).toEqual(['enos.bogus: unknown key']);
    expect(lines.join('\n')).not.toContain('s3cret-value');
  });
});

describe('config files', () => {
  it('resolves -c, then the environment variable, then config/config.yaml', () => {
    expect(resolveConfigPath('a.yaml', { ENOS_CERT_MONITOR_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { ENOS_CERT_MONITOR_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('config/config.yaml');
  });

  it('names a missing file', () => {
    expect(() => loadConfig('/nonexistent/config.yaml', {})).toThrow('/nonexistent/config.yaml: cannot read config file (ENOENT)');
  });

  it('reads relative file paths from the config file\'s folder and checks inventory files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecm-relative-'));
    writeFileSync(join(dir, 'key.txt'), 'the-key\n');
    const path = join(dir, 'config.yaml');
    writeFileSync(
      path,
      'enos: { baseUrl: https://apim.example.com, appKeyFile: key.txt, appSecret: s }\ninventory: { files: [devices.csv, /abs/list.json] }\n',
    );
    const config = loadConfig(path, {});
    expect(config.enos.appKey).toBe('the-key');
    expect(config.inventory.files).toEqual([join(dir, 'devices.csv'), '/abs/list.json']);
    expect(unreadableFiles(config)).toEqual([
      `inventory.files[0]: cannot read ${join(dir, 'devices.csv')} (ENOENT)`,
      'inventory.files[1]: cannot read /abs/list.json (ENOENT)',
    ]);
    writeFileSync(join(dir, 'devices.csv'), 'orgId,assetId\n');
    expect(unreadableFiles(config)).toHaveLength(1);
  });

  it.each(['config/config.example.yaml', 'config/demo.yaml'])('%s is valid', (path) => {
    const env = { ENOS_APP_KEY: 'k', ENOS_APP_SECRET: 's' };
    expect(() => parseConfig(readFileSync(path, 'utf8'), path, env)).not.toThrow();
  });
});
