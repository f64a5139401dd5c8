/**
 * `WWW-Authenticate` challenges (RFC 9110 section 11.6.1, 11.2): how a registry says how to
 * authenticate, e.g. `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
 * scope="repository:library/alpine:pull"`.
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * Commas separate both the parameters of one challenge and the challenges themselves; a token not
 * followed by "=" after a comma starts the next challenge. The header comes from the registry:
 * hostile values give MALFORMED, never a crash, and a bounded amount of work.
 */
import { WaybillError } from '../errors.ts';

export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`. */
  scheme: string;
  /** Parameters with lower-cased names; the first of a repeated name wins. */
  params: Record<string, string>;
  token68?: string;
}

/** Longer headers are refused: a registry has no reason to send kilobytes of challenge. */
export const MAX_CHALLENGE_HEADER = 16 * 1024;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Cursor {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skips whitespace and commas (empty list elements are allowed, RFC 9110 section 5.6.1). */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  readWhile(allowed: RegExp): string {
    const start = this.pos;
    while (!this.done && allowed.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

function malformed(reason: string): WaybillError {
  return new WaybillError('MALFORMED', 'WWW-Authenticate header', reason);
}

function readQuoted(c: Cursor): string {
  c.pos++; // opening quote
  let value = '';
  while (!c.done) {
    const ch = c.peek();
    if (ch === '"') {
      c.pos++;
      return value;
    }
    if (ch === '\\') {
      c.pos++;
      if (c.done) break;
    }
    const code = c.peek().charCodeAt(0);
    // qdtext and quoted-pair exclude controls other than horizontal tab.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f)
      throw malformed('control character in a quoted value');
    value += c.peek();
    c.pos++;
  }
  throw malformed('unterminated quoted string');
}

/** After a token and BWS: is this `name=value` (true) or a token68 / next challenge (false)? */
function isParamStart(c: Cursor): boolean {
  const save = c.pos;
  c.readWhile(TCHAR);
  c.skipWhitespace();
  let result = false;
  if (c.peek() === '=') {
    c.pos++;
    c.skipWhitespace();
    // `abc==` is a token68; `abc=value` and `abc="v"` are parameters; `abc=` then end is a token68.
    result = c.peek() === '"' || (c.peek() !== '' && c.peek() !== '=' && TCHAR.test(c.peek()));
  }
  c.pos = save;
  return result;
}

function readParams(c: Cursor, params: Record<string, string>): void {
  for (;;) {
    const name = c.readWhile(TCHAR).toLowerCase();
    c.skipWhitespace();
    c.pos++; // "=" (isParamStart checked it)
    c.skipWhitespace();
    const value = c.peek() === '"' ? readQuoted(c) : c.readWhile(TCHAR);
    // defineProperty: a parameter named `__proto__` is data, not a prototype change.
    if (!Object.hasOwn(params, name))
      Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
    c.skipWhitespace();
    if (c.done) return;
    if (c.peek() !== ',') throw malformed(`unexpected ${JSON.stringify(c.peek())} after parameter ${name}`);
    // Look past the commas: another parameter continues this challenge, anything else ends it.
    const save = c.pos;
    c.skipSeparators();
    if (c.done) return;
    if (!TCHAR.test(c.peek()) || !isParamStart(c)) {
      c.pos = save;
      return;
    }
  }
}

/** Parses a WWW-Authenticate header value (or several joined by commas) into its challenges. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  if (header.length > MAX_CHALLENGE_HEADER)
    throw malformed(`${header.length} characters is longer than the ${MAX_CHALLENGE_HEADER} allowed`);
  const c = new Cursor(header);
  const challenges: Challenge[] = [];
  for (;;) {
    c.skipSeparators();
    if (c.done) return challenges;
    const scheme = c.readWhile(TCHAR);
    if (scheme === '') throw malformed(`expected an auth scheme, found ${JSON.stringify(c.peek())}`);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    const afterScheme = c.pos;
    c.skipWhitespace();
    if (c.done || c.peek() === ',') continue;
    if (c.pos === afterScheme)
      throw malformed(`unexpected ${JSON.stringify(c.peek())} after scheme ${scheme}`);
    if (TCHAR.test(c.peek()) && isParamStart(c)) {
      readParams(c, challenge.params);
      continue;
    }
    const token68 = c.readWhile(TOKEN68_CHAR) + c.readWhile(/=/);
    if (token68 === '') throw malformed(`unexpected ${JSON.stringify(c.peek())} after scheme ${scheme}`);
    challenge.token68 = token68;
    c.skipWhitespace();
    if (!c.done && c.peek() !== ',')
      throw malformed(`unexpected ${JSON.stringify(c.peek())} after ${scheme} token`);
  }
}

/** Quotes a parameter value as a quoted-string (for tests and for anything that writes challenges). */
export function quoteParam(value: string): string {
  return `"${value.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}
