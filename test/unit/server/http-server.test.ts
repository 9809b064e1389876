import { Agent, request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsGzip, startHttpServer, type HttpRoutes, type HttpServer, type MetricsSource } from '../../../src/server/http-server.js';
import { silentLogger } from '../../../src/util/log.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request over a fresh connection; `body` is sent as-is when given; a gzip body is inflated. */
function call(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = res.headers['content-encoding'] === 'gzip' && raw.length > 0 ? gunzipSync(raw) : raw;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const TEXT = ['# HELP up x\n# TYPE up gauge\n', 'up 1\n'];

/** Plain chunks, or one gzip member per chunk (together one gzip stream). */
const metrics: MetricsSource = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  exposition: async (encoding) => {
    const chunks = TEXT.map((text) => (encoding === 'gzip' ? gzipSync(text) : Buffer.from(text)));
    return { length: Buffer.concat(chunks).length, chunks };
  },
};

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(
  options: { ready?: () => Promise<boolean> | boolean; metrics?: MetricsSource; readyTimeoutMs?: number; routes?: HttpRoutes } = {},
): Promise<number> {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: options.metrics ?? metrics,
    ready: options.ready ?? (() => true),
    log: silentLogger,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    ...(options.routes === undefined ? {} : { routes: options.routes }),
  });
  return server.port;
}

describe('startHttpServer', () => {
  it('serves the exposition chunks on /metrics with the text format content type', async () => {
    const port = await start();
    const answer = await call(port, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.body).toBe('# HELP up x\n# TYPE up gauge\nup 1\n');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.body)));
  });

  it('serves /metrics gzipped to a client that accepts it, plain to the others', async () => {
    const port = await start();
    const gzipped = await call(port, 'GET', '/metrics', undefined, { 'Accept-Encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('Accept-Encoding');
    expect(gzipped.body).toBe(TEXT.join(''));
    const refused = await call(port, 'GET', '/metrics', undefined, { 'Accept-Encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body).toBe(TEXT.join(''));
  });

  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['*', true],
    ['*;q=0', false],
    ['identity', false],
    ['br, deflate', false],
  ])('Accept-Encoding %j admits gzip: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('ignores a query string', async () => {
    const port = await start();
    expect((await call(port, 'GET', '/metrics?name[]=up')).status).toBe(200);
  });

  it('answers /healthz while alive, whatever readiness says', async () => {
    const port = await start({ ready: () => false });
    const answer = await call(port, 'GET', '/healthz');
    expect(answer).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it.each<[string, () => Promise<boolean> | boolean, number]>([
    ['ready', () => true, 200],
    ['ready, asynchronously', async () => true, 200],
    ['not ready', () => false, 503],
    ['not ready, asynchronously', async () => false, 503],
    ['a throwing check', () => {
      throw new Error('store down');
    }, 503],
    ['a rejecting check', () => Promise.reject(new Error('store down')), 503],
  ])('/readyz with %s → %i', async (_name, ready, status) => {
    const port = await start({ ready });
    expect((await call(port, 'GET', '/readyz')).status).toBe(status);
  });

  it('answers 503 when the readiness check hangs', async () => {
    const port = await start({ ready: () => new Promise<boolean>(() => {}), readyTimeoutMs: 50 });
    expect((await call(port, 'GET', '/readyz')).status).toBe(503);
  });

  it('follows readiness as it changes', async () => {
    let ready = false;
    const port = await start({ ready: () => ready });
    expect((await call(port, 'GET', '/readyz')).status).toBe(503);
    ready = true;
    expect((await call(port, 'GET', '/readyz')).status).toBe(200);
  });

  it.each(['/metrics', '/healthz', '/readyz'])('HEAD %s: headers without a body', async (path) => {
    const port = await start();
    const get = await call(port, 'GET', path);
    const head = await call(port, 'HEAD', path);
    expect(head.status).toBe(get.status);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  it.each(['/', '/metrics/', '/METRICS', '/favicon.ico', '/healthz/x'])('GET %s → 404', async (path) => {
    const port = await start();
    expect((await call(port, 'GET', path)).status).toBe(404);
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])('%s /metrics → 405 with Allow, body not read', async (method) => {
    const port = await start();
    const answer = await call(port, method, '/metrics', 'x'.repeat(100_000));
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
    expect(answer.headers.connection).toBe('close');
  });

  it('answers 500 when the metrics cannot be rendered', async () => {
    const port = await start({ metrics: { ...metrics, exposition: () => Promise.reject(new Error('boom')) } });
    const answer = await call(port, 'GET', '/metrics');
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('boom');
  });

  it('rejects an oversized header block', async () => {
    const port = await start();
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/metrics', agent: false, headers: { 'x-big': 'y'.repeat(20_000) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer).toBe(431);
  });

  it('close() does not wait for idle keep-alive connections', async () => {
    const port = await start();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await server!.close();
    server = undefined;
    agent.destroy();
  });

  it('hands the paths its routes serve to them, with method and query string, and sends their headers', async () => {
    const calls: string[] = [];
    const routes: HttpRoutes = {
      serves: (path) => path === '/' || path.startsWith('/api/'),
      answer: async (method, path, search) => {
        calls.push(`${method} ${path} ${search}`);
        return { status: 418, contentType: 'application/json', body: '{"a":1}', headers: { 'X-Test': 'yes' } };
      },
    };
    const port = await start({ routes });
    const answer = await call(port, 'POST', '/api/v1/x?limit=1&b=2');
    expect(answer).toMatchObject({ status: 418, body: '{"a":1}', headers: { 'x-test': 'yes', 'content-type': 'application/json', 'cache-control': 'no-store' } });
    expect((await call(port, 'GET', '/')).status).toBe(418);
    expect((await call(port, 'GET', '/metrics')).status).toBe(200);
    expect(calls).toEqual(['POST /api/v1/x ?limit=1&b=2', 'GET / ']);
  });

  it('answers 404 for / and /api/ without routes (status page turned off)', async () => {
    const port = await start();
    expect((await call(port, 'GET', '/')).status).toBe(404);
    expect((await call(port, 'GET', '/api/v1/status')).status).toBe(404);
  });

  it('fails to start on a port in use, and close() frees the port', async () => {
    const port = await start();
    await expect(
      startHttpServer({ host: '127.0.0.1', port, metrics, ready: () => true, log: silentLogger }),
    ).rejects.toThrow(/EADDRINUSE/);
    await server!.close();
    server = await startHttpServer({ host: '127.0.0.1', port, metrics, ready: () => true, log: silentLogger });
    expect(server.port).toBe(port);
  });
});
