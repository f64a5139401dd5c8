/**
 * A jar's `META-INF/MANIFEST.MF` (JAR File Specification, "Manifest Specification"): the main
 * section's attributes, and the OSGi `Bundle-License` header (OSGi Core R8 §3.2.1.5) read from it.
 */

/**
 * The main section's attributes (the lines before the first blank line): `Name: value`, a line that
 * starts with one space continuing the previous value (lines are wrapped at 72 bytes). Names are
 * case-insensitive, so the map is keyed by the lowercased name; the first occurrence wins.
 */
export function manifestMainAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name !== undefined && !out.has(name)) out.set(name, value);
    name = undefined;
  };
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    if (line === '') break; // the end of the main section
    if (line.startsWith(' ')) {
      if (name !== undefined) value += line.slice(1);
      continue;
    }
    flush();
    const m = /^([A-Za-z0-9][A-Za-z0-9_-]*):\s?(.*)$/.exec(line);
    if (m) {
      name = m[1]!.toLowerCase();
      value = m[2]!;
    }
  }
  flush();
  return out;
}

export interface BundleLicense {
  /** The license's name: an SPDX expression, a URL, or a title. */
  name: string;
  /** The `link` attribute, a URL of the license text. */
  link?: string;
}

/** `text` split at `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === '\\' && quoted) i++;
    else if (ch === sep && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(text: string): string {
  const t = text.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
}

/** One clause: `name ( ';' attr '=' value )*`. */
function clause(text: string): BundleLicense | undefined {
  const [head, ...attrs] = splitOutsideQuotes(text, ';');
  const name = unquote(head ?? '');
  if (name === '') return undefined;
  const out: BundleLicense = { name };
  for (const attr of attrs) {
    const m = /^\s*link\s*:?=\s*(.*)$/is.exec(attr);
    if (m) out.link = unquote(m[1]!);
  }
  return out;
}

/**
 * `Bundle-License: Apache-2.0;link="https://…", "EPL-2.0"` → its licenses. `<<EXTERNAL>>` (the
 * license is not in the bundle) names none. OSGi separates clauses with commas, but tools also
 * write a plain title (`Apache License, Version 2.0`) there: `recognised` tells whether a clause's
 * name is a license on its own, and the value is split at its commas only when every part is one
 * (or a URL, or has attributes); otherwise the whole value is one name.
 */
export function bundleLicenses(value: string, recognised: (name: string) => boolean): BundleLicense[] {
  const text = value.trim();
  if (text === '' || text === '<<EXTERNAL>>') return [];
  const whole = clause(text);
  if (whole && !/[,;]/.test(text)) return [whole];
  if (whole && recognised(unquote(text))) return [{ name: unquote(text) }];
  const clauses = splitOutsideQuotes(text, ',').map((c) => c.trim());
  const parsed = clauses.map(clause);
  const standalone = parsed.every(
    (c, i) => c !== undefined && (recognised(c.name) || c.link !== undefined || clauses[i]!.includes(';')),
  );
  if (standalone)
    return parsed.filter((c): c is BundleLicense => c !== undefined && c.name !== '<<EXTERNAL>>');
  return whole ? [whole] : [];
}
