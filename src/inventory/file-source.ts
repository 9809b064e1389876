import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { DeviceRef } from '../domain/types.js';
import { detectDelimiter, parseCsv, type CsvDelimiter, type CsvRecord } from './csv.js';
import { DEVICE_FIELDS, deviceFromRow, type DeviceField } from './device-row.js';
import type { InventoryProblem, SourceContext } from './problem.js';

const HEADER_HINT = 'needs a header row naming orgId and assetId, or productKey and deviceKey';
/** A header line longer than this is not a header: stop looking. */
const SNIFF_LIMIT_CHARS = 64 * 1024;

/** The devices listed in a `.csv` or `.json` file; invalid entries are reported and skipped. */
export async function* readDeviceFile(file: string, context: SourceContext): AsyncGenerator<DeviceRef> {
  const type = extname(file).toLowerCase();
  if (type === '.csv') yield* readCsvFile(file, context);
  else if (type === '.json') yield* readJsonFile(file, context);
  else context.report.sourceFailed(fileFailure(file, 'unsupported_type', 'unsupported file type (use .csv or .json)'));
}

/** Streams the file, so a large list is never held whole. */
async function* readCsvFile(file: string, { report, signal }: SourceContext): AsyncGenerator<DeviceRef> {
  const stream = createReadStream(file, { encoding: 'utf8', signal });
  let columns: Map<DeviceField, number> | undefined;
  let firstRow: readonly string[] | undefined;
  try {
    const { delimiter, chunks } = await sniffDelimiter(stream);
    for await (const record of parseCsv(chunks, delimiter)) {
      if (record.fields.every((value) => value.trim() === '')) continue;
      if (columns === undefined) {
        firstRow = record.fields;
        columns = headerColumns(record.fields);
        if (columns === undefined) break;
        continue;
      }
      const result = record.unterminated
        ? { problem: 'quoted field never closed' }
        : deviceFromRow(rowOf(record, columns));
      if ('device' in result) yield result.device;
      else report.rowSkipped(file, { line: record.line }, result.problem);
    }
  } catch (error) {
    signal?.throwIfAborted();
    if (!isSystemError(error)) throw error;
    report.sourceFailed(fileFailure(file, 'unreadable', `cannot read (${error.code})`));
    return;
  } finally {
    stream.destroy();
  }
  if (columns === undefined) report.sourceFailed(fileFailure(file, 'no_header', headerProblem(firstRow)));
}

/** Why no header was found, showing what the first row held (and how it was split). */
function headerProblem(firstRow: readonly string[] | undefined): string {
  if (firstRow === undefined) return `is empty; it ${HEADER_HINT}`;
  const shown = firstRow.map((field) => JSON.stringify(field.trim())).join(', ').slice(0, 200);
  return `${HEADER_HINT} (separated by commas, semicolons or tabs); its first row reads ${shown}`;
}

/**
 * The delimiter, judged from the first non-empty line, and the text again from its start: the
 * chunks read to find that line are handed on before the rest of the stream.
 */
async function sniffDelimiter(source: AsyncIterable<string>): Promise<{ delimiter: CsvDelimiter; chunks: AsyncIterable<string> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: string[] = [];
  let text = '';
  let ended = false;
  while (!/\S[^\n]*\n/.test(text) && text.length < SNIFF_LIMIT_CHARS) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    head.push(next.value);
    text += next.value;
  }
  const firstLine = text.split('\n').find((line) => line.trim() !== '') ?? '';
  async function* replay(): AsyncGenerator<string> {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { delimiter: detectDelimiter(firstLine), chunks: replay() };
}

/** Where each field sits (first column of a name wins); undefined unless the row is a usable header. */
function headerColumns(names: readonly string[]): Map<DeviceField, number> | undefined {
  const columns = new Map<DeviceField, number>();
  names.forEach((name, index) => {
    const field = DEVICE_FIELDS.find((known) => known.toLowerCase() === name.trim().toLowerCase());
    if (field !== undefined && !columns.has(field)) columns.set(field, index);
  });
  const usable = columns.has('orgId') && (columns.has('assetId') || (columns.has('productKey') && columns.has('deviceKey')));
  return usable ? columns : undefined;
}

function rowOf(record: CsvRecord, columns: ReadonlyMap<DeviceField, number>): Record<string, string | undefined> {
  const row: Record<string, string | undefined> = {};
  for (const [field, index] of columns) row[field] = record.fields[index];
  return row;
}

async function* readJsonFile(file: string, context: SourceContext): AsyncGenerator<DeviceRef> {
  const items = await readJsonArray(file, context);
  for (const [index, item] of (items ?? []).entries()) {
    const result = isRecord(item) ? deviceFromRow(item) : { problem: 'must be an object' };
    if ('device' in result) yield result.device;
    else context.report.rowSkipped(file, { index }, result.problem);
  }
}

/** The parsed array, or undefined after reporting why there is none. */
async function readJsonArray(file: string, { report, signal }: SourceContext): Promise<unknown[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', signal });
  } catch (error) {
    signal?.throwIfAborted();
    if (!isSystemError(error)) throw error;
    report.sourceFailed(fileFailure(file, 'unreadable', `cannot read (${error.code})`));
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    report.sourceFailed(fileFailure(file, 'invalid_json', `not valid JSON: ${(error as Error).message}`));
    return undefined;
  }
  if (Array.isArray(value)) return value;
  report.sourceFailed(fileFailure(file, 'not_an_array', 'must be a JSON array of devices'));
  return undefined;
}

function fileFailure(file: string, reason: string, detail: string): InventoryProblem {
  return { source: 'file', file, reason, message: `${file}: ${detail}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
