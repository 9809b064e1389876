import { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import { endpointOf } from './redis-connection.js';

/**
 * Why the configured store cannot be used: `config` is a mistake in the config file (retrying
 * will not help), `outage` is something that may come back by itself.
 */
export interface StoreTargetProblem {
  readonly kind: 'config' | 'outage';
  /** One line that starts with the config key, e.g. `store.redisSentinel.name: ...`. */
  readonly message: string;
}

type SentinelAnswer = { readonly url: string } & (
  | { readonly master: { host: string; port: number } | null }
  | { readonly error: string }
);

/**
 * Asks every configured Sentinel where the master is, before a command depends on it: a master
 * name that the reachable Sentinels do not know is a config mistake; no Sentinel reachable
 * is an outage. Undefined when there is nothing to check or a Sentinel names the master.
 */
export async function checkStoreTarget(store: Config['store']): Promise<StoreTargetProblem | undefined> {
  const sentinel = store.redisSentinel;
  if (sentinel === undefined) return undefined;
  const answers = await Promise.all(sentinel.sentinels.map((url) => askSentinel(url, sentinel.name, store.commandTimeoutMs)));
  if (answers.some((answer) => 'master' in answer && answer.master !== null)) return undefined;
  const asked = answers.map(({ url }) => hostOf(url)).join(', ');
  if (answers.some((answer) => 'master' in answer)) {
    return { kind: 'config', message: `store.redisSentinel.name: no Sentinel knows a master named "${sentinel.name}" (asked ${asked})` };
  }
  const reasons = answers.map((answer) => `${hostOf(answer.url)}: ${'error' in answer ? answer.error : ''}`).join('; ');
  return { kind: 'outage', message: `store.redisSentinel.sentinels: no Sentinel reachable (${reasons})` };
}

async function askSentinel(url: string, name: string, timeoutMs: number): Promise<SentinelAnswer> {
  const parsed = new URL(url);
  const client = new Redis({
    ...endpointOf(url, 26379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => undefined); // reported by connect() / call()
  try {
    await client.connect();
    const reply = await client.call('SENTINEL', 'get-master-addr-by-name', name);
    const master = Array.isArray(reply) ? { host: String(reply[0]), port: Number(reply[1]) } : null;
    return { url, master };
  } catch (error) {
    return { url, error: (error as Error).message };
  } finally {
    client.disconnect();
  }
}

/** host:port only: a Sentinel URL may carry a password. */
function hostOf(url: string): string {
  return new URL(url).host;
}
