import { stringify } from 'yaml';
import { unreadableFiles } from '../config/load.js';
import { maskedConfig } from '../config/mask.js';
import { checkStoreTarget } from '../state/store-target.js';
import { parseCommand } from './command-line.js';
import type { Command } from './io.js';

/** Validates the config and the files it names; prints the effective config with secrets masked. */
export const checkConfigCommand: Command = async (context) => {
  const parsed = parseCommand(context, {});
  if (typeof parsed === 'number') return parsed;
  const problems = unreadableFiles(parsed.config);
  if (problems.length > 0) {
    context.stderr.write(`${problems.join('\n')}\n`);
    return 2;
  }
  // An unknown Sentinel master is a mistake in the file; unreachable Sentinels may be an outage.
  const storeProblem = await checkStoreTarget(parsed.config.store);
  if (storeProblem !== undefined) {
    context.stderr.write(`${storeProblem.kind === 'config' ? '' : 'warning: '}${storeProblem.message}\n`);
    if (storeProblem.kind === 'config') return 2;
  }
  context.stdout.write(`# ${parsed.configPath}: valid\n${stringify(maskedConfig(parsed.config))}`);
  return 0;
};
