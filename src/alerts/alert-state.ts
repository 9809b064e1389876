import { z } from 'zod';
import type { Logger } from '../util/log.js';
import { holdKey, type AlertContent, type RevokedHold } from './evaluate.js';
import { alertKey } from './labels.js';

/** An alert the lifecycle has sent: firing, or resolved and still being re-sent. */
export interface TrackedAlert {
  /** Its labels and annotations: an evaluation's alert (annotations written out when read), or a stored record's. */
  readonly content: AlertContent;
  /** Epoch ms; kept for as long as the alert fires, across restarts. */
  readonly startsAt: number;
  /** Epoch ms when the condition cleared; absent while firing. */
  readonly resolvedAt?: number;
}

export interface AlertState {
  readonly alerts: Map<string, TrackedAlert>;
  readonly holds: Map<string, RevokedHold>;
}

/*
 * Store format (one opaque string per key, see Store.readAlertState):
 *   alert:<alertKey>  → {"v":1,"labels":{..},"annotations":{..},"startsAt":ms[,"resolvedAt":ms]}
 *   hold:<holdKey>    → {"v":1,"device":{..},"certSN":..,"at":ms,"revoker":..,"revokerReason":..,"notAfter":ms|null}
 *   state             → {"v":1}, written with every state and never removed
 */
const ALERT_PREFIX = 'alert:';
const HOLD_PREFIX = 'hold:';
/** Once written, always there: a store whose records lack it has lost its data (a Redis restarted empty). */
export const STATE_MARKER_KEY = 'state';
export const STATE_MARKER = JSON.stringify({ v: 1 });

export const alertRecordKey = (key: string): string => ALERT_PREFIX + key;
export const holdRecordKey = (key: string): string => HOLD_PREFIX + key;
export const encodeAlert = ({ content, startsAt, resolvedAt }: TrackedAlert): string =>
  JSON.stringify({ v: 1, labels: content.labels, annotations: content.annotations, startsAt, resolvedAt });
export const encodeHold = (hold: RevokedHold): string => JSON.stringify({ v: 1, ...hold });

/**
 * A 53-bit digest of a record (cyrb53): what the lifecycle remembers of what the store holds, so
 * that it need not keep a second, encoded copy of every alert to tell which ones changed.
 */
export function recordDigest(record: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < record.length; i++) {
    const code = record.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const labelSet = z.record(z.string(), z.string());
const epochMs = z.number().int().nonnegative();

const alertRecord = z.object({
  v: z.literal(1),
  labels: labelSet,
  annotations: labelSet,
  startsAt: epochMs,
  resolvedAt: epochMs.optional(),
});

const holdRecord = z.object({
  v: z.literal(1),
  device: z.object({
    orgId: z.string(),
    assetId: z.string().optional(),
    productKey: z.string().optional(),
    deviceKey: z.string().optional(),
  }),
  certSN: z.string(),
  at: epochMs,
  revoker: z.string(),
  revokerReason: z.string(),
  notAfter: epochMs.nullable(),
});

/** The store records of `state`, one at a time (a large state is encoded between other work). */
export function* encodeState(state: AlertState): Generator<[key: string, record: string]> {
  yield [STATE_MARKER_KEY, STATE_MARKER];
  for (const [key, alert] of state.alerts) yield [alertRecordKey(key), encodeAlert(alert)];
  for (const [key, hold] of state.holds) yield [holdRecordKey(key), encodeHold(hold)];
}

/** Records that do not parse are skipped with a warning and named in `unreadable` (the next write removes them). */
export function decodeState(records: ReadonlyMap<string, string>, log: Logger): AlertState & { readonly unreadable: string[] } {
  const state = { alerts: new Map<string, TrackedAlert>(), holds: new Map<string, RevokedHold>(), unreadable: [] as string[] };
  for (const [storeKey, text] of records) {
    if (storeKey === STATE_MARKER_KEY) continue;
    const parsed = parse(storeKey, text);
    if (parsed === undefined) {
      log.warn({ storeKey }, 'ignoring unreadable alert state record');
      state.unreadable.push(storeKey);
    } else if ('labels' in parsed) {
      const { labels, annotations, startsAt, resolvedAt } = parsed;
      state.alerts.set(alertKey(labels), { content: { labels, annotations }, startsAt, ...(resolvedAt !== undefined ? { resolvedAt } : {}) });
    } else {
      const { v: _v, ...hold } = parsed;
      state.holds.set(holdKey(hold), hold);
    }
  }
  return state;
}

function parse(storeKey: string, text: string): z.infer<typeof alertRecord> | z.infer<typeof holdRecord> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const schema = storeKey.startsWith(ALERT_PREFIX) ? alertRecord : storeKey.startsWith(HOLD_PREFIX) ? holdRecord : undefined;
  const result = schema?.safeParse(json);
  return result?.success ? result.data : undefined;
}
