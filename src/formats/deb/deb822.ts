/**
 * RFC 822-style stanza parser, the shape shared by Debian control data (deb822(5): dpkg `status`,
 * `status.d/*`, a .deb's `control`) and Python core metadata headers (METADATA / PKG-INFO, which are
 * email headers per the Core Metadata spec, followed by an optional body).
 *
 * A stanza is a run of `Name: value` fields; a line starting with a space or tab continues the
 * previous field; blank lines separate stanzas. Field names are case-insensitive (deb822(5)
 * "Syntax"; RFC 5322 §1.2.2), so lookups are by lower-cased name. A field may repeat (Python
 * `Classifier`, `Requires-Dist`), so every value is kept in order.
 */
import { WaybillError } from '../../errors.ts';

export interface Stanza {
  /** Fields in file order; `name` as written. */
  fields: Array<{ name: string; value: string }>;
  /** 1-based line number where the stanza starts, for messages. */
  line: number;
}

export interface Deb822Options {
  /**
   * Email-header mode (Python core metadata): stop after the first stanza and return the rest of the
   * text as `body`. As in Python's email parser, a line that is neither a field nor a continuation
   * also ends the headers (the body starts there; the irregularity is listed in `defects`).
   */
  headersOnly?: boolean;
  /**
   * Called for a malformed stanza instead of throwing; the stanza is skipped and parsing goes on
   * with the next one (a corrupt entry in a status file should not hide the others).
   */
  onError?: (error: WaybillError) => void;
}

export interface Deb822Result {
  stanzas: Stanza[];
  /** headersOnly mode: the text after the header block (may be empty). */
  body: string;
  /** headersOnly mode: irregularities tolerated (a missing blank line before the body). */
  defects: string[];
}

/** A field name: printable US-ASCII except ':' and space, not starting with '#' or '-' (deb822(5)). */
const FIELD_NAME = /^[!-9;-~][!-9;-~]*$/;

/** Largest text accepted: control data this big is hostile, not a package database. */
const MAX_TEXT = 256 * 1024 * 1024;

export function parseDeb822(text: string, input: string, options: Deb822Options = {}): Deb822Result {
  if (text.length > MAX_TEXT)
    throw new WaybillError('LIMIT', input, `control data larger than ${MAX_TEXT} characters`);
  const lines = text.split(/\r?\n/);
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let broken: WaybillError | undefined;
  let skipToBlank = false;

  const finish = (): void => {
    if (current && current.fields.length > 0) stanzas.push(current);
    current = undefined;
  };
  const fail = (lineNo: number, reason: string): void => {
    const error = new WaybillError('MALFORMED', input, `line ${lineNo}: ${reason}`);
    if (!options.onError) throw error;
    broken = error;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const lineNo = i + 1;
    if (line.trim() === '') {
      if (broken) options.onError?.(broken);
      broken = undefined;
      skipToBlank = false;
      if (current && options.headersOnly) {
        finish();
        return { stanzas, body: lines.slice(i + 1).join('\n'), defects: [] };
      }
      finish();
      continue;
    }
    if (skipToBlank) continue;
    // deb822(5): lines starting with '#' are comments (control files); not valid in email headers.
    if (line.startsWith('#') && !options.headersOnly) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = current?.fields[current.fields.length - 1];
      if (!last) {
        fail(lineNo, 'continuation line with no field before it');
        current = undefined;
        skipToBlank = true;
        continue;
      }
      // deb822(5): a continuation line holding only " ." stands for an empty line.
      const piece = line.trim();
      last.value =
        last.value === '' ? (piece === '.' ? '' : piece) : `${last.value}\n${piece === '.' ? '' : piece}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!FIELD_NAME.test(name) && options.headersOnly && current) {
      const defect = `line ${lineNo}: body starts without a blank line after the headers`;
      finish();
      return { stanzas, body: lines.slice(i).join('\n'), defects: [defect] };
    }
    if (!FIELD_NAME.test(name)) {
      fail(lineNo, `expected "Field: value", got ${JSON.stringify(line.slice(0, 60))}`);
      current = undefined;
      skipToBlank = true;
      continue;
    }
    if (!current) current = { fields: [], line: lineNo };
    current.fields.push({ name, value: line.slice(colon + 1).trim() });
  }
  if (broken) options.onError?.(broken);
  finish();
  return { stanzas, body: '', defects: [] };
}

/** First value of a field (case-insensitive name), or undefined when absent. */
export function field(stanza: Stanza, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const f of stanza.fields) if (f.name.toLowerCase() === wanted) return f.value;
  return undefined;
}

/** Every value of a repeated field, in file order. */
export function fieldAll(stanza: Stanza, name: string): string[] {
  const wanted = name.toLowerCase();
  return stanza.fields.filter((f) => f.name.toLowerCase() === wanted).map((f) => f.value);
}
