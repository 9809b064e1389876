import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redisCommand, startRedis, type RedisServer } from './redis.js';
import { waitFor } from './wait.js';

const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';

/** Three masters with one replica each, made by `redis-cli --cluster create` on loopback. */
export interface RedisClusterSet {
  readonly urls: readonly string[];
  /** The master that serves `key`'s hash slot now. */
  masterOf(key: string): Promise<RedisServer>;
  /** SIGKILL the master of `key`'s slot; `awaitPromotion` waits until its replica serves the slot. */
  killMasterOf(key: string): Promise<RedisServer>;
  awaitPromotion(key: string, dead: RedisServer): Promise<RedisServer>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisClusterSet> {
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers) await server.stop();
  };
  try {
    for (let i = 0; i < 6; i++) servers.push(await startRedis({ clusterMember: true }));
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await promisify(execFile)(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 30_000,
    });
    const alive = new Set(servers);
    const clusterOk = async (): Promise<boolean> => {
      for (const server of alive) {
        if (!String(await redisCommand(server.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
      }
      return true;
    };
    await waitFor(clusterOk, { timeoutMs: 30_000, what: 'the new cluster to be ok on every node' });
    // A replica can take over only once it has synced.
    await waitFor(
      async () => {
        const roles = await Promise.all(servers.map(async (s) => String(await redisCommand(s.port, 'INFO', 'replication'))));
        return roles.filter((info) => info.includes('role:slave') && info.includes('master_link_status:up')).length === 3;
      },
      { timeoutMs: 30_000, what: 'every replica to sync' },
    );
    const masterOf = async (key: string): Promise<RedisServer> => {
      const probe = [...alive][0]!;
      const slot = Number(await redisCommand(probe.port, 'CLUSTER', 'KEYSLOT', key));
      const ranges = (await redisCommand(probe.port, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const port = Number(range?.[2][1]);
      const server = servers.find((s) => s.port === port);
      if (server === undefined) throw new Error(`no master serves slot ${slot}`);
      return server;
    };
    return {
      urls: servers.map((s) => s.url),
      masterOf,
      killMasterOf: async (key) => {
        const master = await masterOf(key);
        await master.kill();
        alive.delete(master);
        return master;
      },
      awaitPromotion: async (key, dead) =>
        waitFor(
          async () => {
            const master = await masterOf(key);
            return master !== dead && (await clusterOk()) ? master : undefined;
          },
          { timeoutMs: 30_000, what: 'a replica to take over the dead master' },
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
