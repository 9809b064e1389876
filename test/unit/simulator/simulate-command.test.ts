import { describe, expect, it } from 'vitest';
import { parseSimulateArgs, SIMULATE_HELP } from '../../../src/commands/simulate.js';

describe('parseSimulateArgs', () => {
  it('has the documented defaults', () => {
    expect(parseSimulateArgs([])).toEqual({
      host: '127.0.0.1',
      port: 8080,
      devices: 100,
      latencyMs: 0,
      minCertificates: 0,
      seed: 1,
      orgId: 'demo-org',
      appKey: 'demo-app-key',
      appSecret: 'demo-app-secret',
      churnIntervalMs: 0,
      pem: false,
    });
  });

  it('reads every flag', () => {
    const args = ['--port', '0', '--devices', '100000', '--latency-ms', '25', '--min-certificates', '1', '--seed=-7', '--org', 'o1'];
    expect(parseSimulateArgs([...args, '--app-key', 'k', '--app-secret', 's', '--host', '::1', '--churn', '--churn-seconds', '5', '--pem'])).toEqual({
      host: '::1',
      port: 0,
      devices: 100_000,
      latencyMs: 25,
      minCertificates: 1,
      seed: -7,
      orgId: 'o1',
      appKey: 'k',
      appSecret: 's',
      churnIntervalMs: 5000,
      pem: true,
    });
  });

  it.each([['--help'], ['-h']])('%s asks for help', (flag) => {
    expect(parseSimulateArgs([flag])).toBe('help');
  });

  it.each([
    [['--port', '65536'], /--port must be an integer from 0 to 65535/],
    [['--port', 'http'], /--port/],
    [['--churn-seconds', '5'], /--churn-seconds needs --churn/],
    [['--churn', '--churn-seconds', '0'], /--churn-seconds must be an integer from 1/],
    [['--devices', '-1'], /--devices/],
    [['--devices', '1e3'], /--devices/],
    [['--latency-ms', '1.5'], /--latency-ms/],
    [['--min-certificates', '5'], /--min-certificates must be an integer from 0 to 4/],
    [['--seed', 'abc'], /--seed/],
    [['--org', ''], /--org must not be empty/],
    [['--port'], /argument missing/],
    [['--verbose'], /Unknown option/],
    [['extra'], /Unexpected argument/],
  ])('refuses %j', (args, message) => {
    expect(() => parseSimulateArgs(args)).toThrow(message);
  });

  it('help names every flag with its default', () => {
    for (const flag of ['--port', '--devices', '--latency-ms', '--min-certificates', '--seed', '--org', '--app-key', '--app-secret']) {
      expect(SIMULATE_HELP).toContain(flag);
    }
    expect(SIMULATE_HELP).toContain('default 8080');
    expect(SIMULATE_HELP).toContain('default demo-org');
  });
});
