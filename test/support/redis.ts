import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { launchServer, terminate } from './server-process.js';
import { waitFor } from './wait.js';

export interface RedisServerOptions {
  /** Listen on this port; default: a free one. */
  readonly port?: number;
  /** Start as a one-node Redis Cluster that owns every hash slot. */
  readonly cluster?: boolean;
  /** Cluster mode without any slot, to be joined into a cluster by `redis-cli --cluster create`. */
  readonly clusterMember?: boolean;
  /** Start as a replica of the server on this loopback port. */
  readonly replicaOf?: number;
  readonly startTimeoutMs?: number;
  /** Keep data across kill() and restart(): an append-only file synced on every write. */
  readonly persistent?: boolean;
}

/** A real redis-server on 127.0.0.1, without persistence, in its own temporary directory. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGTERM, wait for the exit, remove the directory. Safe to call twice or after kill(). */
  stop(): Promise<void>;
  /** SIGKILL (a crash), wait for the exit; restart() brings it back. */
  kill(): Promise<void>;
  /** Start again on the same port (stopping it first if it runs); data is gone unless `persistent`. */
  restart(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
/** Another process may take a free port before redis-server binds it; then try another. */
const START_ATTEMPTS = 3;

/** What a test process that ends without stop() (a crash, a timed-out hook) must not leave behind. */
const directories = new Set<string>();
process.once('exit', () => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-test-'));
  directories.add(dir);
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    directories.delete(dir);
  };
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  for (let attempt = 1; child === undefined; attempt++) {
    try {
      child = await launch(port, dir, options);
    } catch (error) {
      if (options.port !== undefined || attempt >= START_ATTEMPTS) {
        await removeDir();
        throw error;
      }
      port = await freePort();
    }
  }
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child) await terminate(child, signal);
    child = undefined;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => halt('SIGKILL'),
    stop: async () => {
      await halt('SIGTERM');
      await removeDir();
    },
    restart: async () => {
      await halt('SIGTERM');
      child = await launch(port, dir, options);
    },
  };
}

async function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const appendOnly = options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  // A replica syncs at once instead of after the default 5 s wait for more replicas.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...appendOnly, '--dir', dir, '--repl-diskless-sync-delay', '0'];
  if (options.replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
  if (options.cluster || options.clusterMember) {
    // Without an announced address a lone node reports its slots as served by host "".
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1');
    // A replica takes over a dead master after a second, not the default 15.
    if (options.clusterMember) args.push('--cluster-node-timeout', '1000');
  }
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const child = await launchServer({
    name: `redis-server on port ${port}`,
    command: REDIS_SERVER,
    args,
    ready: async () => (await redisCommand(port, 'PING')) === 'PONG',
    timeoutMs,
  });
  try {
    if (options.cluster) await ownAllSlots(port, timeoutMs);
    return child;
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw error;
  }
}

async function ownAllSlots(port: number, timeoutMs: number): Promise<void> {
  const info = async (): Promise<string> => String(await redisCommand(port, 'CLUSTER', 'INFO'));
  // After a restart the node reads its slots back from nodes.conf.
  if (!(await info()).includes('cluster_slots_assigned:16384')) {
    await redisCommand(port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  }
  await waitFor(async () => (await info()).includes('cluster_state:ok'), { timeoutMs, what: 'cluster_state:ok' });
}

/** One command on a fresh connection that neither retries nor queues. */
export async function redisCommand(port: number, name: string, ...args: string[]): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
  });
  client.on('error', () => undefined); // reported through connect() / call()
  try {
    await client.connect();
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}
