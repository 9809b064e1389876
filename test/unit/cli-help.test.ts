import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const HELP = await helpText();

function synopsis(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('enos-cert-monitor ') && !line.includes(':'));
}

describe('--help and the README', () => {
  it('give the same synopsis, one line per command', () => {
    const help = synopsis(HELP);
    expect(help.length).toBeGreaterThanOrEqual(7);
    const readme = README.slice(README.indexOf('## Commands'));
    expect(synopsis(readme).slice(0, help.length)).toEqual(help);
  });

  it('--help names every flag of the synopsis with its default or meaning', () => {
    for (const flag of new Set(synopsis(HELP).join(' ').match(/--[a-z-]+/g))) {
      if (flag === '--version' || flag === '--help') continue;
      expect(HELP.split(flag).length, flag).toBeGreaterThan(2);
    }
  });
});
