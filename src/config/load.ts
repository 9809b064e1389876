import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { Secret } from '../util/secret.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { configSchema, type RawConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/config.yaml';
export const CONFIG_ENV_VAR = 'ENOS_CERT_MONITOR_CONFIG';

type EnosConfig = Omit<RawConfig['enos'], 'appKey' | 'appKeyFile' | 'appSecret' | 'appSecretFile'> & {
  readonly appKey: string;
  readonly appSecret: Secret;
  /** PEM text of `caFile`, read once at load. */
  readonly ca?: string;
};

/** The validated, frozen configuration every component reads. */
export type Config = Readonly<Omit<RawConfig, 'enos'>> & {
  readonly enos: Readonly<EnosConfig>;
  /** Where it was read from. */
  readonly source: string;
};

/** An invalid config: one line per problem, each naming its key path. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** `-c FILE`, then $ENOS_CERT_MONITOR_CONFIG, then config/config.yaml. */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env[CONFIG_ENV_VAR] ?? DEFAULT_CONFIG_PATH;
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read config file (${errorCode(error)})`]);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0]!.replace(/:$/, '');
    throw new ConfigError([`${source}: not valid YAML: ${firstLine}`]);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError([`${source}: must be a YAML mapping`]);
  }
  const interpolationProblems: InterpolationProblem[] = [];
  const interpolated = interpolate(document, env, interpolationProblems);
  const result = configSchema.safeParse(interpolated);
  const problems = interpolationProblems.map((p) => `${p.path}: ${p.message}`);
  if (!result.success) {
    // A value left empty by a missing variable is already reported once.
    const reported = new Set(interpolationProblems.map((p) => `${p.path}: `));
    problems.push(...formatIssues(result.error.issues).filter((line) => ![...reported].some((r) => line.startsWith(r))));
  }
  if (problems.length > 0) throw new ConfigError(unique(problems));
  return deepFreeze(resolveFiles(relativeToConfigFile(result.data!, source), source));
}

/**
 * Relative file paths in a config file name files next to it, wherever the program is started:
 * inventory files, `caFile` and the secret files are resolved against the config file's folder.
 */
function relativeToConfigFile(raw: RawConfig, source: string): RawConfig {
  const folder = dirname(resolve(source));
  const absolute = (file: string): string => (isAbsolute(file) ? file : resolve(folder, file));
  const enos = { ...raw.enos };
  for (const key of ['caFile', 'appKeyFile', 'appSecretFile'] as const) {
    const file = enos[key];
    if (file !== undefined) enos[key] = absolute(file);
  }
  return { ...raw, enos, inventory: { ...raw.inventory, files: raw.inventory.files.map(absolute) } };
}

/**
 * The files a loaded config names that cannot be read now, one line each naming the key and the
 * path tried (the secret and CA files were already read by the loader).
 */
export function unreadableFiles(config: Config): string[] {
  const problems: string[] = [];
  config.inventory.files.forEach((file, index) => {
    try {
      accessSync(file, constants.R_OK);
      if (!statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
    } catch (error) {
      problems.push(`inventory.files[${index}]: cannot read ${file} (${errorCode(error)})`);
    }
  });
  return problems;
}

function resolveFiles(raw: RawConfig, source: string): Config {
  const problems: string[] = [];
  const read = (key: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      problems.push(`enos.${key}: cannot read ${file} (${errorCode(error)})`);
      return '';
    }
  };
  const { appKey, appKeyFile, appSecret, appSecretFile, caFile, ...enos } = raw.enos;
  const key = appKey ?? read('appKeyFile', appKeyFile!).trim();
  const secret = appSecret ?? read('appSecretFile', appSecretFile!).trim();
  if (appKeyFile && !problems.length && key === '') problems.push('enos.appKeyFile: file is empty');
  if (appSecretFile && !problems.length && secret === '') problems.push('enos.appSecretFile: file is empty');
  let ca: string | undefined;
  if (caFile !== undefined) {
    ca = read('caFile', caFile);
    if (ca !== '' && !ca.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`enos.caFile: ${caFile} holds no PEM certificate`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...raw,
    enos: { ...enos, ...(caFile !== undefined ? { caFile, ca } : {}), appKey: key, appSecret: new Secret(secret) },
    source,
  };
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${path ? `${path}.` : ''}${key}: unknown key`);
      continue;
    }
    lines.push(`${path || '(root)'}: ${describeIssue(issue)}`);
  }
  return lines;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message.endsWith('received undefined') ? 'is required' : `must be ${article(issue.expected)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} item(s)`;
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'array') return 'a list';
  if (expected === 'object' || expected === 'record') return 'a mapping';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
