import { Gauge, type Registry } from 'prom-client';
import { EXPIRY_WINDOW_DAYS } from './expiry-windows.js';
import { CERTIFICATE_STATES, DEVICE_STATES } from '../domain/types.js';
import type { FleetSeries, OrgCounts } from './fleet-series.js';

/**
 * `enos_certificates{org_id,state}`, `enos_devices{org_id,state}` and the expiry forecast
 * `enos_certificates_expiring{org_id,within_days}`, read from the FleetSeries
 * at collect time (after re-evaluating states that time has moved). Every state of a known org
 * is present, 0 included; an org goes away with its last device.
 */
export function registerStateGauges(registry: Registry, series: FleetSeries, now: () => number): void {
  const stateGauge = <S extends string>(
    name: string,
    help: string,
    states: readonly S[],
    countsOf: (counts: OrgCounts) => Record<S, number>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['org_id', 'state'],
      registers: [registry],
      collect() {
        series.refresh(now());
        this.reset();
        for (const [orgId, counts] of series.counts()) {
          for (const state of states) this.set({ org_id: orgId, state }, countsOf(counts)[state]);
        }
      },
    });
  stateGauge(
    'enos_certificates',
    'Certificates by org and state (ok, warning, critical, expired, revoked).',
    CERTIFICATE_STATES,
    (counts) => counts.certificates,
  );
  stateGauge(
    'enos_devices',
    'Devices by org and state (ok, warning, critical, no_valid_certificate, no_certificate, not_found, error).',
    DEVICE_STATES,
    (counts) => counts.devices,
  );
  new Gauge({
    name: 'enos_certificates_expiring',
    help: 'Valid certificates, not superseded and not yet ended, whose notAfter is within within_days of now (cumulative).',
    labelNames: ['org_id', 'within_days'],
    registers: [registry],
    collect() {
      series.refresh(now());
      this.reset();
      for (const [orgId, counts] of series.counts()) {
        EXPIRY_WINDOW_DAYS.forEach((days, window) => this.set({ org_id: orgId, within_days: String(days) }, counts.expiring[window]!));
      }
    },
  });
}
