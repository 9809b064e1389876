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

  it('write the version first, as {"v":…,"s":…}, with queriedAt by name (the commit script reads it)', () => {
    expect(encodeSnapshotEntry(3, snapshot(device, []))).toBe('{"v":3,"s":{"queriedAt":1750000000000,"d":["o1",null,"pk","dk"],"c":[]}}');
  });

  it('write certificates as short tuples: no field names, repeated names and empty trailing fields left out', () => {
    const subject = 'EMAILADDRESS=dk-000123@devices.enos, CN=dk-000123, OU=EnOS';
    const own = { orgId: 'o1', productKey: 'pk', deviceKey: 'dk-000123' };
    const first = certificate({ certSN: '1', subject, issuer: 'CN=CA' });
    const renewed = certificate({ certSN: '2', subject, issuer: 'CN=CA', status: 'revoked', revoker: 'ops', revokerReason: '' });
    const encoded = encodeSnapshotEntry(1, snapshot(own, [first, renewed]));
    const { c } = (JSON.parse(encoded) as { s: { c: unknown[][] } }).s;
    expect(c[0]).toEqual(['1', 0, first.notBefore, first.notAfter, 'CN=CA', 'EMAILADDRESS=\uE000@devices.enos, CN=\uE000, OU=EnOS', first.issueAuthority]);
    expect(c[1]).toEqual(['2', 1, renewed.notBefore, renewed.notAfter, 0, 0, renewed.issueAuthority, 'ops']);
    expect(decodeSnapshotEntry(encoded).snapshot.certificates).toEqual([first, renewed]);
  });

  it('read entries written in the older form, with field names', () => {
    const value = snapshot(device, [certificate(), certificate({ certSN: 'sn-2', status: 'expired', notBefore: null })]);
    const older = JSON.stringify({ v: 4, s: { device, certificates: value.certificates, queriedAt: value.queriedAt } });
    expect(decodeSnapshotEntry(older)).toEqual({ version: 4, snapshot: value });
  });

  it('round-trip names that hold the mark characters of the compact form', () => {
    const own = { orgId: 'o1', assetId: 'a\uE000b', deviceKey: 'dk\uE001' };
    const cert = certificate({ subject: 'CN=dk\uE001, O=a\uE000b \uE002', issuer: '\uE000' });
    expect(decodeSnapshotEntry(encodeSnapshotEntry(1, snapshot(own, [cert]))).snapshot.certificates).toEqual([cert]);
  });

  it('leave out fields the domain types do not have, such as a raw PEM', () => {
    const withExtras = { ...certificate(), cert: '-----BEGIN CERTIFICATE-----' };
    const encoded = encodeSnapshotEntry(1, { ...snapshot(device, [withExtras]), extra: 1 } as never);
    expect(encoded).not.toContain('BEGIN CERTIFICATE');
    expect(encoded).not.toContain('extra');
  });

  const valid = JSON.parse(encodeSnapshotEntry(1, snapshot(device))) as { v: number; s: { c: unknown[][] } };
  const withCertificate = (index: number, value: unknown): string =>
    JSON.stringify({ v: 1, s: { ...valid.s, c: [valid.s.c[0]!.map((field, i) => (i === index ? value : field))] } });
  const legacy = JSON.stringify({ v: 1, s: { device, certificates: [{ ...certificate(), status: 'weird' }], queriedAt: 1 } });
  it.each([
    ['not JSON', '{"v":1,', 'not valid JSON'],
    ['no version', JSON.stringify({ s: valid.s }), 'v:'],
    ['version 0', JSON.stringify({ ...valid, v: 0 }), 'v:'],
    ['fractional version', JSON.stringify({ ...valid, v: 1.5 }), 'v:'],
    ['no snapshot', JSON.stringify({ v: 1 }), 's:'],
    ['unknown status', withCertificate(1, 3), 's.c.0.1'],
    ['notAfter as text', withCertificate(3, '2030'), 's.c.0.3'],
    ['device without org', JSON.stringify({ v: 1, s: { ...valid.s, d: [null, null, 'pk', 'dk'] } }), 's.d.0'],
    ['an older entry with an unknown status', legacy, 's.certificates.0.status'],
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

  it('write a short tuple, the time in epoch ms', () => {
    const event = changeEvent(device);
    expect(JSON.parse(encodeEvent(event))).toEqual(['added', 'o1', '', 'pk', 'dk', event.certSN, event.from, event.to, Date.parse(event.at)]);
    const odd = { ...event, at: '2026-06-01T00:00:00+02:00' };
    expect(decodeEvent(encodeEvent(odd))).toEqual(odd);
  });

  it('read events written in the older form, with field names', () => {
    const event = changeEvent(device, { type: 'revoked', from: 'valid', to: 'revoked', revoker: 'ops', revokerReason: 'leak' });
    expect(decodeEvent(JSON.stringify(event))).toEqual(event);
  });

  it.each([
    ['not JSON', 'nope', 'not valid JSON'],
    ['unknown type', JSON.stringify({ ...changeEvent(device), type: 'moved' }), 'type'],
    ['missing certSN', JSON.stringify({ ...changeEvent(device), certSN: undefined }), 'certSN'],
    ['an unknown type in a tuple', JSON.stringify(['moved', 'o1', '', 'pk', 'dk', 'sn', null, 'valid', 1]), '0'],
  ])('reject %s', (_name, raw, problem) => {
    expect(() => decodeEvent(raw)).toThrow(CorruptEntryError);
    expect(() => decodeEvent(raw)).toThrow(problem);
  });
});
