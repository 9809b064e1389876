import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli, writeConfig } from '../support/cli.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const SRC = resolve(import.meta.dirname, '../../src');
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ devices: 5, seed: 71 });
});

afterAll(async () => {
  await simulator.close();
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('TLS to the gateway', () => {
  let dir: string;
  let gateway: Server;
  let baseUrl: string;

  beforeAll(async () => {
    // A gateway with a self-signed certificate for 127.0.0.1, passing everything on to the simulator.
    dir = mkdtempSync(join(tmpdir(), 'posture-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=enos-test-gateway',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    gateway = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void fetch(`${simulator.url}${request.url ?? '/'}`, {
          method: request.method ?? 'GET',
          headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.startsWith('apim-') || name === 'content-type')) as Record<string, string>,
          ...(request.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
        }).then(async (upstream) => response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()));
      });
    });
    await new Promise<void>((done) => gateway.listen(0, '127.0.0.1', done));
    baseUrl = `https://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => gateway.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  const scan = (caFile: string, env: NodeJS.ProcessEnv = {}) =>
    runCli(['scan', '--format', 'json', '-c', writeConfig(`
enos: { baseUrl: "${baseUrl}", appKey: demo-app-key, appSecret: demo-app-secret, maxAttempts: 1${caFile} }
inventory: { discover: [{ orgId: demo-org }] }
`)], env);
  const reasons = (stdout: string) => (JSON.parse(stdout) as { errors: Array<{ reason: string }> }).errors.map((e) => e.reason);

  it('refuses a certificate it cannot verify: outcome network, exit 3', async () => {
    const result = await scan('');
    expect(result.code).toBe(3);
    expect(reasons(result.stdout)).toEqual(['network']);
  });

  it('cannot be switched off through NODE_TLS_REJECT_UNAUTHORIZED', async () => {
    const result = await scan('', { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    expect(result.code).toBe(3);
    expect(reasons(result.stdout)).toEqual(['network']);
  });

  it('trusts the gateway once caFile names its CA', async () => {
    const result = await scan(`, caFile: "${join(dir, 'cert.pem')}"`);
    expect(result.code).toBe(0);
    expect(reasons(result.stdout)).toEqual([]);
  });

  it('has no code that turns verification off', () => {
    const offenders = sourceFiles(SRC).filter((file) =>
      /rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('the HTTP server', () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "0 0 1 1 *", runOnStart: false }
`);
  });

  afterAll(async () => {
    await daemon.kill();
  });

  const url = (path: string) => `http://127.0.0.1:${daemon.port}${path}`;

  it.each(['/metrics', '/healthz', '/readyz', '/', '/api/v1/status'])('answers only GET and HEAD on %s', async (path) => {
    for (const method of ['GET', 'HEAD']) expect((await fetch(url(path), { method })).status).toBe(200);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const response = await fetch(url(path), { method, body: method === 'OPTIONS' ? null : 'x' });
      expect([method, response.status, response.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD']);
    }
  });

  it.each(['/index.html', '/admin', '/api/v1/scan', '/metrics/../config', '/debug/pprof'])('serves nothing else: %s is 404', async (path) => {
    expect((await fetch(url(path), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(url(path))).status).toBe(404);
  });

  it('never reads a request body: a 10 MB upload is answered at once and its connection closed', async () => {
    const { head, closed } = await new Promise<{ head: string; closed: boolean }>((done, fail) => {
      const socket = connect(daemon.port, '127.0.0.1', () => {
        socket.write(`POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
        socket.write(Buffer.alloc(64 * 1024));
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', fail);
      socket.on('close', () => done({ head: text, closed: true }));
      socket.setTimeout(5_000, () => {
        socket.destroy();
        done({ head: text, closed: false });
      });
    });
    expect(head).toMatch(/^HTTP\/1\.1 405 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(closed).toBe(true);
  });

  it('refuses an oversized header block', async () => {
    const response = await fetch(url('/metrics'), { headers: { 'x-padding': 'x'.repeat(64 * 1024) } });
    expect(response.status).toBe(431);
  });
});
