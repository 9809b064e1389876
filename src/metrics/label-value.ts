import { wellFormed } from '../util/text.js';

/** Longest label value the monitor emits, in code points: keeps hostile data from bloating scrapes. */
export const MAX_LABEL_CHARS = 128;

// C0 controls except \n (escaped instead), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const NEEDS_ESCAPE = /[\\"\n]/;
// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ud800-\udfff]/;

/** The first `max` code points of `value`; never splits a surrogate pair. */
export function capCodePoints(value: string, max: number): string {
  if (value.length <= max) return value;
  let units = 0;
  let points = 0;
  while (units < value.length && points < max) {
    units += isSurrogatePair(value, units) ? 2 : 1;
    points++;
  }
  return value.slice(0, units);
}

function isSurrogatePair(value: string, index: number): boolean {
  const high = value.charCodeAt(index);
  const low = value.charCodeAt(index + 1);
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}

/**
 * Untrusted text as a plain label value: control characters and lone surrogates become U+FFFD
 * (the output must be valid UTF-8), then capped. Newlines survive; escaping handles them.
 */
export function cleanLabelValue(value: string, max = MAX_LABEL_CHARS): string {
  const capped = capCodePoints(value, max);
  if (!NEEDS_CLEANING.test(capped)) return capped;
  return wellFormed(capped.replace(CONTROL, '\ufffd'));
}

/** Exposition-format escaping of a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Cleaned, capped and escaped: ready to go between the quotes of a label. */
export function labelValue(value: string, max = MAX_LABEL_CHARS): string {
  return escapeLabelValue(cleanLabelValue(value, max));
}
