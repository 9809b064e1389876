import { parseArgs } from 'node:util';
import { loadConfig, resolveConfigPath, type Config } from '../config/load.js';
import { deviceId } from '../domain/device-id.js';
import { table } from '../scan/report.js';
import { createStore } from '../state/create-store.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { reportConfigError } from './check-config.js';
import type { Command } from './io.js';
import { usageError } from './usage.js';

/** Recent certificate change events from the store, newest first. */
export const historyCommand: Command = async ({ args, stdout, stderr, env }) => {
  let values;
  let limit: number;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', short: 'c' },
        device: { type: 'string' },
        limit: { type: 'string', default: '50' },
        format: { type: 'string', default: 'table' },
      },
      strict: true,
    }));
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer');
    if (values.format !== 'table' && values.format !== 'json') throw new Error('--format must be one of: table, json');
  } catch (error) {
    return usageError(stderr, error);
  }
  let config: Config;
  try {
    config = loadConfig(resolveConfigPath(values.config, env), env);
  } catch (error) {
    return reportConfigError(stderr, error);
  }
  const log = createLogger(config.log.level, 'stderr');
  const store = createStore(config, { clock: systemClock, log });
  try {
    const events = await store.history({ limit, ...(values.device !== undefined ? { deviceId: values.device } : {}) });
    if (values.format === 'json') {
      stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    } else {
      stdout.write(`${table(['AT', 'CHANGE', 'DEVICE', 'CERT SN', 'FROM', 'TO'], events.map((e) => [e.at, e.type, deviceId(e), e.certSN, e.from ?? '', e.to ?? '']))}\n`);
    }
    return 0;
  } finally {
    await store.close();
    log.flush();
  }
};
