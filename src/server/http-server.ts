import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/log.js';

/** What the server needs from the metrics: the exposition (chunks in order) and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  exposition(): Promise<readonly Buffer[]>;
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
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
    send(res, 200, options.metrics.contentType, await options.metrics.exposition());
  }
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
  body: string | readonly Buffer[],
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  const chunks = typeof body === 'string' ? [Buffer.from(body)] : body;
  const { headers } = res.req;
  const hasBody = (headers['content-length'] ?? '0') !== '0' || headers['transfer-encoding'] !== undefined;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': chunks.reduce((length, chunk) => length + chunk.length, 0),
    'Cache-Control': 'no-store',
    ...extraHeaders,
    ...(hasBody ? { Connection: 'close' } : {}),
  });
  // Corked: the chunks leave in one writev instead of one write each.
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
  res.uncork();
}
