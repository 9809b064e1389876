import type { Cluster, Redis } from 'ioredis';

/**
 * The version of a stored `{v, s}` entry; 0 for none, and for an entry that cannot be read
 * (the codec treats it as absent too, so a writer expecting 0 may replace it).
 */
const VERSION_OF = `
local function version_of(raw)
  if not raw then return 0 end
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and type(entry.v) == 'number' and type(entry.s) == 'table' then
    return entry.v
  end
  return 0
end
`;

/** Marks a device as changed for readers that follow the store (KEYS[3] changes zset, KEYS[4] generation). */
const MARK_CHANGED = `
local function mark_changed(id)
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), id)
end
`;

/**
 * KEYS: snapshots hash, events stream, changes zset, generation counter.
 * ARGV: historyMaxLength, then per request: id, expectedVersion, entry, eventCount, events...
 * Returns one 1 (committed) or 0 (conflict) per request, in order.
 */
const COMMIT = `${VERSION_OF}${MARK_CHANGED}
local maxlen = ARGV[1]
local results = {}
local i = 2
while i <= #ARGV do
  local id = ARGV[i]
  local expected = tonumber(ARGV[i + 1])
  local entry = ARGV[i + 2]
  local count = tonumber(ARGV[i + 3])
  if version_of(redis.call('HGET', KEYS[1], id)) == expected then
    redis.call('HSET', KEYS[1], id, entry)
    mark_changed(id)
    for j = 1, count do
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'e', ARGV[i + 3 + j], 'd', id)
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
  i = i + 4 + count
end
return results
`;

/**
 * KEYS: snapshots hash, (unused), changes zset, generation counter. ARGV: device ids.
 * Returns how many snapshots existed.
 */
const DELETE_SNAPSHOTS = `${MARK_CHANGED}
local deleted = 0
for i = 1, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    mark_changed(ARGV[i])
    deleted = deleted + 1
  end
end
return deleted
`;

/**
 * KEYS: snapshots hash. ARGV: cursor, count. One HSCAN page with the fields only: the values
 * (the snapshots) never leave Redis. Returns {next cursor, ids...}.
 */
const SNAPSHOT_IDS = `
local page = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = { page[1] }
for i = 1, #page[2], 2 do
  out[#out + 1] = page[2][i]
end
return out
`;

/** KEYS: lease key. ARGV: holder, ttlMs. 1 when the holder has the lease afterwards. */
const ACQUIRE_LEASE = `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS: lease key. ARGV: holder. Deletes only the holder's own lease. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type Arg = string | number;

/** The keys every snapshot write touches. */
export interface ChangeKeys {
  readonly snapshots: string;
  readonly changes: string;
  readonly generation: string;
}

/** One typed function per Lua script; each call is one EVALSHA (EVAL the first time on a connection). */
export interface StoreScripts {
  commit(keys: ChangeKeys & { readonly events: string }, args: readonly Arg[]): Promise<number[]>;
  deleteSnapshots(keys: ChangeKeys, ids: readonly string[]): Promise<number>;
  /** [next cursor, ...ids] */
  snapshotIds(snapshotsKey: string, cursor: string, count: number): Promise<string[]>;
  acquireLease(leaseKey: string, holder: string, ttlMs: number): Promise<number>;
  releaseLease(leaseKey: string, holder: string): Promise<number>;
}

/** Registers the scripts on the client (ioredis keeps them loaded across reconnects). */
export function defineScripts(client: Redis | Cluster): StoreScripts {
  client.defineCommand('enosCommit', { numberOfKeys: 4, lua: COMMIT });
  client.defineCommand('enosDeleteSnapshots', { numberOfKeys: 4, lua: DELETE_SNAPSHOTS });
  client.defineCommand('enosSnapshotIds', { numberOfKeys: 1, lua: SNAPSHOT_IDS });
  client.defineCommand('enosAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE });
  client.defineCommand('enosReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
  // defineCommand adds methods ioredis cannot type; this is the one place that names them.
  const commands = client as unknown as Record<string, (...args: Arg[]) => Promise<unknown>>;
  const call = <T>(name: string, ...args: Arg[]): Promise<T> => commands[name]!(...args) as Promise<T>;
  return {
    commit: (keys, args) => call('enosCommit', keys.snapshots, keys.events, keys.changes, keys.generation, ...args),
    // The unused second key keeps KEYS[3] and KEYS[4] where MARK_CHANGED expects them.
    snapshotIds: (snapshotsKey, cursor, count) => call('enosSnapshotIds', snapshotsKey, cursor, count),
    deleteSnapshots: (keys, ids) => call('enosDeleteSnapshots', keys.snapshots, keys.snapshots, keys.changes, keys.generation, ...ids),
    acquireLease: (leaseKey, holder, ttlMs) => call('enosAcquireLease', leaseKey, holder, ttlMs),
    releaseLease: (leaseKey, holder) => call('enosReleaseLease', leaseKey, holder),
  };
}
