import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from './listen.js';
import type { Logger } from '../util/log.js';

export type ContentEncoding = 'gzip' | 'identity';

/** A response body known by its length, written chunk by chunk as they come. */
export interface ExpositionBody {
  readonly length: number;
  readonly chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** What the server needs from the metrics: the exposition in either encoding, and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  exposition(encoding: ContentEncoding): Promise<ExpositionBody>;
}

/** A response other than the built-in endpoints' (the status page and its API). */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** More paths on the same server; it answers every method for them (405 is theirs to say). */
export interface HttpRoutes {
  serves(path: string): boolean;
  /** `search` is the query string with its `?`, or empty. */
  answer(method: string, path: string, search: string): Promise<HttpAnswer>;
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: MetricsSource;
  /** Readiness (config loaded, store answers); a throw or a slow answer counts as not ready. */
  readonly ready: () => Promise<boolean> | boolean;
  readonly log: Logger;
  /** A readiness check still pending after this long answers 503 (default 5 s). */
  readonly readyTimeoutMs?: number;
  /** The status page and API; absent: those paths are 404. */
  readonly routes?: HttpRoutes;
}

export interface HttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
/** A client that stops reading a large /metrics answer is cut off instead of pinning it in memory. */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_READY_TIMEOUT_MS = 5_000;
const TEXT = 'text/plain; charset=utf-8';

/** Serves /metrics, /healthz and /readyz; GET and HEAD only; request bodies are never read. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.log.child({ component: 'http' });
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS }, (req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      log.error({ err: error, path: req.url }, 'request failed');
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });
  server.setTimeout(SOCKET_IDLE_TIMEOUT_MS);

  const host = await listen(server, options.host, options.port);
  if (host !== options.host) log.info({ host, configured: options.host }, 'no IPv6 on this host: listening on IPv4 only');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0]!;
  if (options.routes?.serves(path)) {
    const answer = await options.routes.answer(req.method ?? 'GET', path, url.slice(path.length));
    send(res, answer.status, answer.contentType, answer.body, answer.headers);
    return;
  }
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    send(res, 404, TEXT, 'not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, TEXT, 'method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    send(res, 200, TEXT, 'ok\n');
  } else if (path === '/readyz') {
    const ready = await isReady(options.ready, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    send(res, ready ? 200 : 503, TEXT, ready ? 'ready\n' : 'not ready\n');
  } else {
    const encoding = acceptsGzip(req.headers['accept-encoding']) ? 'gzip' : 'identity';
    await sendBody(res, options.metrics.contentType, encoding, await options.metrics.exposition(encoding));
  }
}

/** Whether an Accept-Encoding header admits gzip (`gzip` or `*`, without `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  return (weights.get('gzip') ?? weights.get('*') ?? 0) > 0;
}

/** Writes the chunks as they come, waiting whenever the client reads slower than they come. */
async function sendBody(res: ServerResponse, contentType: string, encoding: ContentEncoding, body: ExpositionBody): Promise<void> {
  res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Vary: 'Accept-Encoding',
    ...(encoding === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
    ...(hasRequestBody(res.req) ? { Connection: 'close' } : {}),
  });
  // Corked between waits: the chunks ready at once leave in one writev instead of one write each.
  res.cork();
  for await (const chunk of body.chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      res.uncork();
      await drained(res);
      res.cork();
    }
  }
  res.end();
  res.uncork();
}

async function isReady(ready: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(ready), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Ends the response; a request that carried a body gets its connection closed rather than drained. */
function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  const text = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': text.length,
    'Cache-Control': 'no-store',
    ...extraHeaders,
    ...(hasRequestBody(res.req) ? { Connection: 'close' } : {}),
  });
  res.end(text);
}

/** Resolves once `res` can take more, or is closed (a client gone mid-body). */
async function drained(res: ServerResponse): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]);
  } finally {
    stop.abort();
  }
}

function hasRequestBody({ headers }: IncomingMessage): boolean {
  return (headers['content-length'] ?? '0') !== '0' || headers['transfer-encoding'] !== undefined;
}
