import type { Config } from '../config/load.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { Store } from './store.js';

/** Redis when the config names one (URL, Cluster or Sentinel), otherwise memory, with a warning. */
export function createStore(config: Config, deps: { readonly clock: Clock; readonly log: Logger }): Store {
  const { store } = config;
  if (store.redisUrl !== undefined || store.redisClusterUrls !== undefined || store.redisSentinel !== undefined) {
    return new RedisStore(store, { log: deps.log });
  }
  deps.log
    .child({ component: 'store' })
    .warn('no store.redisUrl: state is kept in memory and lost on restart');
  return new MemoryStore({ historyMaxLength: store.historyMaxLength, clock: deps.clock });
}
