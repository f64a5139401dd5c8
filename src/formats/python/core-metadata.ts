/**
 * Python core metadata (packaging.python.org "Core metadata specifications"): the METADATA file of
 * a wheel and the PKG-INFO of an sdist. The format is RFC 822 headers as Python's `email.parser`
 * reads them (compat32): `Name: value` lines, continuation lines start with a space or tab, a blank
 * line ends the headers and the rest (Metadata-Version 2.1+) is the Description. Several fields may
 * appear more than once (Classifier, Project-URL, Requires-Dist…), so fields are kept as an ordered
 * list, each with its original text, so a stamper can change one field and leave every other byte.
 */
import { WaybillError } from '../../errors.ts';

export interface MetadataField {
  /** The name as written (`Home-page`); compare with `sameName`. */
  name: string;
  /** The value as email.parser (compat32) returns it: folded lines joined by `\n`, leading blanks removed. */
  value: string;
  /** The original lines (with their line ends) when read from a file; absent for new fields. */
  raw?: string;
}

export interface CoreMetadata {
  fields: MetadataField[];
  /** The message body: the Description in Metadata-Version 2.1+; undefined when there is none. */
  body?: string;
  /** The blank line (with its line end) between headers and body, kept so rewriting keeps it. */
  separator?: string;
}

/** Bigger than any real METADATA (setuptools' are a few KiB, with a long README maybe 1 MiB). */
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;

/** RFC 5322 §2.2: a field name is printable US-ASCII except the colon. */
const FIELD_LINE = /^([\x21-\x39\x3b-\x7e]+):/;

