import { isatty } from 'node:tty';
import pino, { type Logger, type LevelWithSilent } from 'pino';
import { prettyDestination } from './pretty-log.js';

export type { Logger };

/** `log.format`: `auto` is pretty when the logs go to a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Field names that must never reach a log line, wherever they sit. */
const REDACT = [
  'appSecret',
  'accessToken',
  'encryption',
  'signature',
  'deviceSecret',
  'password',
  '*.appSecret',
  '*.accessToken',
  '*.encryption',
  '*.signature',
  '*.deviceSecret',
  '*.password',
  'headers["apim-accesstoken"]',
  'headers["apim-signature"]',
  '*.headers["apim-accesstoken"]',
  '*.headers["apim-signature"]',
];

/**
 * Logs on stdout, or stderr where stdout carries a report, or a given stream (tests); secrets
 * redacted by field name. JSON, or one readable line per record (`format`; a given stream gets
 * JSON unless `pretty` is asked for).
 */
export function createLogger(
  level: LevelWithSilent,
  destination: pino.DestinationStream | 'stdout' | 'stderr' = 'stdout',
  format: LogFormat = 'auto',
): Logger {
  const fd = destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : undefined;
  const stream = fd === undefined ? (destination as pino.DestinationStream) : pino.destination({ dest: fd, sync: false });
  const terminal = fd !== undefined && isatty(fd);
  const pretty = format === 'pretty' || (format === 'auto' && terminal);
  return pino(
    {
      level,
      base: { name: 'enos-cert-monitor' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    pretty ? prettyDestination(stream, terminal) : stream,
  );
}

/** A logger that discards everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
