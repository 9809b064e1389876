import pino from 'pino';
import type { Logger } from '../../src/util/log.js';

/** A real pino logger whose lines land, parsed, in `lines`. */
export function captureLog(level: pino.LevelWithSilent = 'debug'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}
