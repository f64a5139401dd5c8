/**
 * The `<licenses>` of a Maven POM (`META-INF/maven/<g>/<a>/pom.xml` inside a jar): each
 * `project/licenses/license`'s `name` and `url` (POM reference, "Licenses"). Nothing else of the
 * POM is read, so this is a small reader of XML's surface, not an XML parser:
 *
 * - no entity expansion: a DOCTYPE (and any internal subset) is skipped, only the five predefined
 *   entities and character references are decoded, any other `&name;` stays as written (no
 *   "billion laughs", no external entities);
 * - namespaces are tolerated (`<pom:license>` is `license`), comments, processing instructions and
 *   CDATA sections are understood, attributes are skipped (quotes may hold `>`);
 * - bounded: the caller gives at most MAX_POM_BYTES (a real POM is a few KiB; jackson-databind's is
 *   13 KiB), the scan is one pass, and at most MAX_LICENSES entries are kept;
 * - tolerant: malformed markup ends the scan with what was read so far; it never throws.
 */

export const MAX_POM_BYTES = 1024 * 1024;
const MAX_LICENSES = 64;
const MAX_TEXT = 4096;

export interface PomLicense {
  name?: string;
  url?: string;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML character data → text: predefined entities and character references only (XML 1.0 §4.6, §4.1). */
export function decodeXmlText(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9._-]*);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : whole;
    }
    return PREDEFINED[ref] ?? whole;
  });
}

/** The local part of a qualified name (`pom:license` → `license`). */
function localName(qname: string): string {
  return qname.slice(qname.indexOf(':') + 1);
}

/**
 * Index just past the `>` that ends markup starting at `from`, skipping quoted attribute values and,
 * for a DOCTYPE, its `[…]` internal subset; -1 if none.
 */
function markupEnd(text: string, from: number, subset: boolean): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (subset && ch === '[') depth++;
    else if (subset && ch === ']') depth--;
    else if (ch === '>' && depth <= 0) return i + 1;
  }
  return -1;
}

const FIELDS = new Set(['name', 'url']);

/** `project > licenses > license > (name | url)`: the only text the reader keeps. */
function fieldOf(stack: readonly string[]): 'name' | 'url' | undefined {
  if (stack.length !== 4 || stack[0] !== 'project' || stack[1] !== 'licenses' || stack[2] !== 'license')
    return undefined;
  const field = stack[3]!;
  return FIELDS.has(field) ? (field as 'name' | 'url') : undefined;
}

function isLicensePath(stack: readonly string[]): boolean {
  return stack.length === 3 && stack[0] === 'project' && stack[1] === 'licenses' && stack[2] === 'license';
}

function clean(text: string): string | undefined {
  const t = text.replace(/\s+/g, ' ').trim();
  return t === '' ? undefined : t.slice(0, MAX_TEXT);
}

/** The licenses a POM declares, in order; empty when it declares none (or is not a POM). */
export function pomLicenses(xml: string): PomLicense[] {
  const text = xml.length > MAX_POM_BYTES ? xml.slice(0, MAX_POM_BYTES) : xml;
  const out: PomLicense[] = [];
  const stack: string[] = [];
  let current: PomLicense | undefined;
  let buffer = '';
  let i = 0;
  const keep = (chunk: string) => {
    if (fieldOf(stack) && buffer.length < MAX_TEXT) buffer += chunk;
  };
  while (i < text.length && out.length < MAX_LICENSES) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    keep(decodeXmlText(text.slice(i, lt)));
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) break;
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0) break;
      keep(text.slice(lt + 9, end));
      i = end + 3;
    } else if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (text.startsWith('<!', lt)) {
      const end = markupEnd(text, lt + 2, true);
      if (end < 0) break;
      i = end;
    } else {
      const end = markupEnd(text, lt + 1, false);
      if (end < 0) break;
      i = end;
      const tag = text.slice(lt + 1, end - 1);
      const closing = tag.startsWith('/');
      const selfClosing = !closing && tag.endsWith('/');
      const qname = /^\/?\s*([^\s/>]+)/.exec(tag)?.[1];
      if (!qname) continue;
      const name = localName(qname);
      if (closing) {
        const at = stack.lastIndexOf(name);
        if (at < 0) continue; // a stray end tag: ignored
        const field = fieldOf(stack);
        if (field && current && at === stack.length - 1) {
          const value = clean(buffer);
          if (value !== undefined) current[field] = value;
        }
        if (at === 2 && current && isLicensePath(stack.slice(0, 3))) {
          if (current.name !== undefined || current.url !== undefined) out.push(current);
          current = undefined;
        }
        stack.length = at;
        buffer = '';
      } else if (!selfClosing) {
        stack.push(name);
        buffer = '';
        if (isLicensePath(stack)) current = {};
      }
    }
  }
  return out;
}
