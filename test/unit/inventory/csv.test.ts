import { describe, expect, it } from 'vitest';
import { detectDelimiter, parseCsv, type CsvRecord } from '../../../src/inventory/csv.js';

async function records(chunks: string[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const record of parseCsv(chunks)) out.push(record);
  return out;
}

describe('parseCsv', () => {
  it.each<[string, string, CsvRecord[]]>([
    ['plain rows', 'a,b\nc,d\n', [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]],
    ['no final newline', 'a,b\nc,d', [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]],
    ['CRLF', 'a,b\r\nc,d\r\n', [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]],
    ['BOM dropped', '\uFEFForgId,x\n', [{ line: 1, fields: ['orgId', 'x'] }]],
    ['empty fields', ',a,,\n', [{ line: 1, fields: ['', 'a', '', ''] }]],
    ['blank line kept as one empty field', 'a\n\nb\n', [{ line: 1, fields: ['a'] }, { line: 2, fields: [''] }, { line: 3, fields: ['b'] }]],
    ['comma in quotes', '"a,b",c\n', [{ line: 1, fields: ['a,b', 'c'] }]],
    ['doubled quotes', '"say ""hi""",x\n', [{ line: 1, fields: ['say "hi"', 'x'] }]],
    ['empty quoted field', '"",x\n', [{ line: 1, fields: ['', 'x'] }]],
    ['quoted field at end of input', 'x,"y"', [{ line: 1, fields: ['x', 'y'] }]],
    ['line break in quotes moves later line numbers', '"a\nb",c\nd\n', [{ line: 1, fields: ['a\nb', 'c'] }, { line: 3, fields: ['d'] }]],
    ['quote inside an unquoted field is a character', 'a"b,c\n', [{ line: 1, fields: ['a"b', 'c'] }]],
    ['unterminated quote', 'a\n"b,c\nd', [{ line: 1, fields: ['a'] }, { line: 2, fields: ['b,c\nd'], unterminated: true }]],
    ['empty input', '', []],
  ])('%s', async (_name, text, expected) => {
    expect(await records([text])).toEqual(expected);
  });

  it('gives the same records however the text is split into chunks', async () => {
    const text = '\uFEFForgId,assetId\r\n"o ""1"", x",a1\r\n\r\n"multi\nline",a2\r\n';
    const whole = await records([text]);
    expect(await records([...text])).toEqual(whole);
    expect(await records([text.slice(0, 17), text.slice(17, 18), text.slice(18)])).toEqual(whole);
    expect(whole).toEqual([
      { line: 1, fields: ['orgId', 'assetId'] },
      { line: 2, fields: ['o "1", x', 'a1'] },
      { line: 3, fields: [''] },
      { line: 4, fields: ['multi\nline', 'a2'] },
    ]);
  });
});

describe('detectDelimiter', () => {
  it.each<[string, string, string]>([
    ['commas', 'orgId,assetId', ','],
    ['semicolons, as Excel saves them in many locales', 'orgId;assetId;productKey', ';'],
    ['tabs', 'orgId\tassetId', '\t'],
    ['no separator at all', 'orgId', ','],
    ['separators inside quotes do not count', '"a;b;c",orgId,assetId', ','],
    ['the most frequent wins', 'orgId;assetId,x;y', ';'],
  ])('%s', (_name, line, expected) => {
    expect(detectDelimiter(line)).toBe(expected);
  });

  it('splits on the given delimiter only', async () => {
    const out: CsvRecord[] = [];
    for await (const record of parseCsv(['o;"a;1",b\n'], ';')) out.push(record);
    expect(out).toEqual([{ line: 1, fields: ['o', 'a;1,b'] }]);
  });
});
