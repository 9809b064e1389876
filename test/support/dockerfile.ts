/** Just enough of the Dockerfile syntax to read this project's Dockerfile in tests. */

export interface Instruction {
  /** Upper case: FROM, COPY, RUN, ... */
  readonly keyword: string;
  /** Leading `--name=value` options, e.g. from, mount. */
  readonly flags: Readonly<Record<string, string>>;
  /** The rest, continuation lines joined. */
  readonly args: string;
}

export interface Stage {
  readonly name: string;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: { name: string; image: string; instructions: Instruction[] }[] = [];
  for (const line of logicalLines(text)) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = words(instruction.args);
      stages.push({
        name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length),
        image: substitute(image, globalArgs),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') Object.assign(globalArgs, keyValues(instruction.args));
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The stage named `name`; throws when there is none. */
export function stage(dockerfile: Dockerfile, name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
}

/** `key=value` pairs (ENV, LABEL, ARG), quotes removed; a bare `key` maps to ''. */
export function keyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const word of words(args)) {
    const equals = word.indexOf('=');
    if (equals < 0) pairs[word] = '';
    else pairs[word.slice(0, equals)] = word.slice(equals + 1);
  }
  return pairs;
}

/** COPY/ADD operands: sources and destination, in exec (JSON) or shell form. */
export function copyOperands(args: string): { sources: string[]; destination: string } {
  const operands = args.trimStart().startsWith('[') ? (JSON.parse(args) as string[]) : words(args);
  if (operands.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { sources: operands.slice(0, -1), destination: operands.at(-1)! };
}

/** Joins continuation lines and drops comments, blank lines and parser directives. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trimStart().startsWith('#') || (pending === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push((pending + line).trim());
    pending = '';
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  return lines;
}

function parseInstruction(line: string): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(line)!;
  let rest = match[2]!;
  const flags: Record<string, string> = {};
  for (;;) {
    const flag = /^--([a-z-]+)=(\S+)\s*/.exec(rest);
    if (flag === null) break;
    flags[flag[1]!] = flag[2]!;
    rest = rest.slice(flag[0].length);
  }
  return { keyword: match[1]!.toUpperCase(), flags, args: rest };
}

/** Splits on blanks outside double quotes; the quotes themselves are removed. */
function words(text: string): string[] {
  const result: string[] = [];
  for (const match of text.matchAll(/(?:[^\s"]+|"(?:[^"\\]|\\.)*")+/g)) {
    result.push(match[0].replace(/"((?:[^"\\]|\\.)*)"/g, (_all, inner: string) => inner.replace(/\\(.)/g, '$1')));
  }
  return result;
}

function substitute(text: string, args: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => args[name] ?? all);
}
