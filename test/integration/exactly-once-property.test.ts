import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import type { Certificate, DeviceRef } from '../../src/domain/types.js';
import type { EnosApi } from '../../src/enos/api.js';
import { runScan } from '../../src/scan/scanner.js';
import { seededRandom, type Random } from '../../src/simulator/random.js';
import { FleetView } from '../../src/state/fleet-view.js';
import { RedisStore, storeKeys } from '../../src/state/redis-store.js';
import type { Fence, Store } from '../../src/state/store.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { eventsInStream } from '../support/fault-observers.js';
import { redisCommand } from '../support/redis.js';
import { certificate, heldFence } from '../support/store-fixtures.js';

/**
 * Two scanners on one real Redis, with lease takeovers while a scan holds stale answers, commits
 * that time out after Redis ran them, commits that fail before, and scans that crash midway, in
 * random order: every real change of the world must be in the event stream exactly once.
 */

const redisUrl = inject('redisUrl');
const redisPort = Number(new URL(redisUrl).port);
const DEVICES: DeviceRef[] = Array.from({ length: 8 }, (_, i) => ({ orgId: 'prop', assetId: `d${i + 1}` }));
const FAR = Date.now() + 3 * 365 * 86_400_000;

/** The gateway's world: certificates per device, changed between scans. */
class World implements Pick<EnosApi, 'listCertificates'> {
  readonly certs = new Map<string, Certificate[]>(DEVICES.map((d) => [deviceId(d), [certificate({ certSN: `${deviceId(d)}#0`, notAfter: FAR })]]));
  /** While set, answers are taken when asked and handed out only once it resolves (a stale scan). */
  gate: Promise<void> | undefined;
  answered = 0;
  #serial = 0;

  async listCertificates(device: DeviceRef): Promise<Certificate[]> {
    const answer = [...(this.certs.get(deviceId(device)) ?? [])];
    if (this.gate) await this.gate;
    this.answered++;
    return answer;
  }

  /** One random real change: a new certificate, or the revocation of a valid one. Returns the event it must produce. */
  change(random: Random): string {
    const id = deviceId(random.pick(DEVICES));
    const certs = this.certs.get(id)!;
    const valid = certs.filter((c) => c.status === 'valid');
    if (valid.length > 0 && random.next() < 0.4) {
      const target = random.pick(valid);
      this.certs.set(id, certs.map((c) => (c === target ? { ...c, status: 'revoked' as const, revoker: 'ops', revokerReason: 'test' } : c)));
      return `revoked:${target.certSN}`;
    }
    const certSN = `${id}#${++this.#serial}`;
    this.certs.set(id, [...certs, certificate({ certSN, notAfter: FAR })]);
    return `added:${certSN}`;
  }
}

/** Commits that fail before Redis runs them, or time out after it did, at random. */
function faultyStore(inner: Store, random: Random, rate: number): Store {
  return new Proxy(inner, {
    get(target, name, receiver) {
      if (name !== 'commit') {
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: Parameters<Store['commit']>) => {
        if (random.next() < rate) throw new Error('connection reset before the commit');
        const results = await target.commit(...args);
        if (random.next() < rate) throw new Error('no answer within the timeout (the commit ran)');
        return results;
      };
    },
  });
}

interface Scanner {
  readonly name: string;
  readonly store: RedisStore;
  fleet: FleetView;
}

describe('exactly once, property', () => {
  it.each([1, 2, 3])('records each real change once under random takeovers, timeouts and crashes (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const keyPrefix = `property-${randomUUID()}:`;
    const keys = storeKeys(keyPrefix);
    const open = (name: string): Scanner => ({
      name,
      store: new RedisStore({ redisUrl, keyPrefix, historyMaxLength: 10_000, commandTimeoutMs: 2_000 }, { log: silentLogger }),
      fleet: new FleetView(),
    });
    const scanners = [open('a'), open('b')];
    const world = new World();
    const expected: string[] = [];
    let leader = scanners[0]!;

    const lease = async (scanner: Scanner): Promise<Fence> => heldFence(await scanner.store.acquireLease(scanner.name, 600_000));
    const scan = (scanner: Scanner, fence: Fence, options: { store?: Store; signal?: AbortSignal } = {}) =>
      runScan(
        { devices: async function* () { yield* DEVICES; }, complete: true },
        {
          api: world,
          store: options.store ?? scanner.store,
          fence,
          fleet: scanner.fleet,
          clock: systemClock,
          log: silentLogger,
          thresholds: { warningDays: 30, criticalDays: 7 },
          concurrency: 2,
          batchSize: 3,
        },
        options.signal ?? new AbortController().signal,
      );
    /** The lease expires under its holder and the other scanner takes it. */
    const takeover = async (): Promise<Scanner> => {
      await redisCommand(redisPort, 'DEL', keys.leader);
      leader = scanners.find((s) => s !== leader)!;
      await lease(leader);
      return leader;
    };

    try {
      await scan(leader, await lease(leader)); // the baseline
      for (let round = 0; round < 12; round++) {
        const kind = random.pick(['stale leader', 'timeouts', 'crash'] as const);
        if (kind === 'stale leader') {
          // The leader takes its answers, freezes; the world changes; the other takes over and scans.
          const stale = leader;
          let wake!: () => void;
          world.gate = new Promise((resolve) => (wake = resolve));
          const staleScan = scan(stale, await lease(stale));
          for (let i = random.int(1, 3); i > 0; i--) expected.push(world.change(random));
          const current = await takeover();
          world.gate = undefined;
          await scan(current, await lease(current), { store: faultyStore(current.store, random, 0.2) });
          wake();
          const report = await staleScan;
          expect(report.leaseLost || report.events.length === 0).toBe(true);
        } else if (kind === 'timeouts') {
          for (let i = random.int(1, 3); i > 0; i--) expected.push(world.change(random));
          await scan(leader, await lease(leader), { store: faultyStore(leader.store, random, 0.4) });
        } else {
          for (let i = random.int(1, 3); i > 0; i--) expected.push(world.change(random));
          // The process dies midway: its in-memory view is gone; its lease runs out and either may lead next.
          const crash = new AbortController();
          const stopAt = world.answered + random.int(1, DEVICES.length - 1);
          const watcher = setInterval(() => world.answered >= stopAt && crash.abort(new Error('crash')), 1);
          await scan(leader, await lease(leader), { signal: crash.signal }).finally(() => clearInterval(watcher));
          leader.fleet = new FleetView();
          if (random.next() < 0.5) await takeover();
        }
        // The round ends with a clean scan: every change so far is settled.
        await scan(leader, await lease(leader));
        expect((await eventsInStream(redisPort, keys.events)).sort()).toEqual([...expected].sort());
      }
      expect(expected.length).toBeGreaterThan(12);
    } finally {
      await Promise.all(scanners.map((s) => s.store.close()));
    }
  });
});
