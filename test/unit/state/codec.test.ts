import { describe, expect, it } from 'vitest';
import {
  CorruptEntryError,
  decodeEvent,
  decodeSnapshotEntry,
  encodeEvent,
  encodeSnapshotEntry,
} from '../../../src/state/codec.js';
import { certificate, changeEvent, snapshot } from '../../support/store-fixtures.js';

const device = { orgId: 'o1', productKey: 'pk', deviceKey: 'dk' };

describe('snapshot entries', () => {
  it('round-trip a snapshot with its version', () => {
    const expired = certificate({ certSN: 'sn-2', status: 'expired', notBefore: null });
    const value = snapshot(device, [certificate(), expired]);
    expect(decodeSnapshotEntry(encodeSnapshotEntry(7, value))).toEqual({ version: 7, snapshot: value });
  });

  it('write the version first, as {"v":…,"s":…}', () => {
    expect(encodeSnapshotEntry(3, snapshot(device, []))).toBe(
      '{"v":3,"s":{"device":{"orgId":"o1","productKey":"pk","deviceKey":"dk"},' +
        '"certificates":[],"queriedAt":1750000000000}}',
    );
  });

  it('leave out fields the domain types do not have, such as a raw PEM', () => {
    const withExtras = { ...certificate(), cert: '-----BEGIN CERTIFICATE-----' };
    const encoded = encodeSnapshotEntry(1, { ...snapshot(device, [withExtras]), extra: 1 } as never);
    expect(encoded).not.toContain('BEGIN CERTIFICATE');
    expect(encoded).not.toContain('extra');
  });

  const valid = JSON.parse(encodeSnapshotEntry(1, snapshot(device))) as { v: number; s: Record<string, unknown> };
  const withCertificate = (overrides: Record<string, unknown>): string =>
    JSON.stringify({ v: 1, s: { ...valid.s, certificates: [{ ...certificate(), ...overrides }] } });
  it.each([
    ['not JSON', '{"v":1,', 'not valid JSON'],
    ['no version', JSON.stringify({ s: valid.s }), 'v:'],
    ['version 0', JSON.stringify({ ...valid, v: 0 }), 'v:'],
    ['fractional version', JSON.stringify({ ...valid, v: 1.5 }), 'v:'],
    ['no snapshot', JSON.stringify({ v: 1 }), 's:'],
    ['unknown status', withCertificate({ status: 'weird' }), 's.certificates.0.status'],
    ['notAfter as text', withCertificate({ notAfter: '2030' }), 's.certificates.0.notAfter'],
    ['device without org', JSON.stringify({ v: 1, s: { ...valid.s, device: {} } }), 's.device.orgId'],
    ['a JSON array', '[]', '(root)'],
  ])('reject %s with a message naming the problem', (_name, raw, problem) => {
    expect(() => decodeSnapshotEntry(raw)).toThrow(CorruptEntryError);
    expect(() => decodeSnapshotEntry(raw)).toThrow(problem);
  });
});

describe('change events', () => {
  it.each([
    ['added', changeEvent(device)],
    [
      'revoked with revoker',
      changeEvent(device, { type: 'revoked', from: 'valid', to: 'revoked', revoker: 'ops', revokerReason: 'leak' }),
    ],
    ['renewed', changeEvent(device, { type: 'renewed', from: 'critical', to: 'sn-2' })],
  ])('round-trip %s', (_name, event) => {
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it.each([
    ['not JSON', 'nope', 'not valid JSON'],
    ['unknown type', JSON.stringify({ ...changeEvent(device), type: 'moved' }), 'type'],
    ['missing certSN', JSON.stringify({ ...changeEvent(device), certSN: undefined }), 'certSN'],
  ])('reject %s', (_name, raw, problem) => {
    expect(() => decodeEvent(raw)).toThrow(CorruptEntryError);
    expect(() => decodeEvent(raw)).toThrow(problem);
  });
});
