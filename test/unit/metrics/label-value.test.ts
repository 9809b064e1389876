import { describe, expect, it } from 'vitest';
import { capCodePoints, cleanLabelValue, escapeLabelValue, labelValue, MAX_LABEL_CHARS } from '../../../src/metrics/label-value.js';

describe('escapeLabelValue', () => {
  it.each([
    ['plain', 'plain'],
    ['say "hi"', 'say \\"hi\\"'],
    ['C:\\dir\\', 'C:\\\\dir\\\\'],
    ['two\nlines', 'two\\nlines'],
    ['\\"\n', '\\\\\\"\\n'],
    ['ünïcødé 😀', 'ünïcødé 😀'],
  ])('%j → %j', (input, expected) => {
    expect(escapeLabelValue(input)).toBe(expected);
  });
});

describe('cleanLabelValue', () => {
  it.each([
    ['keeps text, unicode and newlines', 'a 😀\nb', 'a 😀\nb'],
    ['replaces C0 controls', 'a\u0000b\u0007c\tc\rd\u001b[0m', 'a\ufffdb\ufffdc\ufffdc\ufffdd\ufffd[0m'],
    ['replaces DEL and C1 controls', 'a\u007fb\u0085c\u009fd', 'a\ufffdb\ufffdc\ufffdd'],
    ['replaces a lone high surrogate', 'a\ud800b', 'a\ufffdb'],
    ['replaces a lone low surrogate', 'a\udc00b', 'a\ufffdb'],
    ['replaces a reversed pair', '\udc00\ud800', '\ufffd\ufffd'],
    ['keeps a valid pair', '\ud83d\ude00', '😀'],
  ])('%s', (_name, input, expected) => {
    expect(cleanLabelValue(input)).toBe(expected);
  });

  it('caps 10 kB at the limit', () => {
    expect(cleanLabelValue('x'.repeat(10_240))).toBe('x'.repeat(MAX_LABEL_CHARS));
  });
});

describe('capCodePoints', () => {
  it.each([
    ['shorter than the cap', 'abc', 5, 'abc'],
    ['exactly the cap', 'abcde', 5, 'abcde'],
    ['ascii', 'abcdef', 3, 'abc'],
    ['counts a pair as one character', '😀😀😀😀', 3, '😀😀😀'],
    ['does not split a pair at the boundary', 'ab😀c', 3, 'ab😀'],
    ['a lone surrogate counts as one', 'a\ud800bc', 2, 'a\ud800'],
  ])('%s', (_name, input, max, expected) => {
    expect(capCodePoints(input, max)).toBe(expected);
  });
});

describe('labelValue', () => {
  it('caps before escaping, so an escape is never cut in half', () => {
    const value = labelValue('"'.repeat(200));
    expect(value).toBe('\\"'.repeat(MAX_LABEL_CHARS));
  });

  it('survives a hostile 10 kB mix as a single line of valid escapes', () => {
    const hostile = '"\\\n\u0000😀\ud800'.repeat(2_000);
    const value = labelValue(hostile);
    expect([...value].filter((char) => char.charCodeAt(0) < 0x20)).toEqual([]);
    expect(value).not.toMatch(/(^|[^\\])(\\\\)*\\[^\\"n]/);
    expect(Buffer.from(value, 'utf8').toString('utf8')).toBe(value); // well-formed UTF-16 → lossless UTF-8
  });
});
