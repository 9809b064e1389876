import { describe, expect, it } from 'vitest';
import { CHURN_EXPIRING_AFTER_MS, Churn } from '../../../src/simulator/churn.js';
import { Fleet } from '../../../src/simulator/fleet.js';
import { manualClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';

const START = Date.UTC(2025, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

function world(devices = 20) {
  const clock = manualClock(START);
  const fleet = new Fleet({ seed: 3, orgId: 'demo-org', devices, startTime: START, clock });
  return { clock, fleet, churn: new Churn(fleet, { clock, log: silentLogger }) };
}

function certificate(fleet: Fleet, assetId: string, certSN: string) {
  return fleet.certificates({ orgId: 'demo-org', assetId })?.find((c) => String(c.certSN) === certSN);
}

describe('Churn', () => {
  it('revokes a healthy certificate, renews one about to expire, adds one that expires soon, in turn', () => {
    const { fleet, churn } = world();
    const [revoked] = churn.step();
    expect(revoked?.action).toBe('revoke');
    expect(certificate(fleet, revoked!.assetId, revoked!.certSN)).toMatchObject({ certStatus: 1 });

    const [renewed] = churn.step();
    expect(renewed?.action).toBe('renew');
    const renewedDevice = fleet.certificates({ orgId: 'demo-org', assetId: renewed!.assetId })!;
    const old = renewedDevice.find((c) => String(c.certSN) === renewed!.certSN)!;
    expect(Number(old.expireDate)).toBeLessThanOrEqual(START + 30 * DAY);
    expect(renewedDevice.some((c) => c.certStatus === 0 && Number(c.expireDate) >= START + 364 * DAY)).toBe(true);

    const [expiring] = churn.step();
    expect(expiring?.action).toBe('expiring');
    expect(certificate(fleet, expiring!.assetId, expiring!.certSN)).toMatchObject({ certStatus: 0, expireDate: START + CHURN_EXPIRING_AFTER_MS });
  });

  it('marks the certificates it added expired once their time is up', () => {
    const { clock, fleet, churn } = world();
    churn.step();
    churn.step();
    const [expiring] = churn.step();
    expect(churn.step().map((c) => c.action)).toEqual(['revoke']);
    clock.set(START + CHURN_EXPIRING_AFTER_MS);
    const changes = churn.step();
    expect(changes[0]).toEqual({ action: 'expire', assetId: expiring!.assetId, certSN: expiring!.certSN });
    expect(certificate(fleet, expiring!.assetId, expiring!.certSN)).toMatchObject({ certStatus: 2 });
  });

  it('does nothing in an empty fleet', () => {
    const { churn } = world(0);
    expect([churn.step(), churn.step(), churn.step()]).toEqual([[], [], []]);
  });
});
