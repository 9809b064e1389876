import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

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
 * JSON logs on stdout, or stderr where stdout carries a report, or a given stream (tests);
 * secrets redacted by field name.
 */
export function createLogger(level: LevelWithSilent, destination: pino.DestinationStream | 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino(
    {
      level,
      base: { name: 'enos-cert-monitor' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'string' ? pino.destination({ dest: destination === 'stdout' ? 1 : 2, sync: false }) : destination,
  );
}

/** A logger that discards everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
