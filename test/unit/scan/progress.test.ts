import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../../src/scan/progress.js';
import { manualClock } from '../../../src/util/clock.js';
import { captureLog } from '../../support/capture-log.js';

describe('ProgressReporter', () => {
  it('logs devices done and rate at most once per interval, and the ETA once the total is known', () => {
    const clock = manualClock(0);
    const { log, lines } = captureLog('info');
    const progress = new ProgressReporter(log, clock, 10_000);
    for (let i = 0; i < 100; i++) {
      clock.advance(50);
      progress.deviceDone();
    }
    // 100 devices in 5 s: under the interval, nothing logged yet.
    expect(lines).toEqual([]);
    for (let i = 0; i < 100; i++) {
      clock.advance(50);
      progress.deviceDone();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'scan progress', done: 200, ratePerSecond: 20 });
    expect(lines[0]).not.toHaveProperty('etaSeconds');

    progress.setTotal(1_000);
    for (let i = 0; i < 200; i++) {
      clock.advance(50);
      progress.deviceDone();
    }
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ done: 400, total: 1_000, ratePerSecond: 20, etaSeconds: 30 });
  });
});
