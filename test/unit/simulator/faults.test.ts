import { describe, expect, it } from 'vitest';
import { Faults } from '../../../src/simulator/faults.js';

describe('Faults', () => {
  it('applies a device fault to requests naming that device only', () => {
    const faults = new Faults();
    faults.set('asset-000001', { kind: 'http_500' });
    expect(faults.takeForDevice(['asset-000002', 'dev-000002'])).toBeUndefined();
    expect(faults.takeForDevice(['asset-000001', 'dev-000001'])).toEqual({ kind: 'http_500' });
    expect(faults.takeForDevice(['asset-000001'])).toEqual({ kind: 'http_500' });
  });

  it('matches a device by deviceKey too', () => {
    const faults = new Faults();
    faults.set('dev-000003', { kind: 'malformed' });
    expect(faults.takeForDevice(['asset-000003', 'dev-000003'])?.kind).toBe('malformed');
  });

  it("prefers the device's own fault over '*'", () => {
    const faults = new Faults();
    faults.set('*', { kind: 'http_503' });
    faults.set('asset-000001', { kind: 'code_99500' });
    expect(faults.takeForDevice(['asset-000001'])?.kind).toBe('code_99500');
    expect(faults.takeForDevice(['asset-000009'])?.kind).toBe('http_503');
  });

  it('clears a fault after `times` uses', () => {
    const faults = new Faults();
    faults.set('*', { kind: 'http_429', times: 2 });
    faults.setSearch({ kind: 'code_99500', times: 1 });
    faults.setToken({ kind: 'http_503', times: 1 });
    expect(faults.takeForDevice(['a'])?.kind).toBe('http_429');
    expect(faults.takeForDevice(['b'])?.kind).toBe('http_429');
    expect(faults.takeForDevice(['c'])).toBeUndefined();
    expect(faults.takeSearch()?.kind).toBe('code_99500');
    expect(faults.takeSearch()).toBeUndefined();
    expect(faults.takeToken()?.kind).toBe('http_503');
    expect(faults.takeToken()).toBeUndefined();
  });

  it('keeps a fault without `times` until cleared', () => {
    const faults = new Faults();
    faults.set('*', { kind: 'hang' });
    faults.setSearch({ kind: 'slow', delayMs: 10 });
    faults.setToken({ kind: 'code_99500' });
    for (let i = 0; i < 5; i += 1) {
      expect(faults.takeForDevice(['x'])?.kind).toBe('hang');
      expect(faults.takeSearch()?.kind).toBe('slow');
      expect(faults.takeToken()?.kind).toBe('code_99500');
    }
    faults.clear();
    expect(faults.takeForDevice(['x'])).toBeUndefined();
    expect(faults.takeSearch()).toBeUndefined();
    expect(faults.takeToken()).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses times = %s', (times) => {
    expect(() => new Faults().set('*', { kind: 'http_500', times })).toThrow(RangeError);
  });

  it('refuses a negative delay', () => {
    expect(() => new Faults().setSearch({ kind: 'slow', delayMs: -5 })).toThrow(RangeError);
  });
});
