/** One sample of a text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4) for assertions: every family has HELP
 * and TYPE exactly once and before its samples, samples of a family are contiguous, label values
 * use only the three escapes, and no metric repeats a label set. Throws on any violation.
 */
export function parseExposition(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const samples: Sample[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      const declared = kind === 'HELP' ? help : types;
      if (declared.has(name)) throw new Error(`${kind} for ${name} repeated`);
      if (kind === 'HELP') help.add(name);
      else types.set(name, rest);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line);
    const family = familyOf(sample.name, types);
    if (!help.has(family) || !types.has(family)) throw new Error(`sample before HELP/TYPE: ${line.slice(0, 200)}`);
    if (family !== current) {
      if (finished.has(family)) throw new Error(`samples of ${family} are not contiguous`);
      if (current !== undefined) finished.add(current);
      current = family;
    }
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series ${key.slice(0, 300)}`);
    seen.add(key);
    samples.push(sample);
  }
  return samples;
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && ['histogram', 'summary'].includes(types.get(base) ?? '')) return base;
  }
  return name;
}

function parseSample(line: string): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (name === undefined) throw new Error(`bad sample line: ${line.slice(0, 200)}`);
  const labels: Record<string, string> = {};
  let index = name.length;
  if (line[index] === '{') {
    index++;
    while (line[index] !== '}') {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(index));
      if (!label) throw new Error(`bad label at ${index}: ${line.slice(0, 200)}`);
      index += label[0].length;
      let value = '';
      for (;;) {
        const char = line[index++];
        if (char === undefined) throw new Error('unterminated label value');
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[index++];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`bad escape \\${escaped ?? ''}`);
        } else {
          value += char;
        }
      }
      if (Object.hasOwn(labels, label[1]!)) throw new Error(`label ${label[1]} repeated`);
      labels[label[1]!] = value;
      if (line[index] === ',') index++;
      else if (line[index] !== '}') throw new Error(`expected , or } at ${index}`);
    }
    index++;
  }
  const value = /^ (\S+)$/.exec(line.slice(index))?.[1];
  if (value === undefined) throw new Error(`bad value: ${line.slice(index, index + 50)}`);
  return { name, labels, value: parseValue(value) };
}

/** As Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string): number {
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  const number = Number(text);
  if (text.trim() === '' || Number.isNaN(number)) throw new Error(`bad value ${text}`);
  return number;
}

/** Samples of one metric, optionally narrowed by some labels. */
export function select(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
