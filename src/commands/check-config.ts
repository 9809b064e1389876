import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, resolveConfigPath } from '../config/load.js';
import { maskedConfig } from '../config/mask.js';
import type { Command } from './io.js';
import { usageError } from './usage.js';

/** Validates the config; prints the effective config with secrets masked. */
export const checkConfigCommand: Command = async ({ args, stdout, stderr, env }) => {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' } }, strict: true }));
  } catch (error) {
    return usageError(stderr, error);
  }
  const path = resolveConfigPath(values.config, env);
  try {
    const config = loadConfig(path, env);
    stdout.write(`# ${path}: valid\n${stringify(maskedConfig(config))}`);
    return 0;
  } catch (error) {
    return reportConfigError(stderr, error);
  }
};

/** Prints each problem on its own line and returns exit code 2; rethrows anything else. */
export function reportConfigError(stderr: NodeJS.WritableStream, error: unknown): number {
  if (!(error instanceof ConfigError)) throw error;
  stderr.write(`${error.problems.join('\n')}\n`);
  return 2;
}
