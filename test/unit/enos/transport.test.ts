import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, type HttpRequest, type Transport } from '../../../src/enos/transport.js';
import { failureOf } from '../../support/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const server of servers.splice(0)) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server, handler: Handler): Promise<string> {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${server instanceof HttpsServer ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function transport(options: Partial<Parameters<typeof createHttpTransport>[0]> = {}): Transport {
  const created = createHttpTransport({ requestTimeoutMs: 2_000, ...options });
  transports.push(created);
  return created;
}

function get(base: string, path = '/x'): HttpRequest {
  return { operation: 'list_certificates', method: 'GET', url: new URL(path, base), headers: {} };
}

const json = (status: number, value: unknown): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

describe('HTTP transport', () => {
  it('sends method, headers and body, and parses a JSON answer', async () => {
    let seen: { method?: string; header?: string | string[]; body?: string } = {};
    const base = await listen(createHttpServer(), (req, res, body) => {
      seen = { method: req.method, header: req.headers['apim-timestamp'], body };
      json(200, { code: 0, data: [] })(req, res, body);
    });
    const response = await transport().send({
      operation: 'search_devices',
      method: 'POST',
      url: new URL('/devices?action=search', base),
      headers: { 'apim-timestamp': '123', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response).toEqual({ status: 200, json: { code: 0, data: [] } });
    expect(seen).toEqual({ method: 'POST', header: '123', body: '{"a":1}' });
  });

  it('keeps connections alive for later requests', async () => {
    const ports: number[] = [];
    const base = await listen(createHttpServer(), (req, res, body) => {
      ports.push(req.socket.remotePort!);
      json(200, { code: 0 })(req, res, body);
    });
    const client = transport();
    for (let i = 0; i < 5; i += 1) await client.send(get(base));
    expect(new Set(ports).size).toBeLessThan(ports.length);
  });

  it('returns a non-2xx answer whatever its body', async () => {
    const base = await listen(createHttpServer(), (_req, res) => res.writeHead(503).end('<html>busy</html>'));
    expect(await transport().send(get(base))).toEqual({ status: 503, json: undefined });
  });

  it.each([
    { name: 'a 2xx answer that is not JSON', handler: ((_q, res) => res.writeHead(200).end('<html>')) as Handler },
    { name: 'an empty 2xx answer', handler: ((_q, res) => res.writeHead(200).end()) as Handler },
    { name: 'a body over the size limit', handler: json(200, { code: 0, data: 'x'.repeat(4096) }) },
  ])('$name → invalid_response', async ({ handler }) => {
    const base = await listen(createHttpServer(), handler);
    const error = await failureOf(transport({ maxBodyBytes: 1024 }).send(get(base)));
    expect([error.operation, error.outcome]).toEqual(['list_certificates', 'invalid_response']);
  });

  it('ends a request that gets no answer in time → timeout', async () => {
    const base = await listen(createHttpServer(), () => undefined);
    const error = await failureOf(transport({ requestTimeoutMs: 150 }).send(get(base)));
    expect(error.outcome).toBe('timeout');
    expect(error.message).toBe('list_certificates failed: timeout (no answer within 150 ms)');
  });

  it('times out a body that stops half way', async () => {
    const base = await listen(createHttpServer(), (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"code":0,');
    });
    expect((await failureOf(transport({ requestTimeoutMs: 150 }).send(get(base)))).outcome).toBe('timeout');
  });

  it('rethrows the caller abort as it is, not as an outcome', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const base = await listen(createHttpServer(), () => arrived());
    const controller = new AbortController();
    const sent = transport().send(get(base), controller.signal);
    await requestArrived;
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(sent).rejects.toBe(reason);
  });

  it('refused connection → network', async () => {
    const server = createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const error = await failureOf(transport().send(get(`http://127.0.0.1:${port}`)));
    expect(error.outcome).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('connection dropped before the answer → network', async () => {
    const base = await listen(createHttpServer(), (req) => req.socket.destroy());
    expect((await failureOf(transport().send(get(base)))).outcome).toBe('network');
  });
});

describe('HTTP transport over TLS', () => {
  let dir: string;
  let tls: { key: string; cert: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'enos-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a certificate no trusted CA signed', async () => {
    const base = await listen(createHttpsServer(tls), json(200, { code: 0 }));
    expect((await failureOf(transport().send(get(base)))).outcome).toBe('network');
  });

  it('trusts a certificate signed by the configured extra CA', async () => {
    const base = await listen(createHttpsServer(tls), json(200, { code: 0 }));
    expect(await transport({ ca: tls.cert }).send(get(base))).toEqual({ status: 200, json: { code: 0 } });
  });
});
