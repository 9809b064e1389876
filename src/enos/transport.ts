import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { apiFailure } from './failure.js';
import { EnosApiError, type Operation } from './outcome.js';

export interface HttpRequest {
  readonly operation: Operation;
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** The body parsed as JSON; undefined when it is not JSON (only possible for a non-2xx status). */
  readonly json: unknown;
}

/**
 * Sends one HTTP request. Failures throw EnosApiError with outcome `timeout`, `network` or
 * `invalid_response`; an abort of the caller's signal rethrows its reason.
 */
export interface Transport {
  send(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  readonly requestTimeoutMs: number;
  /** Extra trusted CA (PEM), added to Node's default roots. */
  readonly ca?: string;
  readonly maxBodyBytes?: number;
}

/** Larger than any certificate list or device page the gateway sends. */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** undici's own timeouts: they end an attempt the same way as ours. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * HTTP over one keep-alive undici Agent. TLS verification stays on, set explicitly so that no
 * environment variable can turn it off; `ca` only adds a root.
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const agent = new Agent({
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connect: { rejectUnauthorized: true, ...(options.ca !== undefined ? { ca: [...rootCertificates, options.ca] } : {}) },
  });

  const followAbort = abortFanOut();

  async function send(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    signal?.throwIfAborted();
    // One controller and one timer per attempt, both released at its end: AbortSignal.timeout
    // would keep its timer and signals alive for the whole timeout, and AbortSignal.any is slow.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.requestTimeoutMs);
    const forget = signal === undefined ? undefined : followAbort(signal, controller);
    try {
      const response = await request(req.url, {
        dispatcher: agent,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
      });
      const text = await readCapped(req.operation, response.body, maxBodyBytes);
      return { status: response.statusCode, json: parseJson(req.operation, response.statusCode, text) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw apiFailure(req.operation, 'timeout', `no answer within ${options.requestTimeoutMs} ms`);
      if (error instanceof EnosApiError) throw error;
      const code = errorCode(error);
      throw apiFailure(req.operation, TIMEOUT_CODES.has(code) ? 'timeout' : 'network', code);
    } finally {
      clearTimeout(timer);
      forget?.();
    }
  }

  return { send, close: () => agent.destroy() };
}

/**
 * Aborts the attempts in flight when their caller's signal aborts, with one listener per signal
 * however many attempts share it (a scan's signal is shared by thousands). Returns `forget`.
 */
function abortFanOut(): (signal: AbortSignal, controller: AbortController) => () => void {
  const inFlight = new WeakMap<AbortSignal, Set<AbortController>>();
  return (signal, controller) => {
    let controllers = inFlight.get(signal);
    if (controllers === undefined) {
      const set = new Set<AbortController>();
      signal.addEventListener('abort', () => set.forEach((each) => each.abort()), { once: true });
      inFlight.set(signal, set);
      controllers = set;
    }
    controllers.add(controller);
    return () => controllers.delete(controller);
  };
}

/** The body as text, read with stream events (cheaper than async iteration); over `maxBytes` fails. */
function readCapped(operation: Operation, body: Readable, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        reject(apiFailure(operation, 'invalid_response', `body larger than ${maxBytes} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    body.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    body.once('error', reject);
  });
}

function parseJson(operation: Operation, status: number, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (status >= 200 && status <= 299) throw apiFailure(operation, 'invalid_response', 'body is not JSON');
    return undefined;
  }
}

/** The system or undici error code (ECONNREFUSED, UND_ERR_SOCKET, ...), else the error's name. */
function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown error';
}
