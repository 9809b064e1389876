/**
 * An instant as an object field V8 holds unboxed: whole seconds from 2030-01-01 as a small
 * integer (a Smi), which covers 1996–2064. An instant outside that range or with milliseconds
 * keeps its epoch ms in an object of its own. A plain epoch-ms number would be a 16-byte heap
 * number per field, and a fleet holds two per certificate.
 */
export type PackedInstant = number | { readonly ms: number };

const EPOCH_MS = Date.UTC(2030, 0, 1);
/** The largest magnitude that is a Smi on every V8 build, with or without pointer compression. */
const SMI_LIMIT = 2 ** 30;

export function packInstant(ms: number): PackedInstant {
  const seconds = (ms - EPOCH_MS) / 1000;
  return Number.isInteger(seconds) && Math.abs(seconds) < SMI_LIMIT ? seconds : { ms };
}

export function unpackInstant(packed: PackedInstant): number {
  return typeof packed === 'number' ? EPOCH_MS + packed * 1000 : packed.ms;
}
