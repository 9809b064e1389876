import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, resolveConfigPath, type Config } from '../config/load.js';
import type { CommandContext } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & typeof CONFIG_OPTION; strict: true; args: string[] }>
>['values'];

export interface ParsedCommand<O extends Options> {
  readonly values: Values<O>;
  readonly configPath: string;
  readonly config: Config;
}

/**
 * Parses a command's options (`-c FILE` included) and loads its config. On bad usage or an
 * invalid config it prints the problem and returns exit code 2 instead. `check` may throw to
 * reject option values.
 */
export function parseCommand<O extends Options>(
  { args, stderr, env }: CommandContext,
  options: O,
  check?: (values: Values<O>) => void,
): ParsedCommand<O> | number {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ args: [...args], options: { ...options, ...CONFIG_OPTION }, strict: true }));
    check?.(values);
  } catch (error) {
    return usageError(stderr, error);
  }
  const configPath = resolveConfigPath((values as { config?: string }).config, env);
  try {
    return { values, configPath, config: loadConfig(configPath, env) };
  } catch (error) {
    return configError(stderr, error);
  }
}

/** An invalid config: one line per problem on stderr, exit code 2. Anything else is rethrown. */
export function configError(stderr: NodeJS.WritableStream, error: unknown): number {
  if (!(error instanceof ConfigError)) throw error;
  stderr.write(`${error.problems.join('\n')}\n`);
  return 2;
}

/** Bad command-line usage: message on stderr, exit code 2. */
export function usageError(stderr: NodeJS.WritableStream, error: unknown): number {
  stderr.write(`${(error as Error).message}\nRun 'enos-cert-monitor --help' for usage.\n`);
  return 2;
}

/** Rejects a flag value outside `allowed`. */
export function oneOf(flag: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) throw new Error(`${flag} must be one of: ${allowed.join(', ')}`);
}

/** A comma-separated flag value whose items must each be one of `allowed`. */
export function listOf<T extends string>(flag: string, value: string, allowed: readonly T[]): Set<T> {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const wrong = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (items.length === 0 || wrong.length > 0) throw new Error(`${flag} takes a comma-separated list of: ${allowed.join(', ')}`);
  return new Set(items as T[]);
}
