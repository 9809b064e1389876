import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { runCli, writeConfig } from '../support/cli.js';
import { sample, startDaemon } from '../support/daemon.js';

const APP_KEY = 'secrets-app-key';
const APP_SECRET = `app-secret-${randomBytes(12).toString('hex')}`;
const run = randomUUID();
const keyPrefix = `secrets-${run}:`;

let simulator: Simulator;
let gateway: Server;
let gatewayUrl: string;
let alertmanager: AlertmanagerServer;
/** Every credential that crossed the wire: tokens, signatures, token-request proofs, device secrets. */
const seen = { tokens: new Set<string>(), signatures: new Set<string>(), encryptions: new Set<string>(), deviceSecrets: new Set<string>() };

/**
 * Between the monitor and the simulator: records the credentials of every request, and answers
 * Search Device with each device's deviceSecret although the projection leaves it out (a gateway
 * that ignores projections).
 */
async function startRecordingGateway(): Promise<void> {
  gateway = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const token = request.headers['apim-accesstoken'];
      const signature = request.headers['apim-signature'];
      if (typeof token === 'string') seen.tokens.add(token);
      if (typeof signature === 'string') seen.signatures.add(signature);
      if (request.url?.startsWith('/apim-token-service')) seen.encryptions.add(String((JSON.parse(body) as { encryption?: unknown }).encryption));
      const upstream = await fetch(`${simulator.url}${request.url ?? '/'}`, {
        method: request.method ?? 'GET',
        headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.startsWith('apim-') || name === 'content-type')) as Record<string, string>,
        ...(request.method === 'POST' ? { body } : {}),
      });
      let text = await upstream.text();
      const answer = JSON.parse(text) as { data?: unknown };
      if (request.url?.startsWith('/apim-token-service')) {
        const grant = answer.data as { accessToken?: string } | null;
        if (grant?.accessToken) seen.tokens.add(grant.accessToken);
      } else if (request.url?.startsWith('/connect-service/v2.1/devices') && Array.isArray(answer.data)) {
        for (const device of answer.data as Array<Record<string, unknown>>) {
          device.deviceSecret = simulator.fleet.find({ orgId: simulator.fleet.orgId, assetId: String(device.assetId) })?.deviceSecret;
        }
        text = JSON.stringify(answer);
      }
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    })();
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  simulator = await startSimulator({ devices: 25, seed: 61, appKey: APP_KEY, appSecret: APP_SECRET });
  for (const device of simulator.fleet.devices()) seen.deviceSecrets.add(device.deviceSecret);
  await startRecordingGateway();
  alertmanager = await startAlertmanager();
});

afterAll(async () => {
  await new Promise((resolve) => gateway?.close(resolve));
  gateway?.closeAllConnections();
  await alertmanager?.stop();
  await simulator?.close();
});

/** Every key of this test's prefix with its whole content, as text. */
async function redisDump(): Promise<string> {
  const redis = new Redis(inject('redisUrl'));
  try {
    const parts: string[] = [];
    for (const key of await redis.keys(`${keyPrefix}*`)) {
      const type = await redis.type(key);
      const value =
        type === 'hash'
          ? await redis.hgetall(key)
          : type === 'stream'
            ? await redis.xrange(key, '-', '+')
            : type === 'zset'
              ? await redis.zrange(key, 0, -1, 'WITHSCORES')
              : await redis.get(key);
      parts.push(key, JSON.stringify(value));
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('secrets', () => {
  it('appear in no output, log, metric, alert or Redis key or value, at debug level', async () => {
    const config = `
enos: { baseUrl: "${gatewayUrl}", appKey: ${APP_KEY}, appSecret: "\${ENOS_APP_SECRET}", maxRequestsPerSecond: 0,
        maxAttempts: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 5 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "${keyPrefix}" }
alertmanager: { urls: ["${alertmanager.url}"], labels: { run: "${run}" } }
log: { level: debug }
`;
    const env = { ENOS_APP_SECRET: APP_SECRET };
    const path = writeConfig(config);
    const outputs: string[] = [];
    const keep = (result: { stdout: string; stderr: string }): void => void outputs.push(result.stdout, result.stderr);

    const checked = await runCli(['check-config', '-c', path], env);
    expect(checked.code).toBe(0);
    keep(checked);
    const scanned = await runCli(['scan', '-c', path, '--format', 'json'], env);
    expect(scanned.code).toBe(0);
    keep(scanned);

    const daemon = await startDaemon(config, env);
    try {
      await daemon.waitForMetrics((body) => sample(body, 'enos_scans_total', { result: 'success' }) >= 1, 'a scan');
      // Refused tokens, retries and the re-fetch are logged at debug level too.
      simulator.expireTokens();
      simulator.faults.set('*', { kind: 'http_429', times: 3 });
      const scans = sample(await daemon.metrics(), 'enos_scans_total');
      outputs.push(await daemon.waitForMetrics((body) => sample(body, 'enos_scans_total') >= scans + 2, 'two more scans'));
      outputs.push((await daemon.get('/readyz')).body, (await daemon.get('/healthz')).body);
    } finally {
      daemon.cli.process.kill('SIGTERM');
      keep(await daemon.cli.exited);
    }
    keep(await runCli(['history', '-c', path, '--format', 'json'], env));
    outputs.push(await redisDump(), JSON.stringify(await alertmanager.alerts()));

    // The run did what it should: debug logs, tokens refreshed, secrets served by the gateway.
    const everything = outputs.join('\n');
    expect(everything).toContain('"level":"debug"');
    expect(seen.tokens.size).toBeGreaterThanOrEqual(2);
    expect(seen.signatures.size).toBeGreaterThan(50);
    expect(seen.encryptions.size).toBeGreaterThanOrEqual(2);
    expect(everything).toContain(`${keyPrefix}{certs}:snapshots`);

    const leaked = [APP_SECRET, ...seen.tokens, ...seen.signatures, ...seen.encryptions, ...seen.deviceSecrets].filter((secret) =>
      everything.includes(secret),
    );
    expect(leaked).toEqual([]);
  });
});
