import type { DestinationStream } from 'pino';

/** pino's numeric levels, as printed. */
const LEVELS: Readonly<Record<string, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};
const COLORS: Readonly<Record<string, string>> = { warn: '\u001b[33m', error: '\u001b[31m', fatal: '\u001b[31m', debug: '\u001b[90m', trace: '\u001b[90m' };
const RESET = '\u001b[0m';
/** Fields every record has, shown in the line's head rather than as key=value. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'component']);

/**
 * One readable line per JSON record, for people at a terminal:
 * `12:00:01 INFO  scan: scan finished devices.total=100 result=success`. Redaction happened
 * before the record was serialised, so nothing secret reaches this point.
 */
export function formatPrettyLine(json: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(record.level ?? 'info');
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const label = LEVELS[level] ?? level.toUpperCase();
  const paint = color && COLORS[level] !== undefined ? (text: string) => `${COLORS[level]}${text}${RESET}` : (text: string) => text;
  const component = typeof record.component === 'string' ? `${record.component}: ` : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!HEAD_FIELDS.has(key)) flatten(key, value, fields);
  }
  return `${time} ${paint(label)} ${component}${String(record.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

function flatten(key: string, value: unknown, out: string[]): void {
  if (key === 'err' && isRecord(value)) {
    out.push(`err=${quote(String(value.message ?? value.type ?? 'error'))}`);
    return;
  }
  if (isRecord(value)) {
    for (const [inner, innerValue] of Object.entries(value)) flatten(`${key}.${inner}`, innerValue, out);
    return;
  }
  out.push(`${key}=${typeof value === 'string' ? quote(value) : JSON.stringify(value)}`);
}

function quote(text: string): string {
  return /^[^\s"=]*$/.test(text) && text !== '' ? text : JSON.stringify(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A pino destination that writes pretty lines to `target` (which keeps its own buffering). */
export function prettyDestination(target: DestinationStream & { flush?: () => void }, color: boolean): DestinationStream & { flush(): void } {
  return {
    write: (json: string) => target.write(formatPrettyLine(json.trimEnd(), color)),
    flush: () => target.flush?.(),
  };
}
