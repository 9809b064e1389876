import { decodeEvent } from '../../src/state/codec.js';
import type { AlertmanagerServer } from './alertmanager.js';
import { redisCommand, type RedisServer } from './redis.js';
import { waitFor } from './wait.js';

/** The change events in the stream `key` on `port`, oldest first, as `type:certSN` (a raw command: works on either side of a restart). */
export async function eventsInStream(port: number, key: string): Promise<string[]> {
  const entries = (await redisCommand(port, 'XRANGE', key, '-', '+')) as Array<[string, string[]]>;
  return entries.map(([, fields]) => {
    const event = decodeEvent(fields[fields.indexOf('e') + 1]!);
    return `${event.type}:${event.certSN}`;
  });
}

/** Active alerts of this run once there are `count` of them: fingerprint → startsAt. */
export async function waitForAlerts(am: AlertmanagerServer, run: string, count: number): Promise<Record<string, string>> {
  const alerts = await waitFor(
    async () => {
      const found = (await am.alerts()).filter((alert) => alert.labels.run === run);
      return found.length === count ? found : undefined;
    },
    { timeoutMs: 15_000, what: `${count} alerts in Alertmanager` },
  );
  return Object.fromEntries(alerts.map((alert) => [alert.fingerprint, alert.startsAt]).sort());
}

export const storedEvents = (server: RedisServer, key: string): Promise<string[]> => eventsInStream(server.port, key);
