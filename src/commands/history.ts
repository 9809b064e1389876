import { deviceId } from '../domain/device-id.js';
import { deviceMatcher } from '../domain/device-match.js';
import { table } from '../scan/table.js';
import { createStore } from '../state/create-store.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { oneOf, parseCommand } from './command-line.js';
import type { Command } from './io.js';
import { storeAddress, storeFailed } from './store-check.js';

export const HISTORY_DEFAULT_LIMIT = 50;

const OPTIONS = {
  device: { type: 'string' },
  limit: { type: 'string', default: String(HISTORY_DEFAULT_LIMIT) },
  format: { type: 'string', default: 'table' },
} as const;

/** Recent certificate change events from the store, newest first. */
export const historyCommand: Command = async (context) => {
  const parsed = parseCommand(context, OPTIONS, (values) => {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer');
    oneOf('--format', values.format, ['table', 'json']);
  });
  if (typeof parsed === 'number') return parsed;
  const { values, config, configPath } = parsed;
  const { stdout, stderr } = context;
  if (storeAddress(config) === 'memory') {
    stderr.write(
      `history: ${configPath} names no Redis store (store.redisUrl or store.redisClusterUrls); ` +
        'the change history is kept only in Redis (the in-memory store of run and demo is not readable from here)\n',
    );
    return 2;
  }
  const log = createLogger(config.log.level, 'stderr', config.log.format);
  const store = createStore(config, { clock: systemClock, log });
  try {
    const query = { limit: Number(values.limit), ...(values.device !== undefined ? { matches: deviceMatcher(values.device) } : {}) };
    let events;
    try {
      events = await store.history(query);
    } catch (error) {
      stderr.write(storeFailed('history', config, error));
      return 3;
    }
    if (values.format === 'json') {
      stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    } else {
      const rows = events.map((e) => [e.at, e.type, deviceId(e), e.certSN, e.from ?? '', e.to ?? '']);
      stdout.write(`${table(['AT', 'CHANGE', 'DEVICE', 'CERT SN', 'FROM', 'TO'], rows)}\n`);
      if (events.length === 0) stderr.write(`history: no change recorded${values.device !== undefined ? ` for device ${values.device}` : ''}\n`);
    }
    return 0;
  } finally {
    await store.close();
    log.flush();
  }
};
