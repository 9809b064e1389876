import { stringify } from 'yaml';
import { maskedConfig } from '../config/mask.js';
import { parseCommand } from './command-line.js';
import type { Command } from './io.js';

/** Validates the config; prints the effective config with secrets masked. */
export const checkConfigCommand: Command = async (context) => {
  const parsed = parseCommand(context, {});
  if (typeof parsed === 'number') return parsed;
  context.stdout.write(`# ${parsed.configPath}: valid\n${stringify(maskedConfig(parsed.config))}`);
  return 0;
};
