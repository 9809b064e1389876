import type { TestProject } from 'vitest/node';
import { startRedis, type RedisServer } from './redis.js';

/** One redis-server for the whole integration project; tests isolate themselves by key prefix. */
let redis: RedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  redis = await startRedis();
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
