import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Logger } from '../util/log.js';

export type RedisTargetConfig = Pick<Config['store'], 'redisUrl' | 'redisClusterUrls' | 'redisSentinel' | 'commandTimeoutMs'>;

const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/** Capped exponential backoff: 100 ms, 200 ms, ... at most 2 s; never gives up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_BASE_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 10), RECONNECT_MAX_MS);
}

/** host and port of a redis:// URL (6379 when it names none, 26379 for a Sentinel). */
export function endpointOf(url: string, defaultPort = 6379): { host: string; port: number } {
  const parsed = new URL(url);
  // IPv6 literals come back bracketed; the socket wants them bare.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || defaultPort) };
}

/** The credentials and TLS a redis:// URL carries, as ioredis options. */
function urlOptions(url: URL, prefix: '' | 'sentinel'): Record<string, unknown> {
  const name = (key: string): string => (prefix === '' ? key : `${prefix}${key[0]!.toUpperCase()}${key.slice(1)}`);
  return {
    ...(url.username ? { [name('username')]: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { [name('password')]: decodeURIComponent(url.password) } : {}),
  };
}

/**
 * One ioredis client for the configured topology: a single server (`redisUrl`), a Cluster
 * (`redisClusterUrls`) or a master found through Sentinel (`redisSentinel`). Every form
 * reconnects forever with `reconnectDelay`, and a command fails instead of waiting for long.
 */
export function createRedisClient(config: RedisTargetConfig): Redis | Cluster {
  const timeoutMs = config.commandTimeoutMs;
  const options = {
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    // Fail a queued command after one failed reconnect instead of keeping it for long.
    maxRetriesPerRequest: 1,
    // A command that timed out must not run later, when the connection comes back.
    autoResendUnfulfilledCommands: false,
  } satisfies RedisOptions;
  if (config.redisClusterUrls !== undefined) {
    const first = new URL(config.redisClusterUrls[0]!);
    return new Cluster(
      config.redisClusterUrls.map((url) => endpointOf(url)),
      {
        clusterRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: timeoutMs,
        redisOptions: { ...options, ...urlOptions(first, ''), ...(first.protocol === 'rediss:' ? { tls: {} } : {}) },
      },
    );
  }
  if (config.redisSentinel !== undefined) {
    const { name, sentinels, db, password } = config.redisSentinel;
    const first = new URL(sentinels[0]!);
    const tls = first.protocol === 'rediss:';
    return new Redis({
      ...options,
      name,
      db,
      ...(password !== undefined ? { password } : {}),
      sentinels: sentinels.map((url) => endpointOf(url, 26379)),
      ...urlOptions(first, 'sentinel'),
      ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      sentinelCommandTimeout: timeoutMs,
      sentinelRetryStrategy: reconnectDelay,
      retryStrategy: reconnectDelay,
      // A demoted master answers writes with READONLY: reconnect, which asks the Sentinels again.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
  }
  // ioredis reads host, port, credentials and db from the URL and turns on TLS for rediss://.
  return new Redis(config.redisUrl!, { ...options, retryStrategy: reconnectDelay });
}

/** Logs outages and recoveries once each, not every reconnect attempt. */
export function watchConnection(client: Redis | Cluster, log: Logger, target: string): void {
  let up: boolean | undefined;
  client.on('ready', () => {
    if (up !== true) log.info({ target }, 'redis connection ready');
    up = true;
  });
  client.on('error', (error: Error) => {
    if (up !== false) log.warn({ target, reason: error.message }, 'redis connection failed');
    else log.debug({ target, reason: error.message }, 'redis still unreachable');
    up = false;
  });
}

/** The configured addresses without credentials, for logs. */
export function describeTarget(config: RedisTargetConfig): string {
  const urls = config.redisClusterUrls ?? config.redisSentinel?.sentinels ?? [config.redisUrl ?? ''];
  const addresses = urls
    .map((url) => {
      const { protocol, host, pathname } = new URL(url);
      return `${protocol}//${host}${pathname === '/' ? '' : pathname}`;
    })
    .join(',');
  return config.redisSentinel ? `sentinel ${config.redisSentinel.name} via ${addresses}` : addresses;
}
