import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, recordDigest, type AlertState } from '../../../src/alerts/alert-state.js';
import { alertKey } from '../../../src/alerts/labels.js';
import { silentLogger } from '../../../src/util/log.js';

const labels = { alertname: 'EnosCertificateRevoked', severity: 'warning', org_id: 'o1', cert_sn: '1' };
const state: AlertState = {
  alerts: new Map([
    [alertKey(labels), { content: { labels, annotations: { summary: 's' } }, startsAt: 1_000, resolvedAt: 2_000 }],
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

describe('recordDigest', () => {
  it('is the same for the same record and differs for records that differ by one character', () => {
    const record = [...encodeState(state)][1]![1];
    expect(recordDigest(record)).toBe(recordDigest(`${record}`));
    const variants = new Set([record, ...Array.from({ length: record.length }, (_, i) => `${record.slice(0, i)}#${record.slice(i + 1)}`)]);
    expect(new Set([...variants].map(recordDigest)).size).toBe(variants.size);
  });

  it('spreads over 53 bits', () => {
    const digests = Array.from({ length: 10_000 }, (_, i) => recordDigest(`{"v":1,"n":${i}}`));
    expect(new Set(digests).size).toBe(digests.length);
    expect(digests.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(Math.max(...digests)).toBeGreaterThan(2 ** 50);
  });
});
