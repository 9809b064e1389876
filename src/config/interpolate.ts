import { parse as parseYamlScalar } from 'yaml';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of a parsed YAML document.
 * Interpolating values (not the raw text) means an environment value can never change the
 * document's structure. A value that was wholly one reference and reads as a number or boolean
 * becomes one, so `port: ${PORT:-9464}` works.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path = '',
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, problems, path);
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolate(item, env, problems, `${path}[${index}]`));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolate(item, env, problems, path ? `${path}.${key}` : key),
      ]),
    );
  }
  return value;
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path: string,
): unknown {
  let replaced = false;
  const result = text.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    replaced = true;
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (fallback !== undefined) return fallback;
    problems.push({ path, message: `environment variable ${name} is not set` });
    return '';
  });
  if (!replaced) return text;
  if (text.replace(REFERENCE, '') === '') {
    const scalar: unknown = parseScalar(result);
    if (typeof scalar === 'number' || typeof scalar === 'boolean') return scalar;
  }
  return result;
}

function parseScalar(text: string): unknown {
  try {
    return parseYamlScalar(text);
  } catch {
    return text;
  }
}
