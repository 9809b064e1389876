import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { ChangeEvent } from '../domain/types.js';
import type { Logger } from '../util/log.js';
import { decodeEvent, decodeSnapshotEntry, encodeEvent, encodeSnapshotEntry } from './codec.js';
import { createRedisClient, describeTarget, watchConnection } from './redis-connection.js';
import { defineScripts, isLeaseLostReply, type StoreScripts } from './redis-scripts.js';
import {
  LeaseLostError,
  type AlertStateWriteResult,
  type CommitRequest,
  type CommitResult,
  type Fence,
  type HistoryQuery,
  type LeaseAttempt,
  type Store,
  type StoreChanges,
  type StoredSnapshot,
} from './store.js';

export type RedisStoreConfig = Pick<
  Config['store'],
  'redisUrl' | 'redisClusterUrls' | 'redisSentinel' | 'keyPrefix' | 'historyMaxLength' | 'commandTimeoutMs'
>;

/**
 * Redis Cluster hashes only `{certs}`, so every key lands on one node and a script may touch several.
 */
export function storeKeys(keyPrefix: string) {
  const base = `${keyPrefix}{certs}:`;
  return {
    snapshots: `${base}snapshots`,
    events: `${base}events`,
    alerts: `${base}alerts`,
    leader: `${base}leader`,
    /** The last fencing token handed out with the lease; never expires. */
    fence: `${base}fence`,
    /** Device id → the generation its snapshot was last written or deleted at. */
    changes: `${base}changes`,
    generation: `${base}generation`,
  } as const;
}

const HSCAN_COUNT = 1_000;
/** Ids per round trip when listing them (a few dozen bytes each). */
const SNAPSHOT_IDS_PAGE = 5_000;
const ALERT_RECORDS_PER_WRITE = 1_000;
/** XREVRANGE page when filtering the history by device. */
const HISTORY_PAGE_SIZE = 500;

/**
 * The Store on Redis (standalone, Cluster or behind Sentinel). Each method is one round trip (history, allSnapshots
 * and the alert state one per page of records) and rejects within `commandTimeoutMs` when Redis does not answer;
 * the client reconnects by itself, so the same instance works again once Redis is back.
 */
