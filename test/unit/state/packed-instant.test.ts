import { describe, expect, it } from 'vitest';
import { packInstant, unpackInstant } from '../../../src/state/packed-instant.js';

const at = (iso: string): number => Date.parse(iso);

describe('packInstant', () => {
  it.each([
    ['a usual notAfter', '2027-06-30T12:00:00Z', 'small'],
    ['the packing epoch', '2030-01-01T00:00:00Z', 'small'],
    ['the earliest packed second', '1995-12-23T10:22:57Z', 'small'],
    ['the latest packed second', '2064-01-10T13:37:03Z', 'small'],
    ['a second before the range', '1995-12-23T10:22:56Z', 'boxed'],
    ['a second after the range', '2064-01-10T13:37:04Z', 'boxed'],
    ['the end of time of never-expiring certificates', '9999-12-31T23:59:59Z', 'boxed'],
    ['the Unix epoch', '1970-01-01T00:00:00Z', 'boxed'],
    ['an instant with milliseconds', '2027-06-30T12:00:00.250Z', 'boxed'],
  ])('keeps %s exactly (%s)', (_name, iso, form) => {
    const packed = packInstant(at(iso));
    expect(unpackInstant(packed)).toBe(at(iso));
    expect(typeof packed === 'number' ? 'small' : 'boxed').toBe(form);
    if (typeof packed === 'number') expect(Math.abs(packed)).toBeLessThan(2 ** 30);
  });
});
