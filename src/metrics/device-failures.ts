import { Gauge, type Registry } from 'prom-client';
import type { DeviceRecord, FleetView } from '../state/fleet-view.js';
import { cleanLabelValue } from './label-value.js';

/**
 * `enos_device_query_failures{org_id, reason}`: devices whose last query failed, kept current from
 * the FleetView's change listener. Only failing devices cost memory (their org and reason).
 */
export function registerDeviceFailures(registry: Registry, fleet: FleetView): void {
  const failing = new Map<string, { readonly org: string; readonly reason: string }>();
  const counts = new Map<string, Map<string, number>>();
  const add = (org: string, reason: string, delta: 1 | -1): void => {
    const reasons = counts.get(org) ?? new Map<string, number>();
    const count = (reasons.get(reason) ?? 0) + delta;
    if (count === 0) reasons.delete(reason);
    else reasons.set(reason, count);
    if (reasons.size === 0) counts.delete(org);
    else counts.set(org, reasons);
  };
  const follow = (id: string, record: DeviceRecord | undefined): void => {
    const before = failing.get(id);
    if (before !== undefined) {
      failing.delete(id);
      add(before.org, before.reason, -1);
    }
    if (record === undefined || record.query === 'ok') return;
    const now = { org: cleanLabelValue(record.device.orgId), reason: record.reason ?? 'internal_error' };
    failing.set(id, now);
    add(now.org, now.reason, 1);
  };
  for (const record of fleet.records()) follow(record.id, record);
  fleet.onChange(follow);

  new Gauge({
    name: 'enos_device_query_failures',
    help: 'Devices whose last query failed, by org and reason (an API outcome such as timeout or code_11404, or store_error).',
    labelNames: ['org_id', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [org, reasons] of counts) for (const [reason, count] of reasons) this.set({ org_id: org, reason }, count);
    },
  });
}
