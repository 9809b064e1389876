import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryProblem } from '../../../src/inventory/index.js';
import { capturedLogger, collect, fixture, inventoryConfig } from './support.js';

describe('inventory files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inventory-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a CSV with BOM, CRLF, reordered header, extra column, quoted fields and blank lines', async () => {
    const file = fixture('devices.csv');
    const { devices, inventory } = await collect(inventoryConfig({ files: [file] }));
    expect(devices).toEqual([
      { orgId: 'o1', assetId: 'a1' },
      { orgId: 'o1', productKey: 'p2', deviceKey: 'd2' },
      { orgId: 'o1', assetId: 'a3' },
      { orgId: 'o1', assetId: 'a"5' },
      { orgId: 'o1', productKey: 'p6', deviceKey: 'd6' },
      { orgId: 'o1', assetId: 'a15' },
    ]);
    expect(inventory.problems).toEqual<InventoryProblem[]>([
      { source: 'file', file, line: 6, reason: 'invalid_row', message: `${file}:6: orgId is required` },
      { source: 'file', file, line: 7, reason: 'invalid_row', message: `${file}:7: needs assetId, or productKey and deviceKey` },
      { source: 'file', file, line: 11, reason: 'invalid_row', message: `${file}:11: needs assetId, or productKey and deviceKey` },
      { source: 'file', file, line: 12, reason: 'invalid_row', message: `${file}:12: productKey and deviceKey go together` },
    ]);
    // Skipped rows do not make the inventory incomplete: what they name cannot be scanned anyway.
    expect(inventory.complete).toBe(true);
  });

  it('logs each skipped row with file and line and tells onProblem', async () => {
    const file = fixture('devices.csv');
    const { log, lines } = capturedLogger();
    const seen: InventoryProblem[] = [];
    await collect(inventoryConfig({ files: [file] }), { log, onProblem: (problem) => seen.push(problem) });
    const warnings = lines.filter((line) => line['msg'] === 'inventory row skipped');
    expect(warnings[0]).toMatchObject({ level: 'warn', component: 'inventory', file, line: 6, problem: 'orgId is required' });
    expect(warnings.map((line) => line['line'])).toEqual([6, 7, 11, 12]);
    expect(seen.map((problem) => problem.line)).toEqual([6, 7, 11, 12]);
  });

  it('reads a JSON array, skipping invalid items by index', async () => {
    const file = fixture('devices.json');
    const { devices, inventory } = await collect(inventoryConfig({ files: [file] }));
    expect(devices).toEqual([
      { orgId: 'o1', assetId: 'a1' },
      { orgId: 'o1', productKey: 'p2', deviceKey: 'd2' },
      { orgId: 'o1', productKey: 'p6', deviceKey: 'd6' },
    ]);
    expect(inventory.problems.map((p) => [p.index, p.reason, p.message])).toEqual([
      [2, 'invalid_row', `${file}[2]: orgId is required`],
      [3, 'invalid_row', `${file}[3]: must be an object`],
      [4, 'invalid_row', `${file}[4]: assetId must be a string`],
    ]);
    expect(inventory.complete).toBe(true);
  });

  it.each([
    ['a JSON file that is not an array', 'not-an-array.json', 'not_an_array', 'must be a JSON array of devices'],
    ['a JSON file that does not parse', 'truncated.json', 'invalid_json', 'not valid JSON'],
    ['a missing CSV file', 'missing.csv', 'unreadable', 'cannot read (ENOENT)'],
    ['a missing JSON file', 'missing.json', 'unreadable', 'cannot read (ENOENT)'],
    ['a CSV without header', 'no-header.csv', 'no_header', 'needs a header row'],
    ['an empty CSV', 'empty.csv', 'no_header', 'needs a header row'],
    ['another file type', 'devices.txt', 'unsupported_type', 'unsupported file type'],
  ])('%s fails that source only and marks the inventory incomplete', async (_name, name, reason, text) => {
    const failing = fixture(name);
    const { log, lines } = capturedLogger();
    const { devices, inventory } = await collect(inventoryConfig({ files: [failing, fixture('valid.csv')] }), { log });
    expect(devices).toEqual([{ orgId: 'o9', assetId: 'a9' }]);
    expect(inventory.problems).toEqual([{ source: 'file', file: failing, reason, message: expect.stringContaining(text) }]);
    expect(inventory.problems[0]?.message.startsWith(`${failing}: `)).toBe(true);
    expect(inventory.complete).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'inventory source failed', file: failing, reason }));
  });

  it('reports a directory as unreadable', async () => {
    const folder = join(dir, 'folder.csv');
    await mkdir(folder);
    const { inventory } = await collect(inventoryConfig({ files: [folder] }));
    expect(inventory.problems).toEqual([expect.objectContaining({ reason: 'unreadable', message: `${folder}: cannot read (EISDIR)` })]);
  });

  it('reports a quoted field left open and keeps the rows before it', async () => {
    const file = join(dir, 'open-quote.csv');
    await writeFile(file, 'orgId,assetId\no1,a1\no1,"a2\no1,a3\n');
    const { devices, inventory } = await collect(inventoryConfig({ files: [file] }));
    expect(devices).toEqual([{ orgId: 'o1', assetId: 'a1' }]);
    expect(inventory.problems.map((p) => p.message)).toEqual([`${file}:3: quoted field never closed`]);
  });

  it('reads a CSV that arrives in many stream chunks', async () => {
    const file = join(dir, 'large.csv');
    const rows = Array.from({ length: 3_000 }, (_, i) => `o1,asset-${i},"name, ""${i}"" ${'x'.repeat(40)}"`);
    await writeFile(file, `orgId,assetId,name\n${rows.join('\n')}\n`);
    const { devices, inventory } = await collect(inventoryConfig({ files: [file] }));
    expect(devices).toHaveLength(3_000);
    expect(devices.at(-1)).toEqual({ orgId: 'o1', assetId: 'asset-2999' });
    expect(inventory.complete).toBe(true);
  });
});
