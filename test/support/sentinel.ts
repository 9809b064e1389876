import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreePort, launchServer, terminate } from './server-process.js';
import { redisCommand, startRedis, type RedisServer } from './redis.js';
import { waitFor } from './wait.js';

const REDIS_SENTINEL = process.env.REDIS_SENTINEL ?? 'redis-sentinel';
export const MASTER_NAME = 'certs-master';

/**
 * A master, one replica and three Sentinels (quorum 2) on loopback, tuned to fail over within a
 * few seconds of the master's death.
 */
export interface SentinelSet {
  readonly name: string;
  /** `redis://127.0.0.1:port` of each Sentinel. */
  readonly sentinelUrls: readonly string[];
  /** The server the Sentinels call master now. */
  master(): Promise<RedisServer>;
  /** SIGKILL the current master and wait until the Sentinels have promoted the replica. */
  killMasterAndAwaitFailover(): Promise<RedisServer>;
  /** SIGKILL the current master; `awaitFailover` waits for the promotion. */
  killMaster(): Promise<RedisServer>;
  awaitFailover(from: RedisServer): Promise<RedisServer>;
  /** Restarts every killed server (empty) and waits until the Sentinels use it as a synced replica. */
  heal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSentinelSet(): Promise<SentinelSet> {
  const servers: RedisServer[] = [];
  const sentinels: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-test-'));
  const stop = async (): Promise<void> => {
    for (const child of sentinels) await terminate(child, 'SIGKILL');
    for (const server of servers) await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const first = await startRedis();
    servers.push(first);
    servers.push(await startRedis({ replicaOf: first.port }));
    await waitFor(async () => String(await redisCommand(servers[1]!.port, 'INFO', 'replication')).includes('master_link_status:up'), {
      timeoutMs: 10_000,
      what: 'the replica to sync',
    });
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      await onFreePort(async (port) => {
        sentinels.push(await launchSentinel(dir, port, first.port));
        ports.push(port);
      });
    }
    // A Sentinel can fail over only to a replica it knows, with the others' votes.
    for (const port of ports) {
      await waitFor(
        async () => {
          const fields = flatToMap((await redisCommand(port, 'SENTINEL', 'MASTER', MASTER_NAME)) as string[]);
          return fields.get('num-slaves') === '1' && fields.get('num-other-sentinels') === '2';
        },
        { timeoutMs: 20_000, what: `Sentinel ${port} to see the replica and the other Sentinels` },
      );
    }
    const masterPort = async (): Promise<number> => {
      const [, port] = (await redisCommand(ports[0]!, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[];
      return Number(port);
    };
    const master = async (): Promise<RedisServer> => byPort(servers, await masterPort());
    const awaitFailover = async (from: RedisServer): Promise<RedisServer> => {
      await waitFor(
        async () => {
          const port = await masterPort();
          if (port === from.port) return false;
          return String(await redisCommand(port, 'INFO', 'replication')).includes('role:master');
        },
        { timeoutMs: 30_000, what: 'the Sentinels to promote the replica' },
      );
      return master();
    };
    const killed = new Set<RedisServer>();
    const killMaster = async (): Promise<RedisServer> => {
      const current = await master();
      await current.kill();
      killed.add(current);
      return current;
    };
    const heal = async (): Promise<void> => {
      for (const server of killed) {
        killed.delete(server);
        await server.restart();
        // The Sentinels would turn a returning master into a replica of the one they promoted
        // after a while; saying so at once saves the wait.
        await redisCommand(server.port, 'REPLICAOF', '127.0.0.1', String(await masterPort()));
        await waitFor(async () => String(await redisCommand(server.port, 'INFO', 'replication')).includes('master_link_status:up'), {
          timeoutMs: 30_000,
          what: `server ${server.port} to rejoin as a replica`,
        });
      }
      for (const port of ports) {
        await waitFor(
          async () => {
            const replicas = (await redisCommand(port, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][];
            return replicas.some((flat) => {
              const flags = flatToMap(flat).get('flags') ?? '';
              return !flags.includes('s_down') && !flags.includes('disconnected');
            });
          },
          { timeoutMs: 30_000, what: `Sentinel ${port} to see a healthy replica` },
        );
      }
    };
    return {
      name: MASTER_NAME,
      sentinelUrls: ports.map((port) => `redis://127.0.0.1:${port}`),
      master,
      killMaster,
      awaitFailover,
      killMasterAndAwaitFailover: async () => awaitFailover(await killMaster()),
      heal,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function launchSentinel(dir: string, port: number, masterPort: number): Promise<ChildProcess> {
  // Sentinel rewrites its config file, so each needs its own.
  const file = join(dir, `sentinel-${port}.conf`);
  await writeFile(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  return launchServer({
    name: `redis-sentinel on port ${port}`,
    command: REDIS_SENTINEL,
    args: [file],
    ready: async () => (await redisCommand(port, 'PING')) === 'PONG',
    timeoutMs: 10_000,
  });
}

function byPort(servers: readonly RedisServer[], port: number): RedisServer {
  const found = servers.find((s) => s.port === port);
  if (found === undefined) throw new Error(`no test server on port ${port}`);
  return found;
}

function flatToMap(flat: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}
