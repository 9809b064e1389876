import type { Config } from '../config/load.js';
import { describeTarget } from '../state/redis-connection.js';
import type { Store } from '../state/store.js';

/** Where the store is, for a message: the Redis addresses without credentials, or `memory`. */
export function storeAddress(config: Config): string {
  const { store } = config;
  const redis = store.redisUrl !== undefined || store.redisClusterUrls !== undefined || store.redisSentinel !== undefined;
  return redis ? describeTarget(store) : 'memory';
}

/**
 * Pings the store once; when it does not answer, says so in one line naming it and returns false.
 * Run before the first device query, so an unreachable store fails fast instead of per device.
 */
export async function storeAnswers(store: Store, config: Config, command: string, stderr: NodeJS.WritableStream): Promise<boolean> {
  try {
    await store.ping();
    return true;
  } catch (error) {
    stderr.write(storeFailed(command, config, error));
    return false;
  }
}

/** One line naming the store and what went wrong, no stack trace. */
export function storeFailed(command: string, config: Config, error: unknown): string {
  const message = (error as Error).message;
  // ioredis words a refused connection as a retry limit; say what it means.
  const reason = /max retries per request/i.test(message) ? 'cannot connect' : message;
  return `${command}: the store at ${storeAddress(config)} does not answer (${reason})\n`;
}
