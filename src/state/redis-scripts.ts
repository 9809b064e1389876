import type { Cluster, Redis } from 'ioredis';

/**
 * Every write script starts here: a fence that is not the lease as it stands (expired, released,
 * taken over) writes nothing. The error's prefix is what RedisStore recognises.
 */
const FENCE_CHECK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LEASE_LOST the fence does not hold the leader lease')
end
`;

/**
 * The version and the answer time of a stored `{v, s}` entry; 0 for none, and for an entry that
 * cannot be read (the codec treats it as absent too, so a writer expecting 0 may replace it).
 */
const ENTRY_OF = `
local function entry_of(raw)
  if not raw then return 0, nil end
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and type(entry.v) == 'number' and type(entry.s) == 'table' then
    local queried = entry.s.queriedAt
    if type(queried) ~= 'number' then queried = nil end
    return entry.v, queried
  end
  return 0, nil
end
`;

/** Marks a device as changed for readers that follow the store (a changes zset scored by a generation counter). */
const MARK_CHANGED = `
local function mark_changed(changes, generation, id)
  redis.call('ZADD', changes, redis.call('INCR', generation), id)
end
`;

/**
 * KEYS: lease, snapshots hash, events stream, alerts hash, changes zset, generation counter.
 * ARGV: fence, historyMaxLength, then per request: id, expectedVersion, queriedAt, entry,
 * eventCount, events..., recordCount, (recordKey, record)...
 * Returns per request, in order: 1 committed, 0 conflict, 2 stale (the stored answer is newer).
 */
const COMMIT = `${FENCE_CHECK}${ENTRY_OF}${MARK_CHANGED}
local maxlen = ARGV[2]
local results = {}
local i = 3
while i <= #ARGV do
  local id = ARGV[i]
  local expected = tonumber(ARGV[i + 1])
  local queried = tonumber(ARGV[i + 2])
  local entry = ARGV[i + 3]
  local events = tonumber(ARGV[i + 4])
  local records = tonumber(ARGV[i + 5 + events])
  local version, stored_queried = entry_of(redis.call('HGET', KEYS[2], id))
  if stored_queried and stored_queried > queried then
    results[#results + 1] = 2
  elseif version == expected then
    redis.call('HSET', KEYS[2], id, entry)
    mark_changed(KEYS[5], KEYS[6], id)
    for j = 1, events do
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'e', ARGV[i + 4 + j], 'd', id)
    end
    local first = i + 6 + events
    for j = 0, records - 1 do
      redis.call('HSET', KEYS[4], ARGV[first + 2 * j], ARGV[first + 2 * j + 1])
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
  i = i + 6 + events + 2 * records
end
return results
`;

/**
 * KEYS: lease, snapshots hash, changes zset, generation counter. ARGV: fence, device ids...
 * Returns how many snapshots existed.
 */
const DELETE_SNAPSHOTS = `${FENCE_CHECK}${MARK_CHANGED}
local deleted = 0
for i = 2, #ARGV do
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    mark_changed(KEYS[3], KEYS[4], ARGV[i])
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

/**
 * KEYS: lease, alerts hash. ARGV: fence, markerKey, setCount, (key, record)..., keys to remove...
 * Returns 1 when the marker record was there before the write, 0 when it was not.
 */
const WRITE_ALERT_STATE = `${FENCE_CHECK}
local kept = redis.call('HEXISTS', KEYS[2], ARGV[2])
local count = tonumber(ARGV[3])
for j = 0, count - 1 do
  redis.call('HSET', KEYS[2], ARGV[4 + 2 * j], ARGV[5 + 2 * j])
end
for j = 4 + 2 * count, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[j])
end
return kept
`;

/**
 * KEYS: lease key, fence counter. ARGV: holder, ttlMs.
 * The lease's value is its fence, "token:holder"; a new acquisition takes the next token.
 * Returns {1, fence} when the holder has the lease afterwards, {0, holder} of the one who has it.
 */
const ACQUIRE_LEASE = `
local current = redis.call('GET', KEYS[1])
if current then
  local separator = string.find(current, ':', 1, true)
  local holder = separator and string.sub(current, separator + 1) or current
  if holder ~= ARGV[1] then return {0, holder} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, current}
end
local fence = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], fence, 'PX', ARGV[2])
return {1, fence}
`;

/** KEYS: lease key. ARGV: fence. Deletes only the lease this fence holds. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type Arg = string | number;

/** The keys the scripts touch (every one under the same hash tag). */
export interface ScriptKeys {
  readonly leader: string;
  readonly fence: string;
  readonly snapshots: string;
  readonly events: string;
  readonly alerts: string;
  readonly changes: string;
  readonly generation: string;
}

/** One typed function per Lua script; each call is one EVALSHA (EVAL the first time on a connection). */
export interface StoreScripts {
  commit(args: readonly Arg[]): Promise<number[]>;
  deleteSnapshots(fence: string, ids: readonly string[]): Promise<number>;
  /** [next cursor, ...ids] */
  snapshotIds(cursor: string, count: number): Promise<string[]>;
  writeAlertState(args: readonly Arg[]): Promise<number>;
  acquireLease(holder: string, ttlMs: number): Promise<[number, string]>;
  releaseLease(fence: string): Promise<number>;
}

/** Registers the scripts on the client (ioredis keeps them loaded across reconnects). */
export function defineScripts(client: Redis | Cluster, keys: ScriptKeys): StoreScripts {
  client.defineCommand('enosCommit', { numberOfKeys: 6, lua: COMMIT });
  client.defineCommand('enosDeleteSnapshots', { numberOfKeys: 4, lua: DELETE_SNAPSHOTS });
  client.defineCommand('enosSnapshotIds', { numberOfKeys: 1, lua: SNAPSHOT_IDS });
  client.defineCommand('enosWriteAlertState', { numberOfKeys: 2, lua: WRITE_ALERT_STATE });
  client.defineCommand('enosAcquireLease', { numberOfKeys: 2, lua: ACQUIRE_LEASE });
  client.defineCommand('enosReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
  // defineCommand adds methods ioredis cannot type; this is the one place that names them.
  const commands = client as unknown as Record<string, (...args: Arg[]) => Promise<unknown>>;
  const call = <T>(name: string, ...args: Arg[]): Promise<T> => commands[name]!(...args) as Promise<T>;
  const { leader, fence, snapshots, events, alerts, changes, generation } = keys;
  return {
    commit: (args) => call('enosCommit', leader, snapshots, events, alerts, changes, generation, ...args),
    deleteSnapshots: (writeFence, ids) => call('enosDeleteSnapshots', leader, snapshots, changes, generation, writeFence, ...ids),
    snapshotIds: (cursor, count) => call('enosSnapshotIds', snapshots, cursor, count),
    writeAlertState: (args) => call('enosWriteAlertState', leader, alerts, ...args),
    acquireLease: (holder, ttlMs) => call('enosAcquireLease', leader, fence, holder, ttlMs),
    releaseLease: (writeFence) => call('enosReleaseLease', leader, writeFence),
  };
}

/** True for the error a write script returns when its fence does not hold the lease. */
export function isLeaseLostReply(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('LEASE_LOST');
}
