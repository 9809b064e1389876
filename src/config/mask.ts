import type { Config } from './load.js';

/** The effective config as plain data with every secret masked, for `check-config`. */
export function maskedConfig(config: Config): Record<string, unknown> {
  const { source: _source, ...rest } = config;
  const { ca: _ca, ...enos } = config.enos;
  return {
    ...rest,
    enos: { ...enos, appSecret: '***' },
    store: {
      ...config.store,
      ...(config.store.redisUrl !== undefined ? { redisUrl: maskUrlPassword(config.store.redisUrl) } : {}),
      ...(config.store.redisClusterUrls !== undefined
        ? { redisClusterUrls: config.store.redisClusterUrls.map(maskUrlPassword) }
        : {}),
      ...(config.store.redisSentinel !== undefined
        ? {
            redisSentinel: {
              ...config.store.redisSentinel,
              sentinels: config.store.redisSentinel.sentinels.map(maskUrlPassword),
              ...(config.store.redisSentinel.password !== undefined ? { password: '***' } : {}),
            },
          }
        : {}),
    },
    alertmanager: { ...config.alertmanager, urls: config.alertmanager.urls.map(maskUrlPassword) },
  };
}

/** `redis://user:pw@host` → `redis://user:***@host`. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
