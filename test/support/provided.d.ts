// Values test/support/global-setup.ts hands to the integration tests through `inject`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** redis:// URL of the shared redis-server. */
    redisUrl: string;
  }
}

export {};