/** Header names are case-insensitive (RFC 5322 §1.2.2; email.message.Message lowercases them). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Parse METADATA / PKG-INFO bytes. Throws WaybillError (LIMIT, MALFORMED) and nothing else. */
export function parseCoreMetadata(data: Buffer | string, input: string): CoreMetadata {
  if (data.length > MAX_METADATA_BYTES) {
    throw new WaybillError('LIMIT', input, `core metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  }
  let text: string;
  if (typeof data === 'string') text = data;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      throw new WaybillError('MALFORMED', input, 'core metadata is not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // email.parser splits on universal newlines: a lone CR ends a line too.
  const lines = text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
  const fields: MetadataField[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    const bare = line.replace(/(?:\r\n|\r|\n)$/, '');
    if (bare === '') break;
    if (bare.startsWith(' ') || bare.startsWith('\t')) {
      // A continuation with no field before it is dropped, as email.parser does (a recorded defect).
      const last = fields[fields.length - 1];
      if (!last) continue;
      last.value = `${last.value}\n${bare}`;
      last.raw = `${last.raw ?? ''}${line}`;
      continue;
    }
    const m = FIELD_LINE.exec(bare);
    if (!m) {
      // email.parser records a defect and treats the rest as the body; a stricter reader would lose
      // real-world files (a stray line in a hand-written PKG-INFO), so do the same.
      break;
    }
    // compat32 strips leading blanks of the value and nothing else (trailing spaces are kept).
    fields.push({
      name: m[1] as string,
      value: bare.slice(m[1]!.length + 1).replace(/^[ \t]+/, ''),
      raw: line,
    });
  }
  const out: CoreMetadata = { fields };
  if (i < lines.length) {
    const first = lines[i] as string;
    const blank = /^(?:\r\n|\r|\n)$/.test(first);
    if (blank) out.separator = first;
    const body = lines.slice(blank ? i + 1 : i).join('');
    if (body !== '') out.body = body;
  }
  return out;
}

/** The first value of a field, undefined when absent or empty. */
export function getField(meta: CoreMetadata, name: string): string | undefined {
  for (const f of meta.fields) if (sameName(f.name, name) && f.value.trim() !== '') return f.value;
  return undefined;
}

/** Every value of a multiple-use field, in file order. */
export function getAll(meta: CoreMetadata, name: string): string[] {
  return meta.fields.filter((f) => sameName(f.name, name)).map((f) => f.value);
}

/**
 * The Description: the body (2.1+) or the Description header, whose continuation lines setuptools
 * writes as 8 spaces and a `|` (older tools: 8 spaces) — undone here.
 */
export function getDescription(meta: CoreMetadata): string | undefined {
  if (meta.body !== undefined && meta.body.trim() !== '') return meta.body;
  const header = getField(meta, 'Description');
  if (header === undefined) return undefined;
  return header
    .split('\n')
    .map((l, i) => (i === 0 ? l : l.replace(/^ {7}\||^ {8}|^\t/, '')))
    .join('\n');
}

/** Replace every occurrence of `name` with one field (at the first one's place, or at the end). */
export function setField(meta: CoreMetadata, name: string, value: string): void {
  const at = meta.fields.findIndex((f) => sameName(f.name, name));
  const field: MetadataField = { name: at >= 0 ? (meta.fields[at] as MetadataField).name : name, value };
  if (at < 0) {
    meta.fields.push(field);
    return;
  }
  meta.fields = meta.fields.filter((f, i) => i === at || !sameName(f.name, name));
  meta.fields[at] = field;
}

/** Remove the fields for which `drop` is true. */
export function removeFields(meta: CoreMetadata, drop: (f: MetadataField) => boolean): void {
  meta.fields = meta.fields.filter((f) => !drop(f));
}

/**
 * Insert a field after the last field of the same name (multiple-use fields stay together), or at
 * the end of the headers.
 */
export function addField(meta: CoreMetadata, name: string, value: string): void {
  let at = -1;
  meta.fields.forEach((f, i) => {
    if (sameName(f.name, name)) at = i;
  });
  const field: MetadataField = { name, value };
  if (at < 0) meta.fields.push(field);
  else meta.fields.splice(at + 1, 0, field);
}

/**
 * Serialize. Fields read from a file keep their original text; new or changed ones are written as
 * `Name: value` with continuation lines indented by 8 spaces (a value cannot hold a bare newline,
 * or the next line would become a field). The body follows a blank line.
 */
export function serializeCoreMetadata(meta: CoreMetadata): string {
  let out = '';
  for (const f of meta.fields) {
    if (f.raw !== undefined) {
      out += f.raw.endsWith('\n') ? f.raw : `${f.raw}\n`;
      continue;
    }
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f.name)) {
      throw new WaybillError('USAGE', f.name, 'not a valid core metadata field name');
    }
    const lines = f.value.replace(/\r\n?/g, '\n').split('\n');
    out += `${f.name}: ${lines[0]}\n`;
    for (const l of lines.slice(1)) out += `        ${l}\n`;
  }
  if (meta.body !== undefined) out += `${meta.separator ?? '\n'}${meta.body}`;
  return out;
}

/** A Project-URL value: `label, url` (the label may itself contain commas; the URL is after the last). */
export function parseProjectUrl(value: string): { label: string; url: string } | undefined {
  const comma = value.lastIndexOf(',');
  if (comma < 0) return undefined;
  const label = value.slice(0, comma).trim();
  const url = value.slice(comma + 1).trim();
  if (label === '' || url === '') return undefined;
  return { label, url };
}

/**
 * Label normalization from "Well-known Project URLs in Metadata" (PEP 753): remove ASCII
 * punctuation and whitespace, then lowercase.
 */
export function normalizeProjectUrlLabel(label: string): string {
  return label.replace(/[!-/:-@[-`{-~ \t\n\r\v\f]/g, '').toLowerCase();
}

/** The well-known labels (and their aliases) that waybill's facts use, after normalization. */
export const WELL_KNOWN_LABELS = {
  homepage: ['homepage'],
  source: ['source', 'repository', 'sourcecode', 'github'],
  documentation: ['documentation', 'docs'],
  issues: ['issues', 'bugs', 'issue', 'tracker', 'issuetracker', 'bugtracker'],
} as const;

export type WellKnownLabel = keyof typeof WELL_KNOWN_LABELS;

export function wellKnownLabel(label: string): WellKnownLabel | undefined {
  const n = normalizeProjectUrlLabel(label);
  for (const [key, aliases] of Object.entries(WELL_KNOWN_LABELS)) {
    if ((aliases as readonly string[]).includes(n)) return key as WellKnownLabel;
  }
  return undefined;
}
