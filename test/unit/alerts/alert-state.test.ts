import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, type AlertState } from '../../../src/alerts/alert-state.js';
import { alertKey } from '../../../src/alerts/labels.js';
import { silentLogger } from '../../../src/util/log.js';

const labels = { alertname: 'EnosCertificateRevoked', severity: 'warning', org_id: 'o1', cert_sn: '1' };
const state: AlertState = {
  alerts: new Map([
    [alertKey(labels), { labels, annotations: { summary: 's' }, startsAt: 1_000, resolvedAt: 2_000 }],
  ]),
  holds: new Map([
    [
      'o1/a1/1',
      {
        device: { orgId: 'o1', assetId: 'a1' },
        certSN: '1',
        at: 1_000,
        revoker: 'IoT_Hub',
        revokerReason: 'KEY COMPROMISE',
        notAfter: null,
      },
    ],
  ]),
};

describe('alert state records', () => {
  it('round-trips through the store format', () => {
    expect(decodeState(new Map(encodeState(state)), silentLogger)).toEqual({ ...state, unreadable: [] });
  });

  it.each([
    ['not JSON', 'alert:x', '{'],
    ['wrong version', 'alert:x', JSON.stringify({ v: 2, labels, annotations: {}, startsAt: 1 })],
    ['missing startsAt', 'alert:x', JSON.stringify({ v: 1, labels, annotations: {} })],
    ['hold without certSN', 'hold:x', JSON.stringify({ v: 1, device: { orgId: 'o1' }, at: 1, revoker: '', revokerReason: '', notAfter: null })],
    ['unknown prefix', 'other:x', JSON.stringify({ v: 1 })],
  ])('skips a record that is %s, and names it', (_name, key, value) => {
    const records = new Map([...encodeState(state), [key, value]]);
    expect(decodeState(records, silentLogger)).toEqual({ ...state, unreadable: [key] });
  });
});
