import { stringify } from 'yaml';
import { maskedConfig } from '../config/mask.js';
import { checkStoreTarget } from '../state/store-target.js';
import { parseCommand } from './command-line.js';
import type { Command } from './io.js';

/** Validates the config; prints the effective config with secrets masked. */
export const checkConfigCommand: Command = async (context) => {
  const parsed = parseCommand(context, {});
  if (typeof parsed === 'number') return parsed;
  // An unknown Sentinel master is a mistake in the file; unreachable Sentinels may be an outage.
  const storeProblem = await checkStoreTarget(parsed.config.store);
  if (storeProblem !== undefined) {
    context.stderr.write(`${storeProblem.kind === 'config' ? '' : 'warning: '}${storeProblem.message}\n`);
    if (storeProblem.kind === 'config') return 2;
  }
  context.stdout.write(`# ${parsed.configPath}: valid\n${stringify(maskedConfig(parsed.config))}`);
  return 0;
};
