import { describe, expect, it } from 'vitest';
import { ExpressionError, matchesAll, parseExpression } from '../../../src/simulator/expression.js';
import { deriveDevice } from '../../../src/simulator/generate.js';

describe('parseExpression', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['   ', []],
    ["productKey = 'pk-a'", [{ field: 'productKey', value: 'pk-a' }]],
    ['deviceKey="dev-000001"', [{ field: 'deviceKey', value: 'dev-000001' }]],
    [
      "productKey = 'pk-a' and status = 'online'",
      [
        { field: 'productKey', value: 'pk-a' },
        { field: 'status', value: 'online' },
      ],
    ],
    [
      "assetId = 'a' AND deviceKey = 'b' And status='offline'",
      [
        { field: 'assetId', value: 'a' },
        { field: 'deviceKey', value: 'b' },
        { field: 'status', value: 'offline' },
      ],
    ],
    ["productKey = 'it''s'", [{ field: 'productKey', value: "it's" }]],
    ["productKey = ''", [{ field: 'productKey', value: '' }]],
  ])('%j', (expression, expected) => {
    expect(parseExpression(expression)).toEqual(expected);
  });

  it.each([
    ["productKey = 'a' or productKey = 'b'", /unsupported operator 'or'/],
    ["deviceName = 'x'", /unsupported field 'deviceName'/],
    ["deviceAttributes.color = 'red'", /unsupported field/],
    ["productKey != 'a'", /unexpected '!'/],
    ["productKey in ('a', 'b')", /unexpected '\('/],
    ["productKey like 'a%'", /expected '='/],
    ["productKey = 'open", /unterminated string/],
    ['productKey = pka', /expected a quoted value/],
    ["productKey = 'a' and", /expected a field name/],
    ["productKey = 'a' productKey = 'b'", /expected 'and'|unsupported operator/],
    ["(productKey = 'a')", /unexpected '\('/],
    ["and productKey = 'a'", /unsupported field 'and'|expected '='/],
  ])('refuses %j', (expression, message) => {
    expect(() => parseExpression(expression)).toThrow(ExpressionError);
    expect(() => parseExpression(expression)).toThrow(message);
  });
});

describe('matchesAll', () => {
  const device = deriveDevice(1, 'demo-org', 12, 0);

  it.each([
    [[], true],
    [[{ field: 'assetId', value: 'asset-000012' }], true],
    [[{ field: 'assetId', value: 'asset-000012' }, { field: 'productKey', value: device.productKey }], true],
    [[{ field: 'assetId', value: 'asset-000012' }, { field: 'status', value: 'no-such-status' }], false],
    [[{ field: 'deviceKey', value: 'DEV-000012' }], false],
  ] as const)('%j → %s', (conditions, expected) => {
    expect(matchesAll(conditions, device)).toBe(expected);
  });
});
