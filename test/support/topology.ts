import { parseConfig } from '../../src/config/load.js';
import { Monitor } from '../../src/monitor.js';
import type { Simulator } from '../../src/simulator/index.js';
import { storeKeys } from '../../src/state/redis-store.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { eventsInStream } from './fault-observers.js';
import { redisCommand } from './redis.js';
import { heldFence } from './store-fixtures.js';
import { waitFor } from './wait.js';

/** An in-process monitor that scans `sim` into the store that `storeYaml` (a `store:` line) names. */
export function monitorOn(sim: Simulator, storeYaml: string): Monitor {
  const config = parseConfig(
    `
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, concurrency: 4,
        maxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5, requestTimeoutMs: 2000 }
inventory: { discover: [{ orgId: demo-org }] }
${storeYaml}
`,
    'topology-test.yaml',
    {},
  );
  return new Monitor(config, { log: silentLogger, clock: systemClock });
}

/** `type:certSN` of every change event the server on `port` holds, oldest first. */
export async function storedEvents(port: number, keyPrefix: string): Promise<string[]> {
  return eventsInStream(port, storeKeys(keyPrefix).events);
}

/** How many device snapshots the server on `port` holds. */
export async function storedSnapshots(port: number, keyPrefix: string): Promise<number> {
  return Number(await redisCommand(port, 'HLEN', storeKeys(keyPrefix).snapshots));
}

/** One scan under the leader lease (taken, or renewed, first; retried while a failover settles). */
export async function scanOnce(monitor: Monitor) {
  const attempt = await waitFor(() => monitor.store.acquireLease('topology-test', 600_000), { timeoutMs: 15_000, what: 'the leader lease' });
  const fence = heldFence(attempt);
  return monitor.scan(new AbortController().signal, { fence, held: () => true });
}

/** Replication is asynchronous: waits until a replica of the master on `port` has every write so far. */
export async function awaitReplicated(port: number): Promise<void> {
  const acknowledged = Number(await redisCommand(port, 'WAIT', '1', '900'));
  if (acknowledged < 1) throw new Error(`no replica of the master on port ${port} acknowledged its writes`);
}
