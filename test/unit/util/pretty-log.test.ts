import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/util/log.js';
import { formatPrettyLine } from '../../../src/util/pretty-log.js';

describe('formatPrettyLine', () => {
  it('puts time, level, component and message first, then the fields, nested ones flattened', () => {
    const json = JSON.stringify({
      level: 'warn',
      time: '2026-12-01T10:11:12.345Z',
      name: 'enos-cert-monitor',
      component: 'scan',
      device: 'o1/a1',
      reason: 'code_1003',
      devices: { total: 3, ok: 2 },
      err: { type: 'EnosApiError', message: 'token failed: code_1003', stack: 'at x' },
      msg: 'device query failed',
    });
    expect(formatPrettyLine(json, false)).toBe(
      '10:11:12 WARN  scan: device query failed  device=o1/a1 reason=code_1003 devices.total=3 devices.ok=2 err="token failed: code_1003"\n',
    );
  });

  it('colours the level only for a terminal', () => {
    const json = JSON.stringify({ level: 'error', time: '2026-12-01T10:11:12.345Z', msg: 'x' });
    expect(formatPrettyLine(json, true)).toBe('10:11:12 \u001b[31mERROR\u001b[0m x\n');
  });

  it('passes a line that is not JSON through', () => {
    expect(formatPrettyLine('plain', false)).toBe('plain');
  });
});

describe('createLogger formats', () => {
  function capture(format: 'json' | 'pretty' | 'auto'): string[] {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => lines.push(line) }, format);
    log.info({ appSecret: 'hidden', device: 'o1/a1' }, 'hello');
    return lines;
  }

  it('writes JSON to a stream unless pretty is asked for, and redacts secrets either way', () => {
    const [json] = capture('auto');
    expect(JSON.parse(json!)).toMatchObject({ msg: 'hello', appSecret: '***' });
    const [pretty] = capture('pretty');
    expect(pretty).toMatch(/^\d\d:\d\d:\d\d INFO {2}hello {2}appSecret=\*\*\* device=o1\/a1\n$/);
  });
});
