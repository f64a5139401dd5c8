/**
 * A lean reader of dpkg's status database (dpkg(5) `status`, deb822(5) stanzas), for files of tens
 * of megabytes, hostile ones included. The general deb822 parser (formats/deb822.ts) turns the whole
 * text into a string, splits it into lines and keeps every field of every stanza: about 60 times the
 * file's size at peak on a database of small stanzas. This one reads the bytes in place, one stanza
 * at a time, and decodes only the fields the caller asks for, so memory follows what is kept.
 *
 * Syntax as deb822(5): stanzas are separated by blank lines (only spaces or tabs); `Name: value`
 * starts a field (names are printable US-ASCII without ':', not starting with '#' or '-'); a line
 * starting with a space or tab continues the previous field (` .` stands for an empty line); `#`
 * starts a comment line. Values are trimmed of spaces and tabs and decoded as UTF-8. A field that
 * repeats keeps its first value, as `field()` does. Limits: at most `maxStanzas` stanzas per file
 * (the rest is not read, with a warning) and `maxFieldBytes` per kept value (the stanza is skipped).
 */

export interface StatusReadOptions {
  /** Lower-case names of the fields to keep; every other field is skipped without being decoded. */
  fields: ReadonlySet<string>;
  /** Of the kept fields, those whose continuation lines are not needed (a Description's synopsis). */
  firstLineOnly?: ReadonlySet<string>;
  maxStanzas: number;
  maxFieldBytes: number;
  /** A stanza that is skipped, or a limit reached: the reason, starting with `line N:`. */
  onProblem(reason: string): void;
}

export interface StatusStanza {
  /** 1-based line where the stanza starts. */
  line: number;
  /** Kept fields by lower-case name. */
  fields: Map<string, string>;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DOT = 0x2e;

const isBlank = (b: number) => b === SPACE || b === TAB;

/** deb822(5) field name: printable US-ASCII except ':' and space, not starting with '#' or '-'. */
function isFieldName(data: Uint8Array, start: number, end: number): boolean {
  if (end <= start || data[start] === HASH || data[start] === DASH) return false;
  for (let i = start; i < end; i++) {
    const b = data[i] as number;
    if (b < 0x21 || b > 0x7e || b === COLON) return false;
  }
  return true;
}

/** The wanted name the bytes [start, end) spell, ASCII case-insensitively, without allocating. */
function wantedName(data: Uint8Array, start: number, end: number, names: readonly Uint8Array[]): number {
  const length = end - start;
  next: for (let n = 0; n < names.length; n++) {
    const name = names[n] as Uint8Array;
    if (name.length !== length) continue;
    for (let i = 0; i < length; i++) {
      let b = data[start + i] as number;
      if (b >= 0x41 && b <= 0x5a) b += 0x20;
      if (b !== name[i]) continue next;
    }
    return n;
  }
  return -1;
}

/** The stanzas of a status file, one at a time, with the wanted fields decoded. */
export function* readStatusStanzas(data: Buffer, options: StatusReadOptions): Generator<StatusStanza> {
  const { maxFieldBytes } = options;
  const names = [...options.fields].map((n) => n.toLowerCase());
  const nameBytes = names.map((n) => Buffer.from(n, 'latin1'));
  const firstLineOnly = options.firstLineOnly ?? new Set<string>();
  let stanzas = 0;
  let current: StatusStanza | undefined;
  /** The field continuation lines belong to: its name when kept and still growing, else null. */
  let open: string | null = null;
  let inField = false;
  let skipping = false;
  let line = 0;

  const problem = (at: number, reason: string): void => {
    options.onProblem(`line ${at}: ${reason}`);
    current = undefined;
    skipping = true;
  };

  for (let pos = 0; pos < data.length; ) {
    const newline = data.indexOf(LF, pos);
    const next = newline < 0 ? data.length : newline + 1;
    let end = newline < 0 ? data.length : newline;
    if (end > pos && data[end - 1] === CR) end--;
    line++;
    const start = pos;
    pos = next;

    let first = start;
    while (first < end && isBlank(data[first] as number)) first++;
    if (first === end) {
      // Blank line: the stanza ends.
      if (current) yield current;
      current = undefined;
      open = null;
      inField = false;
      skipping = false;
      continue;
    }
    if (skipping) continue;
    if (data[start] === HASH) continue;

    if (isBlank(data[start] as number)) {
      if (!inField) {
        problem(line, 'continuation line with no field before it');
        continue;
      }
      if (open === null || !current) continue;
      const s = first;
      let e = end;
      while (e > s && isBlank(data[e - 1] as number)) e--;
      const piece = e - s === 1 && data[s] === DOT ? '' : data.toString('utf8', s, e);
      const value = current.fields.get(open) as string;
      const joined = value === '' ? piece : `${value}\n${piece}`;
      if (Buffer.byteLength(joined) > maxFieldBytes) {
        problem(current.line, `field ${open} is longer than ${maxFieldBytes} bytes`);
        continue;
      }
      current.fields.set(open, joined);
      continue;
    }

    const colon = data.indexOf(COLON, start);
    if (colon < 0 || colon >= end || !isFieldName(data, start, colon)) {
      const shown = data.toString('utf8', start, Math.min(end, start + 60));
      problem(line, `expected "Field: value", got ${JSON.stringify(shown)}`);
      continue;
    }
    if (!current) {
      if (stanzas >= options.maxStanzas) {
        options.onProblem(`line ${line}: more than ${options.maxStanzas} stanzas; the rest is not read`);
        return;
      }
      stanzas++;
      current = { line, fields: new Map() };
    }
    inField = true;
    open = null;
    const which = wantedName(data, start, colon, nameBytes);
    if (which < 0) continue;
    const name = names[which] as string;
    if (current.fields.has(name)) continue;
    let s = colon + 1;
    let e = end;
    while (s < e && isBlank(data[s] as number)) s++;
    while (e > s && isBlank(data[e - 1] as number)) e--;
    if (e - s > maxFieldBytes) {
      problem(current.line, `field ${name} is longer than ${maxFieldBytes} bytes`);
      continue;
    }
    current.fields.set(name, data.toString('utf8', s, e));
    if (!firstLineOnly.has(name)) open = name;
  }
  if (current) yield current;
}
