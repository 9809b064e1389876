import { deviceId } from '../domain/device-id.js';
import { table } from '../scan/report.js';
import { createStore } from '../state/create-store.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { oneOf, parseCommand } from './command-line.js';
import type { Command } from './io.js';

const OPTIONS = {
  device: { type: 'string' },
  limit: { type: 'string', default: '50' },
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
  const { values, config } = parsed;
  const log = createLogger(config.log.level, 'stderr');
  const store = createStore(config, { clock: systemClock, log });
  try {
    const query = { limit: Number(values.limit), ...(values.device !== undefined ? { deviceId: values.device } : {}) };
    const events = await store.history(query);
    if (values.format === 'json') {
      context.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    } else {
      const rows = events.map((e) => [e.at, e.type, deviceId(e), e.certSN, e.from ?? '', e.to ?? '']);
      context.stdout.write(`${table(['AT', 'CHANGE', 'DEVICE', 'CERT SN', 'FROM', 'TO'], rows)}\n`);
    }
    return 0;
  } finally {
    await store.close();
    log.flush();
  }
};
