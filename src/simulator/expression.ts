import type { SimDevice } from './generate.js';

/**
 * The part of Search Device's SQL-like `expression` the simulator understands:
 * `field = 'value'` conditions joined by `and` (any case) over a few device fields.
 * Anything else is refused, as the gateway refuses what it cannot parse (code 99400).
 */
export const SEARCH_FIELDS = ['productKey', 'deviceKey', 'assetId', 'status'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

export interface Condition {
  readonly field: SearchField;
  readonly value: string;
}

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Token = { readonly kind: 'word' | 'string' | 'equals'; readonly text: string };

/** Conditions that must all hold; an absent or blank expression matches every device. */
export function parseExpression(expression: string | undefined): Condition[] {
  const tokens = tokenize(expression ?? '');
  const conditions: Condition[] = [];
  let position = 0;
  const expect = (kind: Token['kind'], what: string): Token => {
    const token = tokens[position];
    if (token?.kind !== kind) throw new ExpressionError(`expected ${what} at token ${position + 1}`);
    position += 1;
    return token;
  };
  while (position < tokens.length) {
    if (conditions.length > 0) {
      const joiner = expect('word', "'and'");
      if (joiner.text.toLowerCase() !== 'and') throw new ExpressionError(`unsupported operator '${joiner.text}'`);
    }
    const field = expect('word', 'a field name').text;
    if (!isSearchField(field)) throw new ExpressionError(`unsupported field '${field}'`);
    expect('equals', "'='");
    conditions.push({ field, value: expect('string', 'a quoted value').text });
  }
  return conditions;
}

export function matchesAll(conditions: readonly Condition[], device: SimDevice): boolean {
  return conditions.every((condition) => device[condition.field] === condition.value);
}

function isSearchField(name: string): name is SearchField {
  return (SEARCH_FIELDS as readonly string[]).includes(name);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '=') {
      tokens.push({ kind: 'equals', text: char });
      i += 1;
    } else if (char === "'" || char === '"') {
      const [value, end] = readQuoted(text, i);
      tokens.push({ kind: 'string', text: value });
      i = end;
    } else {
      const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))?.[0];
      if (word === undefined) throw new ExpressionError(`unexpected '${char}' at position ${i + 1}`);
      tokens.push({ kind: 'word', text: word });
      i += word.length;
    }
  }
  return tokens;
}

/** A quoted value starting at `start`; a doubled quote stands for one quote, as in SQL. */
function readQuoted(text: string, start: number): [value: string, end: number] {
  const quote = text.charAt(start);
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const char = text.charAt(i);
    if (char !== quote) {
      value += char;
      i += 1;
    } else if (text.charAt(i + 1) === quote) {
      value += quote;
      i += 2;
    } else {
      return [value, i + 1];
    }
  }
  throw new ExpressionError(`unterminated string starting at position ${start + 1}`);
}
