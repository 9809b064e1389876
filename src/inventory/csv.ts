/** One CSV record; `line` is the 1-based line it starts on. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
  /** The input ended inside a quoted field, so this record swallowed the rest of the input. */
  readonly unterminated?: true;
}

/** Separators a device list may use: Excel writes `;` where the decimal separator is a comma. */
export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

/**
 * The separator of a file, judged by its first line (the header): the candidate that occurs most
 * often outside quotes, a comma when there is none.
 */
export function detectDelimiter(firstLine: string): CsvDelimiter {
  const counts = new Map<CsvDelimiter, number>();
  let inQuotes = false;
  for (const ch of firstLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (CSV_DELIMITERS as readonly string[]).includes(ch)) {
      counts.set(ch as CsvDelimiter, (counts.get(ch as CsvDelimiter) ?? 0) + 1);
    }
  }
  let best: CsvDelimiter = ',';
  for (const [delimiter, count] of counts) if (count > (counts.get(best) ?? 0)) best = delimiter;
  return best;
}

/**
 * RFC 4180 records from text arriving in chunks (a file stream), without holding the whole text:
 * quoted fields may hold the delimiter, line breaks and doubled quotes; a leading BOM is dropped;
 * CR outside quotes is dropped so CRLF and LF files read alike. Lenient where the RFC is strict: a
 * quote inside an unquoted field is kept as a character.
 */
export async function* parseCsv(
  chunks: AsyncIterable<string> | Iterable<string>,
  delimiter: CsvDelimiter = ',',
): AsyncGenerator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let fieldQuoted = false;
  let inQuotes = false;
  // A quote seen inside quotes: a doubled quote or the closing one, decided by the next character.
  let quotePending = false;
  let line = 1;
  let recordLine = 1;
  let atStart = true;

  for await (const chunk of chunks) {
    let i = 0;
    if (atStart && chunk.length > 0) {
      atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false;
        } else {
          if (ch === '"') quotePending = true;
          else field += ch;
          if (ch === '\n') line++;
          continue;
        }
      }
      if (ch === '"' && field === '' && !fieldQuoted) {
        inQuotes = true;
        fieldQuoted = true;
      } else if (ch === delimiter) {
        fields.push(field);
        field = '';
        fieldQuoted = false;
      } else if (ch === '\n') {
        fields.push(field);
        yield { line: recordLine, fields };
        fields = [];
        field = '';
        fieldQuoted = false;
        line++;
        recordLine = line;
      } else if (ch !== '\r') {
        field += ch;
      }
    }
  }
  if (inQuotes && !quotePending) {
    fields.push(field);
    yield { line: recordLine, fields, unterminated: true };
  } else if (fields.length > 0 || field !== '' || fieldQuoted) {
    fields.push(field);
    yield { line: recordLine, fields };
  }
}