export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly #client: Redis | Cluster;
  readonly #scripts: StoreScripts;
  readonly #keys: ReturnType<typeof storeKeys>;
  readonly #historyMaxLength: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** Versions of entries that could not be decoded, by device id (see commit). */
  readonly #unreadableVersions = new Map<string, number>();
  #ready: Promise<void> | undefined;
  #roundTrips = 0;

  constructor(config: RedisStoreConfig, deps: { readonly log: Logger }) {
    this.#keys = storeKeys(config.keyPrefix);
    this.#historyMaxLength = config.historyMaxLength;
    this.#timeoutMs = config.commandTimeoutMs;
    this.#log = deps.log.child({ component: 'store' });
    this.#client = createRedisClient(config);
    this.#scripts = defineScripts(this.#client, this.#keys);
    watchConnection(this.#client, this.#log, describeTarget(config));
  }

  /** Commands, pipelines and scripts sent so far (the benchmark reports them per device). */
  get roundTrips(): number {
    return this.#roundTrips;
  }

  async getSnapshots(ids: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    const found = new Map<string, StoredSnapshot>();
    if (ids.length === 0) return found;
    const raws = await this.#roundTrip('HMGET', () => this.#client.hmget(this.#keys.snapshots, ...ids));
    ids.forEach((id, i) => {
      const stored = this.#decodeSnapshot(id, raws[i] ?? null);
      if (stored) found.set(id, stored);
    });
    return found;
  }

  async commit(requests: readonly CommitRequest[], fence: Fence): Promise<CommitResult[]> {
    if (requests.length === 0) return [];
    // An unreadable entry was reported absent (expected version 0), but the script still sees
    // its version: compare with that one, so the first commit replaces the entry.
    const expected = requests.map(({ id, expectedVersion }) =>
      expectedVersion === 0 ? (this.#unreadableVersions.get(id) ?? 0) : expectedVersion,
    );
    const args: (string | number)[] = [fence, this.#historyMaxLength];
    requests.forEach(({ id, snapshot, events, alertRecords }, i) => {
      args.push(id, expected[i]!, snapshot.queriedAt, encodeSnapshotEntry(expected[i]! + 1, snapshot), events.length);
      for (const event of events) args.push(encodeEvent(event));
      args.push(alertRecords?.size ?? 0);
      for (const [key, record] of alertRecords ?? []) args.push(key, record);
    });
    const outcomes = await this.#fenced('commit', () => this.#scripts.commit(args));
    return requests.map((request, i): CommitResult => {
      // Whatever the outcome, the entry is no longer the unreadable one remembered (a re-read tells).
      this.#unreadableVersions.delete(request.id);
      if (outcomes[i] === 2) return { status: 'stale' };
      if (outcomes[i] !== 1) return { status: 'conflict' };
      return { status: 'committed', version: expected[i]! + 1 };
    });
  }

  async *allSnapshots(): AsyncIterable<StoredSnapshot> {
    for await (const [id, raw] of this.#hashEntries(this.#keys.snapshots)) {
      const stored = this.#decodeSnapshot(id, raw);
      if (stored) yield stored;
    }
  }

  /** Paged like allSnapshots, but only the ids cross the wire. */
  async *snapshotIds(): AsyncIterable<string> {
    let cursor = '0';
    do {
      const [next, ...ids] = await this.#roundTrip('snapshot ids', () =>
        this.#scripts.snapshotIds(cursor, SNAPSHOT_IDS_PAGE),
      );
      yield* ids;
      cursor = next!;
    } while (cursor !== '0');
  }

  async deleteSnapshots(ids: readonly string[], fence: Fence): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#fenced('delete snapshots', () => this.#scripts.deleteSnapshots(fence, ids));
  }

  async changedSince(generation: number): Promise<StoreChanges> {
    const [current, changed] = await this.#roundTrip('changes', () =>
      Promise.all([
        this.#client.get(this.#keys.generation),
        generation > 0 ? this.#client.zrangebyscore(this.#keys.changes, `(${generation}`, '+inf', 'WITHSCORES') : Promise.resolve([]),
      ]),
    );
    const now = Number(current ?? 0);
    // A generation behind the reader's: the store was emptied (and maybe written again) since.
    if (generation === 0 || now < generation) return { generation: now };
    const ids: string[] = [];
    let newest = now;
    for (let i = 0; i + 1 < changed.length; i += 2) {
      ids.push(changed[i]!);
      newest = Math.max(newest, Number(changed[i + 1]));
    }
    return { generation: newest, ids };
  }

  async history({ deviceId, matches, limit }: HistoryQuery): Promise<ChangeEvent[]> {
    const found: ChangeEvent[] = [];
    if (limit <= 0) return found;
    const pageSize = deviceId === undefined && matches === undefined ? limit : Math.max(limit, HISTORY_PAGE_SIZE);
    let end = '+';
    for (;;) {
      const page = await this.#roundTrip('XREVRANGE', () =>
        this.#client.xrevrange(this.#keys.events, end, '-', 'COUNT', pageSize),
      );
      for (const [entryId, fields] of page) {
        const { e, d } = streamFields(fields);
        if (deviceId !== undefined && d !== deviceId) continue;
        const event = this.#decodeEvent(entryId, e);
        if (event && (matches?.(event) ?? true)) found.push(event);
        if (found.length === limit) return found;
      }
      const last = page.at(-1);
      if (page.length < pageSize || last === undefined) return found;
      end = `(${last[0]}`;
    }
  }

  async readAlertState(): Promise<Map<string, string>> {
    // Paged like allSnapshots: a large fleet's alert state is megabytes, too much to decode at once.
    const records = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.#roundTrip('HSCAN', () =>
        this.#client.hscan(this.#keys.alerts, cursor, 'COUNT', HSCAN_COUNT),
      );
      for (let i = 0; i + 1 < flat.length; i += 2) records.set(flat[i]!, flat[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
    return records;
  }

  /**
   * In pieces of ALERT_RECORDS_PER_WRITE, none holding the event loop for long, each fenced. The
   * records are independent of each other, so a write cut short leaves a mix that the next write completes.
   */
  async writeAlertState(
    set: ReadonlyMap<string, string>,
    remove: readonly string[],
    fence: Fence,
    markerKey: string,
  ): Promise<AlertStateWriteResult> {
    const entries = [...set];
    let stateWasKept = true;
    for (let i = 0; i === 0 || i < entries.length + remove.length; i += ALERT_RECORDS_PER_WRITE) {
      const setting = entries.slice(i, i + ALERT_RECORDS_PER_WRITE);
      const removing = remove.slice(Math.max(0, i - entries.length), Math.max(0, i + ALERT_RECORDS_PER_WRITE - entries.length));
      const args = [fence, markerKey, setting.length, ...setting.flat(), ...removing];
      const kept = await this.#fenced('alert state', () => this.#scripts.writeAlertState(args));
      if (i === 0) stateWasKept = kept === 1;
    }
    return { stateWasKept };
  }

  async acquireLease(holder: string, ttlMs: number): Promise<LeaseAttempt> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const [held, value] = await this.#roundTrip(
      'acquire lease',
      () => this.#scripts.acquireLease(holder, ttl),
      { write: true },
    );
    return held === 1 ? { held: true, fence: value } : { held: false, holder: value };
  }

  async releaseLease(fence: Fence): Promise<void> {
    await this.#roundTrip('release lease', () => this.#scripts.releaseLease(fence), {
      write: true,
    });
  }

  async ping(): Promise<void> {
    await this.#roundTrip('PING', () => this.#client.ping());
  }

  async close(): Promise<void> {
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }

  /**
   * One round trip, rejected after `commandTimeoutMs` whatever the client does (a Cluster
   * queues commands without a timeout while it has no node). Writes wait for a ready
   * connection instead of entering the client's offline queue: a queued write would still
   * run after its caller saw it fail.
   */
  #roundTrip<T>(operation: string, send: () => Promise<T>, options: { write?: boolean } = {}): Promise<T> {
    const message = `redis ${operation}: no answer within ${this.#timeoutMs} ms`;
    return withDeadline(this.#timeoutMs, message, async (expired) => {
      if (options.write) await this.#whenReady();
      if (expired()) throw new Error('deadline passed');
      this.#roundTrips++;
      return send();
    });
  }

  /** A write script: its refusal of a stale fence becomes LeaseLostError. */
  async #fenced<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await this.#roundTrip(operation, send, { write: true });
    } catch (error) {
      throw isLeaseLostReply(error) ? new LeaseLostError() : error;
    }
  }

  /** Every field of a hash, a page per round trip, each once (HSCAN may repeat one while the hash is rehashed). */
  async *#hashEntries(key: string): AsyncIterable<[string, string]> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.#roundTrip('HSCAN', () => this.#client.hscan(key, cursor, 'COUNT', HSCAN_COUNT));
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]!;
        if (seen.has(field)) continue;
        seen.add(field);
        yield [field, flat[i + 1]!];
      }
      cursor = next;
    } while (cursor !== '0');
  }

  #whenReady(): Promise<void> | undefined {
    const status = this.#client.status;
    if (status === 'ready' || status === 'end') return undefined;
    this.#ready ??= new Promise((resolve) =>
      this.#client.once('ready', () => {
        this.#ready = undefined;
        resolve();
      }),
    );
    return this.#ready;
  }

  /** Also keeps the remembered version of an unreadable entry current: set, replaced or forgotten with each read. */
  #decodeSnapshot(id: string, raw: string | null): StoredSnapshot | undefined {
    this.#unreadableVersions.delete(id);
    if (raw === null) return undefined;
    try {
      return { id, ...decodeSnapshotEntry(raw) };
    } catch (error) {
      this.#log.warn({ device: id, reason: (error as Error).message }, 'unreadable snapshot ignored');
      const version = scriptVersion(raw);
      if (version > 0) this.#unreadableVersions.set(id, version);
      return undefined;
    }
  }

  #decodeEvent(entryId: string, raw: string | undefined): ChangeEvent | undefined {
    try {
      return decodeEvent(raw ?? '');
    } catch (error) {
      this.#log.warn({ entryId, reason: (error as Error).message }, 'unreadable change event ignored');
      return undefined;
    }
  }
}

function streamFields(fields: readonly string[]): { e?: string; d?: string } {
  const out: { e?: string; d?: string } = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') out.e = fields[i + 1];
    else if (fields[i] === 'd') out.d = fields[i + 1];
  }
  return out;
}

/** `work` races a timer; it can ask whether the deadline has passed before doing anything irreversible. */
function withDeadline<T>(ms: number, message: string, work: (expired: () => boolean) => Promise<T>): Promise<T> {
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new Error(message));
    }, ms);
  });
  const result = work(() => expired);
  // The loser of the race must not surface as an unhandled rejection.
  result.catch(() => undefined);
  return Promise.race([result, deadline]).finally(() => clearTimeout(timer));
}

/** The version the commit script reads from an entry (its `version_of`), 0 when it finds none. */
function scriptVersion(raw: string): number {
  try {
    const entry = JSON.parse(raw) as { v?: unknown; s?: unknown };
    return typeof entry.v === 'number' && typeof entry.s === 'object' && entry.s !== null ? entry.v : 0;
  } catch {
    return 0;
  }
}
