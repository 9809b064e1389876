const CN_TYPES = new Set(['cn', '2.5.4.3', 'oid.2.5.4.3']);
const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
/** Escapes and quotes need the full parser; most gateway DNs have neither. */
const NEEDS_PARSER = /[\\"]/;
const EDGE_SPACES = /^ +| +$/g;
/** An attribute of type CN (or its OID) after the start or a separator; its value up to the next one. */
const SIMPLE_CN = /(?:^|[,;+])\s*(?:cn|2\.5\.4\.3|oid\.2\.5\.4\.3)\s*=([^,;+]*)/i;

/**
 * The common name of a distinguished name as the gateway prints it
 * (`EMAILADDRESS=x, OU=EnOS, CN=xMen1, O=EnOS`, RFC 4514 escapes and quotes, or OpenSSL's
 * `/O=EnOS/CN=xMen1`). The first CN wins; '' when there is none.
 */
export function commonName(dn: string): string {
  const oneLine = dn.startsWith('/');
  if (!oneLine && !NEEDS_PARSER.test(dn)) return simpleCommonName(dn);
  for (const [type, value] of attributes(oneLine ? dn.slice(1) : dn, oneLine ? '/' : ',;+')) {
    if (CN_TYPES.has(type.trim().toLowerCase())) return value;
  }
  return '';
}

/** The fast path, no unescaping to do: the first CN attribute, found in one pass. */
function simpleCommonName(dn: string): string {
  const value = SIMPLE_CN.exec(dn)?.[1];
  return value === undefined ? '' : value.replace(EDGE_SPACES, '');
}

/** Splits `type=value` pairs on unescaped, unquoted separators, unescaping the values. */
function* attributes(dn: string, separators: string): Generator<[string, string]> {
  let index = 0;
  while (index < dn.length) {
    const equals = dn.indexOf('=', index);
    if (equals < 0) return;
    const type = dn.slice(index, equals);
    const value = readValue(dn, equals + 1, separators);
    yield [type.slice(lastSeparator(type, separators) + 1), value.text];
    index = value.end + 1;
  }
}

/** A type such as `x,CN` (text without `=` before it) keeps only what follows the last separator. */
function lastSeparator(type: string, separators: string): number {
  let last = -1;
  for (let i = 0; i < type.length; i++) if (separators.includes(type[i]!)) last = i;
  return last;
}

/** Reads one value from `start` to the next unescaped separator outside quotes. */
function readValue(dn: string, start: number, separators: string): { text: string; end: number } {
  let text = '';
  let pendingBytes: number[] = []; // consecutive \HH escapes form one UTF-8 sequence
  let keptLength = 0; // text length without unquoted trailing spaces
  const flush = () => {
    if (pendingBytes.length === 0) return;
    text += Buffer.from(pendingBytes).toString('utf8');
    keptLength = text.length;
    pendingBytes = [];
  };
  let quoted = false;
  let index = start;
  for (; index < dn.length; index++) {
    const char = dn[index]!;
    if (char === '\\' && HEX_PAIR.test(dn.slice(index + 1, index + 3))) {
      pendingBytes.push(parseInt(dn.slice(index + 1, index + 3), 16));
      index += 2;
      continue;
    }
    flush();
    if (char === '\\' && index + 1 < dn.length) {
      text += dn[++index];
    } else if (char === '"') {
      quoted = !quoted;
    } else if (!quoted && separators.includes(char)) {
      break;
    } else if (!quoted && char === ' ') {
      if (text.length > 0) text += char;
      continue;
    } else {
      text += char;
    }
    keptLength = text.length;
  }
  flush();
  return { text: text.slice(0, keptLength), end: index };
}
