import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig, type CliResult } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const RECORDER = pathToFileURL(resolve(import.meta.dirname, '../support/record-imports.mjs')).href;
const DIST = pathToFileURL(resolve(import.meta.dirname, '../../dist')).href;

/** Runs the CLI and returns what it imported. */
async function imports(args: readonly string[]): Promise<{ result: CliResult; urls: string[] }> {
  const log = join(mkdtempSync(join(tmpdir(), 'ecm-imports-')), 'imports.txt');
  const result = await runCli(args, { NODE_OPTIONS: `--import ${RECORDER}`, IMPORT_LOG: log });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { result, urls };
}

/** What a command that neither scans nor serves must not load: the HTTP client, the metrics registry, the simulator. */
const HEAVY = [/\/node_modules\/undici\//, /\/node_modules\/prom-client\//, /\/dist\/simulator\//, /\/dist\/metrics\//, /\/dist\/enos\/client\.js$/];

function heavyIn(urls: readonly string[]): string[] {
  return urls.filter((url) => HEAVY.some((pattern) => pattern.test(url)));
}

const CONFIG = `
enos: { baseUrl: http://127.0.0.1:9, appKey: k, appSecret: s }
inventory: { devices: [{ orgId: o1, assetId: a1 }] }
`;

describe('start-up loads only what the command needs', () => {
  it('--version loads the entry point and the version, nothing else of the program', async () => {
    const { result, urls } = await imports(['--version']);
    expect(result.code).toBe(0);
    expect(urls.filter((url) => url.startsWith(DIST)).map((url) => url.slice(DIST.length)).sort()).toEqual(['/cli.js', '/version.js']);
    expect(urls.filter((url) => url.includes('/node_modules/'))).toEqual([]);
  });

  it('check-config loads no HTTP client, metrics registry or simulator', async () => {
    const { result, urls } = await imports(['check-config', '-c', writeConfig(CONFIG)]);
    expect(result.code).toBe(0);
    expect(urls.some((url) => url.endsWith('/dist/commands/check-config.js'))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });

  it('history loads no HTTP client, metrics registry or simulator', async () => {
    const port = await freePort();
    const config = writeConfig(`${CONFIG}store: { redisUrl: 'redis://127.0.0.1:${port}', commandTimeoutMs: 200 }\n`);
    const { result, urls } = await imports(['history', '-c', config]);
    expect(result.code).not.toBe(0); // the store is unreachable
    expect(urls.some((url) => url.endsWith('/dist/commands/history.js'))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });

  it('the scanning commands do load them (the check above can fail)', async () => {
    const { urls } = await imports(['scan', '-c', writeConfig(CONFIG), '--format', 'json']);
    expect(heavyIn(urls).length).toBeGreaterThan(0);
  });
});
