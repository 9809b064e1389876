import type { CertificateState } from '../domain/types.js';

/** A query the API refuses: answered 400 with the message. */
export class BadQuery extends Error {}

const MAX_QUERY_LENGTH = 4096;
/** Enough for any device id the inventory accepts (its parts are at most 256 characters each). */
const MAX_TEXT_LENGTH = 1024;
const MAX_OFFSET = 1_000_000_000;

/**
 * The query string as single values: an unknown parameter, a repeated one or an overlong query is
 * refused rather than guessed at.
 */
export function queryParameters(search: string, allowed: readonly string[]): Map<string, string> {
  if (search.length > MAX_QUERY_LENGTH) throw new BadQuery(`query string longer than ${MAX_QUERY_LENGTH} characters`);
  const values = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(search)) {
    if (!allowed.includes(name)) {
      throw new BadQuery(`unknown parameter ${JSON.stringify(name.slice(0, 64))}; allowed: ${allowed.join(', ') || 'none'}`);
    }
    if (values.has(name)) throw new BadQuery(`parameter "${name}" given more than once`);
    values.set(name, value);
  }
  return values;
}

/** A whole number from `min` to `max`, digits only; `fallback` when absent. */
export function integerParameter(values: ReadonlyMap<string, string>, name: string, range: { min: number; max: number; fallback: number }): number {
  const text = values.get(name);
  if (text === undefined) return range.fallback;
  const number = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(number >= range.min && number <= range.max)) {
    throw new BadQuery(`${name} must be a whole number from ${range.min} to ${range.max}`);
  }
  return number;
}

export function offsetParameter(values: ReadonlyMap<string, string>): number {
  return integerParameter(values, 'offset', { min: 0, max: MAX_OFFSET, fallback: 0 });
}

/** Non-empty text of bounded length; undefined when absent. */
export function textParameter(values: ReadonlyMap<string, string>, name: string): string | undefined {
  const text = values.get(name);
  if (text === undefined) return undefined;
  if (text.length === 0 || text.length > MAX_TEXT_LENGTH) throw new BadQuery(`${name} must be 1 to ${MAX_TEXT_LENGTH} characters`);
  return text;
}

/** A comma-separated list of states out of `known`; [] when absent (no filter). */
export function statesParameter(values: ReadonlyMap<string, string>, known: readonly CertificateState[]): CertificateState[] {
  const text = values.get('state');
  if (text === undefined) return [];
  const states = text.split(',');
  for (const state of states) {
    if (!known.includes(state as CertificateState)) {
      throw new BadQuery(`state must be a comma-separated list of ${known.join(', ')}`);
    }
  }
  return [...new Set(states as CertificateState[])];
}
